"""A listener on the host for the no-network tests: whatever reaches it is kept.

UDP and TCP on 127.0.0.1 and ::1 (where the host has IPv6), each on a free
port; `ports` maps the host to (udp, tcp) for the attack code to aim at. A
raw IPv4 packet or a packet socket frame carrying a UDP datagram to that port
arrives at the UDP socket too, so one listener hears every socket family that
could carry bytes off the machine's loopback.
"""
import socket
import threading
import time


class Listener:
    """UDP and TCP on 127.0.0.1 (and ::1 when the host has it): every byte that
    reaches them is kept in `got` (a TCP connection as b"connect:" + its bytes)."""

    def __init__(self):
        self.got, self.socks, self.stop = [], [], threading.Event()
        hosts = [(socket.AF_INET, "127.0.0.1")]
        if socket.has_ipv6:
            hosts.append((socket.AF_INET6, "::1"))
        self.ports = {}
        for family, host in hosts:
            try:
                u = socket.socket(family, socket.SOCK_DGRAM)
                u.bind((host, 0))
                t = socket.socket(family, socket.SOCK_STREAM)
                t.bind((host, 0))
                t.listen(8)
            except OSError:
                continue
            self.ports[host] = (u.getsockname()[1], t.getsockname()[1])
            self.socks += [u, t]
        for s in self.socks:
            s.settimeout(0.1)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            for s in self.socks:
                try:
                    if s.type == socket.SOCK_DGRAM:
                        self.got.append(s.recv(65536))
                    else:
                        conn, _ = s.accept()
                        conn.settimeout(0.5)
                        self.got.append(b"connect:" + conn.recv(65536))
                        conn.close()
                except OSError:
                    pass

    def close(self):
        """Stop listening (idempotent); `got` then holds everything received."""
        if self.stop.is_set():
            return
        time.sleep(0.5)          # anything in flight arrives
        self.stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()

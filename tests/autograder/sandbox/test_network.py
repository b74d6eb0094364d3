"""No network from the jail, in either sandbox mode: a listener on the host hears
nothing, no socket of any family can be made, and every attempt is noted."""
import os
import socket

import pytest

from autograder.sandbox import WorkerProcess, bwrap_available
from autograder.sandbox import container
from tests.e2e.adversarial.listener import Listener

MARKER = b"H15-NETWORK-MARKER"
# socket(2) families of <linux/socket.h> (AF_UNSPEC .. AF_MCTP and beyond).
FAMILIES = range(0, 50)
TYPES = (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_SEQPACKET,
         socket.SOCK_RDM)


@pytest.fixture
def listener():
    listen = Listener()
    yield listen
    listen.close()


@pytest.fixture(params=["bubblewrap", "container"])
def sandbox(request, monkeypatch):
    if request.param == "bubblewrap":
        if not bwrap_available():
            pytest.skip("bubblewrap cannot run here")
        from autograder.sandbox.bubblewrap import BubblewrapMode
        yield BubblewrapMode()
        return
    if os.geteuid() != 0:
        pytest.skip("container mode runs as root")
    monkeypatch.setattr(container, "grader_paths", lambda extra=(): ([], []))
    m = container.ContainerMode()
    yield m
    m.close()


# Differently written attempts; each returns 1.0 when a byte left the process.
ATTEMPTS = r'''
import socket, os
MARK = %(marker)r
PORTS = %(ports)r

def _try(f):
    try:
        f()
        return 1.0
    except Exception:
        return 0.0

def udp_sendto():
    sent = 0.0
    for host, (udp, tcp) in PORTS.items():
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        sent += _try(lambda: socket.socket(fam, socket.SOCK_DGRAM).sendto(MARK, (host, udp)))
    return sent

def tcp_connect():
    sent = 0.0
    for host, (udp, tcp) in PORTS.items():
        sent += _try(lambda: socket.create_connection((host, tcp), timeout=1).sendall(MARK))
    return sent

def raw_ip():
    # An IPv4 packet carrying a UDP datagram to the listener, built by hand.
    import struct
    host, (udp, tcp) = next(iter(PORTS.items()))
    def send():
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
        s.sendto(struct.pack("!HHHH", 40000, udp, 8 + len(MARK), 0) + MARK, (host, 0))
    return _try(send)

def packet_and_netlink():
    made = 0.0
    for fam, typ, proto in ((socket.AF_PACKET, socket.SOCK_RAW, 0x0300),
                            (socket.AF_NETLINK, socket.SOCK_RAW, 0),
                            (socket.AF_UNIX, socket.SOCK_DGRAM, 0)):
        made += _try(lambda: socket.socket(fam, typ, proto))
    made += _try(lambda: socket.socketpair())
    made += _try(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(MARK, "/dev/log"))
    return made

def every_family():
    import _socket
    made = 0.0
    for fam in %(families)r:
        for typ in %(types)r:
            made += _try(lambda: _socket.socket(fam, typ, 0))
    return made

def libc_syscalls():
    # The same through libc, past the socket module (and its audit events).
    import ctypes, struct
    libc = ctypes.CDLL(None, use_errno=True)
    host, (udp, tcp) = next(iter(PORTS.items()))
    made = 0.0
    for fam, typ in ((2, 2), (2, 1), (2, 3), (17, 3), (16, 3), (10, 2), (1, 2)):
        fd = libc.socket(fam, typ, 0)
        if fd >= 0:
            made += 1
            addr = struct.pack("=HH4s8x", 2, socket.htons(udp), socket.inet_aton("127.0.0.1"))
            libc.sendto(fd, MARK, len(MARK), 0, addr, len(addr))
    return made
'''
NAMES = ("udp_sendto", "tcp_connect", "raw_ip", "packet_and_netlink", "every_family",
         "libc_syscalls")


def test_no_byte_reaches_a_listener_on_the_host_and_every_try_is_noted(sandbox, listener):
    assert listener.ports, "no listener could be opened on this host"
    src = ATTEMPTS % {"marker": MARKER, "ports": listener.ports, "families": list(FAMILIES),
                      "types": [int(t) for t in TYPES]}
    with WorkerProcess(sandbox=sandbox) as w:
        assert w.request({"op": "secrets", "paths": []}, 20)["ok"]
        assert w.request({"op": "exec", "name": "net", "source": src}, 30)["ok"]
        made = {}
        for name in NAMES:
            r = w.request({"op": "call", "fn": name, "calls": [[]]}, 120)
            made[name] = float(r["results"][0]["value"])
        notes = r["suspicious"]
    listener.close()
    assert made == dict.fromkeys(NAMES, 0.0), made
    assert listener.got == [], listener.got[:3]
    assert any("socket" in n for n in notes), notes
    assert any("ctypes" in n for n in notes), notes


def test_the_listener_does_hear_code_outside_the_jail(listener):
    """The test's own control: the same attempt, unjailed, is heard."""
    host, (udp, tcp) = next(iter(listener.ports.items()))
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    socket.socket(fam, socket.SOCK_DGRAM).sendto(MARKER, (host, udp))
    socket.create_connection((host, tcp), timeout=2).sendall(MARKER)
    listener.close()
    assert MARKER in listener.got and b"connect:" + MARKER in listener.got, listener.got

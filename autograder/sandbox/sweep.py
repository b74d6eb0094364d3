"""Container mode's end-of-batch sweep: nothing a student uid made outlives the batch.

Guarantee: `sweep(uids, writable_folders())` removes every file system entry
owned by one of `uids` in every folder those uids could write to (each folder
of the machine that others may enter and write: /tmp, /var/tmp, /dev/shm,
/run/lock and any other, found by a walk that skips /proc, /sys and what
others cannot enter), every
System V shared memory segment, message queue and semaphore set they own, and
every POSIX message queue they own (through /dev/mqueue, or an mqueue mount made
for the sweep). Returns what it removed, by kind.

A second wall: the seccomp allow-list already refuses every call that makes an
inode or an IPC object. The walk (find(1), or the same in Python where find is
missing) takes about 1 s of CPU for 500 000 entries; container mode runs it
beside the batch, once, in a process of its own (at the lowest priority a loaded
machine starved it: the batch then waited for it).
"""
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

SKIP = ("/proc", "/sys")
SYSVIPC = ("shm", "msg", "sem")                 # /proc/sysvipc/<kind>
_IPC_RMID = 0
_MNT_DETACH = 2


def start_walk(top="/", skip=SKIP):
    """A started search for writable_folders(top, skip) in a process of its own (find(1):
    no GIL taken from grading); give it to `folders`.
    None where find is missing (then call writable_folders)."""
    find = shutil.which("find")
    if find is None:
        return None
    pruned = []
    for p in skip:
        pruned += ["-path", p, "-o"]
    cmd = [find, top, "(", *pruned[:-1], ")", "-prune", "-o", "-type", "d", "!", "-perm",
           "-0001", "-prune", "-o", "-type", "d", "-perm", "-0002", "-print0"]
    try:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None


def folders(walk, top="/", skip=SKIP):
    """The writable folders a start_walk(top, skip) found (walked here if it could not)."""
    if walk is None:
        return writable_folders(top, skip)
    out, _ = walk.communicate()
    return [p for p in os.fsdecode(out).split("\0") if p]


def writable_folders(top="/", skip=SKIP):
    """Folders that others may enter (all the way down) and write to."""
    found, stack = [], [top]
    while stack:
        d = stack.pop()
        try:
            entries = os.scandir(d)
        except OSError:
            continue
        with entries:
            for e in entries:
                try:
                    if not e.is_dir(follow_symlinks=False) or e.path in skip:
                        continue
                    mode = e.stat(follow_symlinks=False).st_mode
                except OSError:
                    continue
                if not mode & 0o001:
                    continue        # others cannot enter: nothing below is theirs to reach
                if mode & 0o002:
                    found.append(e.path)
                stack.append(e.path)
    return found


def remove_owned(folders, uids):
    """Remove the entries of `folders` owned by one of `uids`; their paths."""
    removed = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            try:
                st = e.stat(follow_symlinks=False)
                if st.st_uid not in uids:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(e.path)
                else:
                    os.unlink(e.path)
                removed.append(e.path)
            except OSError:
                pass
    return removed


def _sysv_owned(kind, uids, root="/proc/sysvipc"):
    """Ids of System V objects of `kind` (shm, msg, sem) owned or created by `uids`."""
    try:
        lines = Path(root, kind).read_text().splitlines()
    except OSError:
        return []
    if not lines:
        return []
    head = lines[0].split()
    ids = []
    for line in lines[1:]:
        row = dict(zip(head, line.split()))
        try:
            if int(row["uid"]) in uids or int(row["cuid"]) in uids:
                ids.append(int(row[{"shm": "shmid", "msg": "msqid", "sem": "semid"}[kind]]))
        except (KeyError, ValueError):
            continue
    return ids


def c_library():
    """The C library through ctypes, imported here: only the container mode's mounts and
    sweeps call into it, and importing ctypes is ~4 ms of every grader's start."""
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def remove_ipc(uids):
    """Remove System V objects and POSIX message queues owned by `uids`; [(kind, id)]."""
    libc = c_library()
    rmid = {"shm": lambda i: libc.shmctl(i, _IPC_RMID, None),
            "msg": lambda i: libc.msgctl(i, _IPC_RMID, None),
            "sem": lambda i: libc.semctl(i, 0, _IPC_RMID)}
    removed = []
    for kind in SYSVIPC:
        for ident in _sysv_owned(kind, uids):
            if rmid[kind](ident) == 0:
                removed.append((kind, ident))
    removed += [("mqueue", p) for p in _remove_mqueues(uids)]
    return removed


def _mqueue_mounts():
    try:
        with open("/proc/self/mounts") as f:
            return [ln.split()[1] for ln in f if ln.split()[2:3] == ["mqueue"]]
    except OSError:
        return []


def _remove_mqueues(uids):
    """POSIX message queues of `uids`, seen through an mqueue mount (made for the
    sweep where none is mounted, when root may mount one)."""
    mounts = _mqueue_mounts()
    if mounts:
        return remove_owned(mounts[:1], uids)
    where = tempfile.mkdtemp(prefix="autograder-mqueue-")
    libc = c_library()
    try:
        if libc.mount(b"mqueue", where.encode(), b"mqueue", 0, None) != 0:
            return []
        try:
            return [os.path.join("/dev/mqueue", os.path.basename(p))
                    for p in remove_owned([where], uids)]
        finally:
            libc.umount2(where.encode(), _MNT_DETACH)
    finally:
        os.rmdir(where)


def sweep(uids, folders):
    """Everything `uids` left in `folders` (see writable_folders) or as IPC objects,
    removed: {"files": [paths], "ipc": [(kind, id)]}."""
    uids = frozenset(uids)
    if not uids:
        return {"files": [], "ipc": []}
    return {"files": remove_owned(folders, uids), "ipc": remove_ipc(uids)}


def main(argv=None):
    """`python -m autograder.sandbox.sweep OUT.json`: the writable folders of this
    machine, for an image that is built once and grades in fresh copies of itself
    (Gradescope's setup.sh), so no batch walks them again."""
    import json
    import sys
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m autograder.sandbox.sweep OUT.json")
    with open(args[0], "w", encoding="utf-8") as f:
        json.dump(sorted(folders(start_walk())), f, indent=0)
    return 0


def load(path):
    """The folder list main() wrote, or None when there is none to trust."""
    import json
    try:
        with open(path, encoding="utf-8") as f:
            found = json.load(f)
    except (OSError, ValueError):
        return None
    ok = isinstance(found, list) and all(isinstance(p, str) and p.startswith("/") for p in found)
    return found if ok else None


if __name__ == "__main__":
    raise SystemExit(main())

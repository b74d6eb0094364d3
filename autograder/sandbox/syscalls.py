"""System call numbers and the kernel's constants the seccomp filter names.

Guarantee: `ARCHES[arch]` gives the AUDIT_ARCH_* value of `arch` and the
number of every system call the filter allows or checks there. Numbers are the
kernel's uapi ones (`asm/unistd_64.h` for x86_64, `asm-generic/unistd.h` for
aarch64); a name absent from an architecture's table (aarch64 has no `open`,
`stat`, `poll`...) simply does not exist there. Nothing else is listed: the
filter refuses every number it does not name, so a call missing here is refused.
"""

X86_64 = {
    "read": 0, "write": 1, "open": 2, "close": 3, "stat": 4, "fstat": 5, "lstat": 6,
    "poll": 7, "lseek": 8, "mmap": 9, "mprotect": 10, "munmap": 11, "brk": 12,
    "rt_sigaction": 13, "rt_sigprocmask": 14, "rt_sigreturn": 15, "ioctl": 16,
    "pread64": 17, "pwrite64": 18, "readv": 19, "writev": 20, "access": 21, "select": 23,
    "sched_yield": 24, "mremap": 25, "madvise": 28, "dup": 32, "dup2": 33, "nanosleep": 35,
    "getpid": 39, "exit": 60, "uname": 63, "fcntl": 72, "getcwd": 79, "readlink": 89,
    "gettimeofday": 96, "getrlimit": 97, "getrusage": 98, "sysinfo": 99, "times": 100,
    "getuid": 102, "getgid": 104, "geteuid": 107, "getegid": 108, "getppid": 110,
    "getpgrp": 111, "getgroups": 115, "getresuid": 118, "getresgid": 120, "getpgid": 121,
    "getsid": 124, "sigaltstack": 131, "statfs": 137, "fstatfs": 138, "gettid": 186,
    "time": 201, "futex": 202, "sched_getaffinity": 204, "getdents64": 217,
    "restart_syscall": 219, "fadvise64": 221, "clock_gettime": 228, "clock_getres": 229,
    "clock_nanosleep": 230, "exit_group": 231, "mbind": 237, "set_mempolicy": 238,
    "get_mempolicy": 239, "openat": 257, "newfstatat": 262, "readlinkat": 267,
    "faccessat": 269, "pselect6": 270, "ppoll": 271, "set_robust_list": 273,
    "get_robust_list": 274, "dup3": 292, "prlimit64": 302, "getrandom": 318, "statx": 332,
    "rseq": 334, "faccessat2": 439,
}

AARCH64 = {
    "getcwd": 17, "dup": 23, "dup3": 24, "fcntl": 25, "ioctl": 29, "faccessat": 48,
    "openat": 56, "close": 57, "getdents64": 61, "lseek": 62, "read": 63, "write": 64,
    "readv": 65, "writev": 66, "pread64": 67, "pwrite64": 68, "pselect6": 72, "ppoll": 73,
    "readlinkat": 78, "newfstatat": 79, "fstat": 80, "statfs": 43, "fstatfs": 44,
    "exit": 93, "exit_group": 94, "futex": 98, "set_robust_list": 99, "get_robust_list": 100,
    "nanosleep": 101, "clock_gettime": 113, "clock_getres": 114, "clock_nanosleep": 115,
    "sched_getaffinity": 123, "sched_yield": 124, "restart_syscall": 128, "sigaltstack": 132,
    "rt_sigaction": 134, "rt_sigprocmask": 135, "rt_sigreturn": 139, "times": 153,
    "getpgid": 155, "getsid": 156, "getgroups": 158, "uname": 160, "getrlimit": 163,
    "getrusage": 165, "gettimeofday": 169, "getpid": 172, "getppid": 173, "getuid": 174,
    "geteuid": 175, "getgid": 176, "getegid": 177, "gettid": 178, "sysinfo": 179,
    "getresuid": 148, "getresgid": 150, "brk": 214, "munmap": 215, "mremap": 216,
    "mmap": 222, "fadvise64": 223, "mprotect": 226, "madvise": 233, "mbind": 235,
    "get_mempolicy": 236, "set_mempolicy": 237, "prlimit64": 261, "getrandom": 278,
    "statx": 291, "rseq": 293, "faccessat2": 439,
}

# arch -> (AUDIT_ARCH_* of <linux/audit.h>, {name: number})
ARCHES = {
    "x86_64": (0xC000003E, X86_64),
    "aarch64": (0xC00000B7, AARCH64),
}
X32_BIT = 0x40000000        # x86_64's x32 ABI: numbers with this bit set

# <asm-generic/fcntl.h> (the same values on x86_64 and aarch64)
O_CREAT = 0o100
O_TMPFILE = 0o20000000      # __O_TMPFILE, without O_DIRECTORY
# <asm-generic/fcntl.h>, <linux/fcntl.h>
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_DUPFD_CLOEXEC = 1030
# <asm-generic/ioctls.h> (x86_64 and aarch64 share them)
TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX = 0x5401, 0x5413, 0x541B, 0x5421, 0x5451

"""OS isolation of a process that is about to run untrusted code; no root needed.

`apply(policy)` is called in the child, after fork and after torch is imported, and before
the student's file is read. In this order:

1. `PR_SET_PDEATHSIG` (SIGKILL): the child dies with the process that started it.
2. rlimits: CPU seconds, address space, processes, file size, open files, no core dumps.
3. `PR_SET_NO_NEW_PRIVS`, then **landlock** (syscalls 444-446 through ctypes): from here on
   the process may read only the paths of `policy.read` (the Python and torch installation,
   system libraries, /proc/self, a few devices) and the submission file itself, and may
   write only `policy.write` (a private temporary directory). With landlock ABI 4 TCP bind
   and connect are refused too; with ABI 6 signals to processes outside the sandbox and
   abstract unix sockets are refused.
4. **seccomp** (libseccomp through `pyseccomp`): the syscalls a solution never needs fail
   with EPERM: sockets, exec, fork/vfork and clone of a process (clone with CLONE_THREAD,
   i.e. a thread, is allowed; clone3 fails with ENOSYS so glibc falls back to clone), signals
   to any process but itself (kill, tgkill, rt_*sigqueueinfo; tkill and pidfd_* always),
   ptrace, process_vm_readv/writev, raising rlimits, mount/namespaces, io_uring, bpf, and
   changing metadata (chmod, chown, utimes, xattrs), which landlock does not govern.
   Syscalls of another architecture (int 0x80) kill the process.

Since no process can be created, the child can leave nothing behind: killing its pid is
killing its tree (a process group would not be enough: a process may `setsid`).

Each step that the kernel or the installation cannot provide is recorded in
`Protections.missing` instead of failing, so the caller decides: `exercise` reports it, and
grading untrusted code refuses to run unless the user accepts a weaker sandbox.

Everything here is importable without torch, and `probe()` can be called in the parent to
know in advance what a child will get.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal
import sys
from dataclasses import dataclass, field

# prctl options (linux/prctl.h)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38

# landlock (linux/landlock.h); the syscall numbers are the same on every architecture.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_READ_FILE | FS_READ_DIR

CLONE_THREAD = 0x00010000

# Read-only, besides the installation: the loader's files and what libc and torch read.
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/usr/local/lib", "/lib", "/lib64",
               "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
               "/proc/self", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
               "/sys/devices/system/cpu")

DENIED_SYSCALLS = (
    # network
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
    "sendmsg", "sendmmsg",
    # programs and processes (clone and clone3 are handled apart: threads are allowed)
    "execve", "execveat", "fork", "vfork",
    # other processes
    "tkill", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "ptrace", "process_vm_readv",
    "process_vm_writev", "kcmp",
    # limits, privileges, namespaces, kernel surfaces no solution needs
    "setrlimit", "mount", "umount2", "unshare", "setns", "chroot", "pivot_root", "bpf",
    "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key", "init_module", "finit_module", "delete_module",
    "kexec_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "open_by_handle_at",
    "name_to_handle_at", "fanotify_init", "setuid", "setgid", "setreuid", "setregid",
    "setresuid", "setresgid", "setgroups", "mknod", "mknodat",
    # metadata, which landlock does not govern: chmod/chown/times/xattrs of readable files
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat",
)
SIGNAL_SYSCALLS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")

PROTECTIONS = ("pdeathsig", "rlimits", "landlock", "seccomp")


@dataclass(frozen=True)
class Policy:
    """What the sandboxed process may do. Paths must be absolute."""

    read: tuple[str, ...] = ()  # directories or files, read-only
    write: str | None = None  # one private directory, read-write
    memory_mb: int = 1024  # address space beyond what is mapped when `apply` runs
    cpu_seconds: float = 60.0  # beyond what was used when `apply` runs
    file_bytes: int = 64 * 2**20
    open_files: int = 64  # beyond the highest descriptor open when `apply` runs
    threads: int = 16  # RLIMIT_NPROC headroom beyond the user's current tasks


@dataclass(frozen=True)
class Protections:
    """Which protections are in force; `missing` says why each absent one is absent."""

    active: tuple[str, ...] = ()
    missing: tuple[tuple[str, str], ...] = ()  # (protection, why)
    landlock_abi: int = 0

    @property
    def complete(self) -> bool:
        return not self.missing

    def report(self) -> str:
        parts = [f"{name}: active" + (f" (ABI {self.landlock_abi})" if name == "landlock" else "")
                 for name in self.active]
        parts += [f"{name}: MISSING ({why})" for name, why in self.missing]
        return "; ".join(parts)

    def to_json(self) -> dict:
        return {"active": list(self.active), "missing": dict(self.missing),
                "landlock_abi": self.landlock_abi, "complete": self.complete}


@dataclass
class _Record:
    active: list[str] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    abi: int = 0

    def freeze(self) -> Protections:
        return Protections(tuple(self.active), tuple(self.missing), self.abi)


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                           ctypes.c_ulong]
    return libc


def _prctl(libc, option: int, arg: int = 0) -> None:
    if libc.prctl(option, arg, 0, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))


def landlock_abi() -> int:
    """The kernel's landlock ABI version, 0 when landlock is absent or disabled."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = _libc()
    abi = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return int(abi) if abi > 0 else 0


def seccomp_available() -> str:
    """'' when seccomp filters can be loaded here, else the reason they cannot."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError) as exc:  # the module, or libseccomp.so, is absent
        return f"pyseccomp/libseccomp unavailable: {exc}"
    try:
        with open("/proc/self/status") as status:
            if not any(line.startswith("Seccomp:") for line in status):
                return "the kernel has no seccomp"
    except OSError:
        pass
    return ""


def probe() -> Protections:
    """What `apply` would achieve in a child of this process, without applying anything."""
    record = _Record()
    if sys.platform.startswith("linux"):
        record.active += ["pdeathsig", "rlimits"]
    else:
        record.missing += [("pdeathsig", "not Linux"), ("rlimits", "not Linux")]
    record.abi = landlock_abi()
    if record.abi:
        record.active.append("landlock")
    else:
        record.missing.append(("landlock", "the kernel has no landlock (or it is disabled)"))
    why = seccomp_available()
    if why:
        record.missing.append(("seccomp", why))
    else:
        record.active.append("seccomp")
    return record.freeze()


def apply(policy: Policy) -> Protections:
    """Isolate the calling process (see the module's docstring). Irreversible."""
    record = _Record()
    libc = _libc()
    parent = os.getppid()
    try:
        _prctl(libc, PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the call
            os._exit(1)
        record.active.append("pdeathsig")
    except OSError as exc:
        record.missing.append(("pdeathsig", str(exc)))
    try:
        _limits(policy)
        record.active.append("rlimits")
    except (OSError, ValueError) as exc:
        record.missing.append(("rlimits", str(exc)))
    try:
        _prctl(libc, PR_SET_DUMPABLE, 0)  # no core files; /proc/self/mem stays its own
        _prctl(libc, PR_SET_NO_NEW_PRIVS, 1)
    except OSError as exc:
        record.missing.append(("no_new_privs", str(exc)))
    # The filter is built before landlock: finding libseccomp reads files landlock then hides.
    rules = None
    why = seccomp_available()
    if why:
        record.missing.append(("seccomp", why))
    else:
        try:
            rules = _seccomp_rules()
        except (OSError, RuntimeError, ValueError) as exc:
            record.missing.append(("seccomp", str(exc)))
    try:
        record.abi = _landlock(libc, policy)
        record.active.append("landlock")
    except OSError as exc:
        record.missing.append(("landlock", str(exc)))
    if rules is not None:
        try:
            rules.load()
            record.active.append("seccomp")
        except (OSError, RuntimeError, ValueError) as exc:
            record.missing.append(("seccomp", str(exc)))
    return record.freeze()


# -- rlimits --------------------------------------------------------------------------------


def _limits(policy: Policy) -> None:
    with open("/proc/self/status") as status:
        vm_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    tasks = _user_tasks()
    highest_fd = max((int(n) for n in os.listdir("/proc/self/fd")), default=2)
    cap = vm_kb * 1024 + policy.memory_mb * 2**20
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime + policy.cpu_seconds) + 1
    files = highest_fd + 1 + policy.open_files
    for limit, value in ((resource.RLIMIT_AS, cap), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, policy.file_bytes),
                         (resource.RLIMIT_NOFILE, files), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, tasks + policy.threads)):
        soft, hard = value, value + 1 if limit == resource.RLIMIT_CPU else value
        current = resource.getrlimit(limit)[1]
        if current != resource.RLIM_INFINITY:
            hard = min(hard, current)
            soft = min(soft, hard)
        resource.setrlimit(limit, (soft, hard))


def _user_tasks() -> int:
    """Tasks (threads included: what RLIMIT_NPROC counts) of this real user."""
    uid = os.getuid()
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            count += int(fields.get("Threads", "1").strip() or 1)
    return count


# -- landlock -------------------------------------------------------------------------------


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: EXECUTE ... MAKE_SYM
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _landlock(libc, policy: Policy) -> int:
    abi = landlock_abi()
    if abi <= 0:
        raise OSError(errno.ENOSYS, "the kernel has no landlock (or it is disabled)")
    handled = _fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(ctypes.c_long(SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"landlock_create_ruleset: {os.strerror(code)}")
    try:
        for path in policy.read:
            _allow(libc, ruleset, path, READ_RIGHTS)
        if policy.write:
            _allow(libc, ruleset, policy.write, handled & ~FS_EXECUTE)
        if libc.syscall(ctypes.c_long(SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")
    finally:
        os.close(ruleset)
    return abi


def _allow(libc, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent on this system: nothing to allow
    try:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        if libc.syscall(ctypes.c_long(SYS_LANDLOCK_ADD_RULE), ctypes.c_int(ruleset),
                        ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                        ctypes.c_uint32(0)) != 0:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_add_rule {path}: {os.strerror(code)}")
    finally:
        os.close(fd)


# -- seccomp --------------------------------------------------------------------------------


def _seccomp_rules():
    """The filter, built but not loaded."""
    import pyseccomp as sc

    me = os.getpid()
    deny = sc.ERRNO(errno.EPERM)
    rules = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            rules.add_rule(deny, name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture (e.g. fork on arm64)
    # A process, not a thread: any clone without CLONE_THREAD.
    rules.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_THREAD, 0))
    # clone3 passes its flags in memory, which seccomp cannot read: ENOSYS makes glibc use clone.
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for name in SIGNAL_SYSCALLS:  # signals to itself only
        rules.add_rule(deny, name, sc.Arg(0, sc.NE, me))
    rules.add_rule(deny, "prlimit64", sc.Arg(2, sc.NE, 0))  # reading limits is fine
    return rules


def standard_read_paths(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The installation a Python process with torch needs to read, plus `extra`."""
    import site
    import sysconfig

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))]
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            paths.append(sysconfig.get_paths()[key])
        except KeyError:
            pass
    try:
        paths += site.getsitepackages()
    except AttributeError:
        pass
    paths += SYSTEM_READ
    paths += extra
    out: list[str] = []
    for path in paths:
        if path and os.path.isabs(path) and path not in out:
            out.append(path)
    return tuple(out)

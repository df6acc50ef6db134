"""Helpers for the simulator tests: rules from auditctl text (the real parser), records with
fully known values unless a test says otherwise."""
from __future__ import annotations

from tracerule.audit.record import UNSET, FileRef, Name, Record
from tracerule.audit.rules import ParseOptions, parse_text
from tracerule.audit.simulate import compile_rules, simulate, simulate_naive
from tracerule.audit.tables import AUDIT_ARCH, table

X86 = AUDIT_ARCH["x86_64"]
I386 = AUDIT_ARCH["i386"]
PROBE = FileRef("/srv/lab/probe", 8, 4242, "/srv/lab/probe")

O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND = 0, 1, 2, 0o100, 0o1000, 0o2000


def rules(text: str, *, resolver=None, is_dir=None):
    """Parse auditctl text with the real parser (errors fail the test) and compile it."""
    opts = ParseOptions(is_dir=is_dir or (lambda p: False), user=lambda n: {"root": 0}.get(n),
                        group=lambda n: {"root": 0, "adm": 4}.get(n))
    res = parse_text(text, options=opts)
    errors = [d for d in res.diagnostics if d.severity.name == "ERROR"]
    assert not errors, errors
    return compile_rules(res.items, file_identity=resolver)


def nr(name: str, arch: str = "x86_64") -> int:
    n = table(arch).nr(name)
    assert n is not None, (arch, name)
    return n


def rec(syscall: str | int, arch: str = "x86_64", **kw) -> Record:
    """A record with every value known: root with no login, exit 0, no names, no sockaddr."""
    a = AUDIT_ARCH[arch]
    n = syscall if isinstance(syscall, int) else nr(syscall, arch)
    d = dict(exit=0, a0=0, a1=0, a2=0, a3=0, pid=100, ppid=1, uid=0, euid=0, suid=0, fsuid=0,
             gid=0, egid=0, sgid=0, fsgid=0, groups=(), auid=UNSET, sessionid=UNSET, pers=0,
             comm="probe", exe=PROBE, names=(), saddr_fam=-1)
    d.update(kw)
    return Record(a, n, **d)


def decide(compiled, record, *, naive_check: bool = True):
    """The decision for one record (None when no rule decided it); also checks the naive
    reference agrees."""
    ds = list(simulate(compiled, [record]))
    if naive_check:
        ns = list(simulate_naive(compiled, [record]))
        assert [_k(d) for d in ds] == [_k(d) for d in ns], (ds, ns)
    if not ds or ds[0].action == "none":
        return None
    return ds[0]


def _k(d):
    return (d.index, d.rule, d.action, d.key, d.via, d.excluded, frozenset(d.assumptions))


def key_of(compiled, record):
    """The key of the logged event, '' for a logged event without key, None when nothing is
    logged."""
    d = decide(compiled, record)
    if d is None or not d.logged:
        return None
    return d.key or ""


def fname(path: str, ino: int, *, dev: int = 8, mode: int = 0o100644, nametype: str = "NORMAL",
          ouid: int = 0, ogid: int = 0, ancestry=None) -> Name:
    """A synthetic name whose identity is (dev, ino) and realpath is path."""
    return Name(path, realpath=path, dev=dev, ino=ino, mode=mode, ouid=ouid, ogid=ogid,
                nametype=nametype, ancestry=ancestry)

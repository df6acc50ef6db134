"""The facts every step needs about one trace: its graph, sidecar, programs and kernel-view records.

:class:`TraceContext` answers "which process did line L", "what was its program image then (as a
realpath, with (dev, ino) when the sidecar knows)", "what is its process chain", and builds the
:class:`~tracerule.audit.record.Record` the kernel's exit filter would see for one event, in the
numbering of the *target* machine (so rules for another arch are simulated on the same behaviour).
"""
from __future__ import annotations

import bisect
import os
import posixpath

from tracerule.audit.record import UNSET, FileRef, Name, Record
from tracerule.audit.simulate import PathFacts
from tracerule.audit.tables import AUDIT_ARCH, COMPAT, table

#: ELF interpreters by machine (when the sidecar does not name one)
DEFAULT_LOADER = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "i386": "/lib/ld-linux.so.2",
                  "aarch64": "/lib/ld-linux-aarch64.so.1", "arm": "/lib/ld-linux-armhf.so.3",
                  "ppc64le": "/lib64/ld64.so.2", "s390x": "/lib/ld64.so.1"}

_CTRL = {i: f"\\x{i:02x}" for i in range(0x20)}
_CTRL[0x7F] = "\\x7f"


def safe_text(text: str, limit: int = 160) -> str:
    """Text that can go into a ``#`` comment line or a terminal: no control or non-ASCII character
    survives (escaped as ``\\xNN``), at most ``limit`` characters."""
    out = []
    for ch in str(text):
        o = ord(ch)
        if o < 0x20 or o == 0x7F:
            out.append(_CTRL[o])
        elif o > 0x7E:
            b = ch.encode("utf-8", "surrogateescape")
            out.append("".join(f"\\x{x:02x}" for x in b))
        else:
            out.append(ch)
    s = "".join(out)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def basename(path: str) -> str:
    p = path.rstrip("/")
    return p.rsplit("/", 1)[-1] if p else path


class TraceContext:
    """One trace, read: graph, sidecar, and the lookups the synth steps need."""

    def __init__(self, path: str, graph, *, target_arch: str, trace_arch: str, uid_min: int) -> None:
        self.path = str(path)
        self.graph = graph
        self.sidecar = None
        sc_path = getattr(graph, "sidecar_used", None)
        if sc_path:
            from tracerule.sidecar import read_sidecar

            try:
                self.sidecar = read_sidecar(sc_path)
            except Exception:   # the graph already read it; a second failure is not ours to report
                self.sidecar = None
        self.target_arch = target_arch
        self.trace_arch = trace_arch
        self.uid_min = uid_min
        self.notes: list[str] = []
        # tid -> [(start_line, end_line, process)]
        self._by_tid: dict[int, list] = {}
        for p in graph.processes:
            for t in (p.pid,) + tuple(p.threads):
                self._by_tid.setdefault(t, []).append((p.start_line, p.end_line or 1 << 62, p))
        for v in self._by_tid.values():
            v.sort(key=lambda x: x[0])
        self._refs: dict[str, FileRef] = {}
        self._facts: dict[str, PathFacts] = {}

    # -- processes --------------------------------------------------------------------------
    def process(self, tid: int, line: int):
        cands = self._by_tid.get(tid)
        if not cands:
            return None
        i = bisect.bisect_right([c[0] for c in cands], line) - 1
        if i < 0:
            return cands[0][2]
        return cands[i][2]

    def image_at(self, proc, line: int) -> str | None:
        """The path the process's current program was exec'd by (as written), at ``line``."""
        cur = proc
        limit = line
        seen = set()
        while cur is not None and cur.id not in seen:
            seen.add(cur.id)
            ok = [e for e in cur.execs if e.ok and e.line <= limit]
            if ok:
                return ok[-1].path
            limit = cur.start_line
            cur = self.graph.get(cur.parent_id) if cur.parent_id else None
        return None

    def program_at(self, proc, line: int) -> str:
        img = self.image_at(proc, line)
        return basename(img) if img else "?"

    def chain(self, proc, line: int) -> str:
        """Root first: ``8027 sh -> 8027 sudo -> 8029 docker`` (exec steps of one pid included)."""
        procs = list(reversed(self.graph.ancestors(proc))) + [proc]
        parts: list[str] = []
        for i, p in enumerate(procs):
            upto = procs[i + 1].start_line if i + 1 < len(procs) else line
            progs = [basename(e.path) for e in p.execs if e.ok and e.line <= upto]
            if not progs:
                progs = [self.program_at(p, p.start_line)]
            for prog in progs:
                s = f"{p.pid} {safe_text(prog, 40)}"
                if not parts or parts[-1] != s:
                    parts.append(s)
        return " -> ".join(parts)

    # -- files ------------------------------------------------------------------------------
    def realpath(self, path: str | None) -> tuple[str | None, str | None]:
        """(realpath, note) of an executed file: the sidecar's, else this host's (noted), else
        the absolute path as written (noted), else None."""
        if not path:
            return None, None
        if self.sidecar is not None:
            f = self.sidecar.file(path)
            if f is not None and f.realpath:
                return f.realpath, None
        if not path.startswith("/"):
            return None, f"{safe_text(path)}: relative path and no sidecar entry: realpath unknown"
        norm = posixpath.normpath(path)
        if os.path.exists(norm):
            real = os.path.realpath(norm)
            return real, (f"{safe_text(path)}: realpath {safe_text(real)} taken from this host "
                          "(no sidecar entry)")
        return norm, f"{safe_text(path)}: not in the sidecar nor on this host: used as written"

    def file_ref(self, path: str | None) -> FileRef | None:
        if not path:
            return None
        ref = self._refs.get(path)
        if ref is not None:
            return ref
        real, _ = self.realpath(path)
        dev = ino = None
        if self.sidecar is not None:
            f = self.sidecar.file(path)
            if f is not None and f.exists:
                dev, ino = f.dev, f.ino
        ref = FileRef(real or path, dev, ino, real)
        self._refs[path] = ref
        if real:
            self._facts.setdefault(real, PathFacts(real, exists=True, parent_exists=True, is_symlink=False,
                                                   is_dir=False, canonical=real, dev=dev, ino=ino,
                                                   real=real, real_dev=dev, real_ino=ino))
        return ref

    def path_facts(self) -> dict[str, PathFacts]:
        """Facts about the programs named by exe= rules (the kernel resolves them at load)."""
        return dict(self._facts)

    def interpreter(self, path: str | None, machine: str) -> str:
        if path and self.sidecar is not None:
            f = self.sidecar.file(path)
            if f is not None and f.interpreter and not f.shebang:
                return f.interpreter
        return DEFAULT_LOADER.get(machine, "/lib64/ld-linux-x86-64.so.2")

    def setuid_file(self, path: str | None) -> bool | None:
        if path and self.sidecar is not None:
            f = self.sidecar.file(path)
            if f is not None:
                return f.setuid or f.setgid
        return None

    # -- records ----------------------------------------------------------------------------
    def machine(self, abi: str) -> str | None:
        """``b64``/``b32`` of the trace -> the target machine whose numbering rules use."""
        if abi == "b32":
            return COMPAT.get(self.target_arch)
        if abi == "x32":
            return None
        return self.target_arch

    def record(self, proc, line: int, syscall: str, ret: int | None, *, abi: str | None = None,
               args: tuple = (None, None, None, None), names=(), saddr_fam: int | None = -1,
               exe: FileRef | None = None, oflags: int | None = None, tid: int | None = None,
               creds=None) -> Record | None:
        """The kernel-view record of one event (None when the target machine has no such syscall)."""
        if abi is None:
            abi = proc.arch_at(line).arch if proc is not None else "b64"
        m = self.machine(abi)
        if m is None:
            return None
        nr = table(m).nr(syscall)
        if nr is None:
            return None
        c = creds if creds is not None else (proc.creds_at(line) if proc is not None else None)

        def v(name):
            if c is None:
                return None
            return getattr(c, name).value

        if exe is None and proc is not None:
            exe = self.file_ref(self.image_at(proc, line))
        a = [None if x is None else (x & 0xFFFFFFFFFFFFFFFF) for x in args] + [None] * 4
        auid = v("auid")
        return Record(AUDIT_ARCH[m], nr, exit=ret, a0=a[0], a1=a[1], a2=a[2], a3=a[3],
                      pid=proc.pid if proc is not None else None,
                      ppid=proc.ppid if proc is not None else None,
                      uid=v("uid"), euid=v("euid"), suid=v("suid"), fsuid=v("fsuid"), gid=v("gid"),
                      egid=v("egid"), sgid=v("sgid"), fsgid=v("fsgid"),
                      groups=c.groups if c is not None else None,
                      auid=auid, sessionid=v("sessionid"), exe=exe,
                      names=tuple(names) if names is not None else None, saddr_fam=saddr_fam,
                      oflags=oflags, source=self.path, line=line, tid=tid)

    def auid_scope(self, auids) -> str:
        """``user``/``unset``/``root``/``system``; ``unknown`` when the trace cannot tell (no sidecar,
        no --auid: the auid is None, which is NOT unset); ``mixed`` across kinds."""
        s = set()
        for a in auids:
            if a is None:
                s.add("unknown")
            elif a == UNSET:
                s.add("unset")
            elif a >= self.uid_min:
                s.add("user")
            elif a == 0:
                s.add("root")
            else:
                s.add("system")
        return s.pop() if len(s) == 1 else "mixed"


def file_name(path: str, *, nametype: str = "NORMAL", exists: bool = True, mode: int = 0o100644) -> Name:
    """A PATH item for a file known only by its resolved path (no inode: compared by path)."""
    return Name(path, realpath=path, nametype=nametype, exists=exists, mode=mode if exists else None)


def parent_name(path: str) -> Name:
    d = posixpath.dirname(path) or "/"
    return Name(d, realpath=d, nametype="PARENT", exists=True, mode=0o040755)

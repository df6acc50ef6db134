"""The metadata sidecar: what a trace cannot say about the machine it was recorded on.

``tracerule record`` writes it beside the trace as ``TRACE.tracerule.json`` (for an ``-ff``
directory ``DIR``: ``DIR.tracerule.json`` beside it).  It holds the recorder's credentials (the
start credentials of the traced command), versions, and -- for every executed file, stat'ed after
the run -- the realpath, (dev, ino), owner, mode (setuid/setgid bits), file capabilities, ELF
class and interpreter.  Anything missing is unknown (JSON ``null``), never guessed.

Reading validates every field and reports the first problem as ``FILE:LINE: message``
(:class:`tracerule.errors.InputError`, exit code "bad-input").
"""
from __future__ import annotations

import json
import os
import re
import stat as _stat
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tracerule.errors import Diagnostic, InputError

SCHEMA_VERSION = 1
KIND = "tracerule-sidecar"
SUFFIX = ".tracerule.json"


@dataclass(frozen=True, slots=True)
class Recorder:
    """Who ran strace: the start credentials of the traced command."""

    uid: int | None = None
    euid: int | None = None
    gid: int | None = None
    egid: int | None = None
    groups: tuple[int, ...] | None = None
    auid: int | None = None        #: 4294967295 = unset
    sessionid: int | None = None   #: 4294967295 = unset
    user: str | None = None


@dataclass(frozen=True, slots=True)
class ExecFile:
    """One executed file, stat'ed after the run (``exists`` False: gone by then)."""

    path: str                          #: as executed (as in the trace: may be relative)
    realpath: str | None = None
    exists: bool | None = None
    dev: int | None = None
    ino: int | None = None
    uid: int | None = None             #: owner
    gid: int | None = None
    mode: int | None = None            #: st_mode (file type + permission bits)
    capabilities: str | None = None    #: security.capability xattr, hex; None = none or unknown
    elf_class: int | None = None       #: 32 or 64; None = not ELF / unknown
    elf_machine: int | None = None
    interpreter: str | None = None     #: PT_INTERP of an ELF, or the ``#!`` interpreter of a script
    shebang: bool = False

    @property
    def setuid(self) -> bool | None:
        return None if self.mode is None else bool(self.mode & _stat.S_ISUID)

    @property
    def setgid(self) -> bool | None:
        # S_ISGID without group-exec is mandatory locking, not set-group-id
        if self.mode is None:
            return None
        return bool(self.mode & _stat.S_ISGID) and bool(self.mode & _stat.S_IXGRP)

    @property
    def arch(self) -> str | None:
        """Audit arch of the ELF: b64 / b32 (x32 ELFs are class 32 with machine x86_64)."""
        if self.elf_class == 64:
            return "b64"
        if self.elf_class == 32:
            return "x32" if self.elf_machine == 62 else "b32"
        return None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mode"] = None if self.mode is None else f"{self.mode:o}"
        d["setuid"] = self.setuid
        d["setgid"] = self.setgid
        return d


@dataclass(frozen=True, slots=True)
class Sidecar:
    schema_version: int = SCHEMA_VERSION
    trace: str | None = None
    tracerule_version: str | None = None
    strace_version: str | None = None
    kernel: str | None = None
    arch: str | None = None
    hostname: str | None = None
    start_time: str | None = None          #: ISO 8601
    untraced_wall_time: float | None = None  #: seconds the command took without strace, if measured
    recorder: Recorder = field(default_factory=Recorder)
    #: who ran strace itself (``tracerule record -u USER`` runs strace as root and the command as
    #: USER: then ``recorder`` holds USER's start credentials and ``tracer`` root's).  None: the
    #: recorder ran strace itself.
    tracer: Recorder | None = None
    target_user: str | None = None
    target_uid: int | None = None
    uid_min: int | None = None
    cwd: str | None = None
    command: tuple[str, ...] | None = None
    files: tuple[ExecFile, ...] = ()
    notes: tuple[str, ...] = ()
    path: str = ""                         #: where it was read from (not serialised)

    def file(self, path: str) -> ExecFile | None:
        """The entry for a path as executed (exact match, then by realpath)."""
        for f in self.files:
            if f.path == path:
                return f
        for f in self.files:
            if f.realpath and f.realpath == path:
                return f
        return None

    @property
    def recorder_root(self) -> bool | None:
        """Whether strace ran privileged (so setuid bits were honoured under ptrace)."""
        who = self.tracer if self.tracer is not None else self.recorder
        e = who.euid if who.euid is not None else who.uid
        return None if e is None else e == 0

    def to_dict(self) -> dict:
        d = {
            "schema_version": self.schema_version, "kind": KIND, "trace": self.trace,
            "tracerule_version": self.tracerule_version, "strace_version": self.strace_version,
            "kernel": self.kernel, "arch": self.arch, "hostname": self.hostname,
            "start_time": self.start_time, "untraced_wall_time": self.untraced_wall_time,
            "recorder": {k: (list(v) if isinstance(v, tuple) else v)
                         for k, v in asdict(self.recorder).items()},
            "tracer": None if self.tracer is None else
            {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self.tracer).items()},
            "target_user": self.target_user, "target_uid": self.target_uid,
            "uid_min": self.uid_min, "cwd": self.cwd,
            "command": list(self.command) if self.command is not None else None,
            "files": [f.to_dict() for f in self.files],
            "notes": list(self.notes),
        }
        return d


# ---- locating --------------------------------------------------------------------------------

def sidecar_path(trace: str | os.PathLike) -> Path:
    """``TRACE.tracerule.json`` beside the trace (a directory's beside the directory)."""
    p = Path(trace)
    s = str(p).rstrip("/")
    return Path(s + SUFFIX)


def find_sidecar(trace: str | os.PathLike) -> Path | None:
    p = sidecar_path(trace)
    return p if p.is_file() else None


# ---- reading + validation --------------------------------------------------------------------

class _Loc:
    """Maps a JSON key path to a line in the text (first occurrence after the parent's line)."""

    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0]
        for m in re.finditer("\n", text):
            self.line_starts.append(m.end())

    def line_of(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self.line_starts, offset)

    def find(self, keys: list, ) -> int:
        """Best-effort line of ``keys`` (e.g. ["files", 3, "mode"])."""
        pos = 0
        for k in keys:
            if isinstance(k, int):
                # skip to the k-th object start after pos (files are arrays of objects)
                for _ in range(k + 1):
                    j = self.text.find("{", pos + 1)
                    if j < 0:
                        break
                    pos = j
                    # skip nested object
                continue
            m = re.compile(r'"%s"\s*:' % re.escape(str(k))).search(self.text, pos)
            if m is None:
                break
            pos = m.start()
        return self.line_of(pos)


def _fail(path: str, loc: _Loc | None, keys: list, msg: str):
    line = loc.find(keys) if loc else 0
    where = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in keys).replace(".[", "[")
    raise InputError(msg, diagnostic=Diagnostic(path, line, f"sidecar {where}: {msg}",
                                                code="SIDECAR"))


_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF


def _opt(d: dict, key: str, types, path, loc, keys, *, nonneg=False, maximum=None, absolute=False):
    """``d[key]`` checked: its type, ``nonneg``: not negative, ``maximum``: an id at most this,
    ``absolute``: a path starting with ``/``."""
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        _fail(path, loc, keys + [key], f"expected {_tname(types)}, got {json.dumps(v)}")
    if not isinstance(v, types):
        _fail(path, loc, keys + [key], f"expected {_tname(types)}, got {json.dumps(v)[:60]}")
    if nonneg and isinstance(v, (int, float)) and v < 0:
        _fail(path, loc, keys + [key], f"must not be negative, got {v}")
    if maximum is not None and isinstance(v, int) and not 0 <= v <= maximum:
        _fail(path, loc, keys + [key], f"must be between 0 and {maximum}, got {v}")
    if absolute and isinstance(v, str) and not v.startswith("/"):
        _fail(path, loc, keys + [key], f"must be an absolute path, got {json.dumps(v)[:60]}")
    return v


def _tname(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    names = {int: "an integer", str: "a string", float: "a number", bool: "true/false",
             list: "an array", dict: "an object"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _mode(v, path, loc, keys) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        _fail(path, loc, keys, "mode must be an octal string like \"104755\" or an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, str) and re.fullmatch(r"(0o)?[0-7]{1,7}", v):
        return int(v[2:] if v.startswith("0o") else v, 8)
    _fail(path, loc, keys, f"mode must be an octal string like \"104755\", got {json.dumps(v)[:40]}")


def _recorder(rec_d: dict, name: str, path: str, loc: "_Loc") -> Recorder:
    rec = {}
    for k in ("uid", "euid", "gid", "egid", "auid", "sessionid"):
        v = _opt(rec_d, k, int, path, loc, [name], nonneg=True)
        if v is not None and v > 0xFFFFFFFF:
            _fail(path, loc, [name, k], f"{v} is not a 32-bit id")
        rec[k] = v
    groups = _opt(rec_d, "groups", list, path, loc, [name])
    if groups is not None:
        if not all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g <= 0xFFFFFFFF
                   for g in groups):
            _fail(path, loc, [name, "groups"], "groups must be an array of ids")
        groups = tuple(groups)
    rec["groups"] = groups
    rec["user"] = _opt(rec_d, "user", str, path, loc, [name])
    return Recorder(**rec)


def parse_sidecar(text: str, path: str = "<sidecar>") -> Sidecar:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(exc.msg, diagnostic=Diagnostic(path, exc.lineno, f"not valid JSON: {exc.msg}",
                                                        column=exc.colno, code="SIDECAR")) from None
    loc = _Loc(text)
    if not isinstance(data, dict):
        _fail(path, loc, [], "the sidecar must be a JSON object")
    sv = data.get("schema_version")
    if not isinstance(sv, int) or isinstance(sv, bool):
        _fail(path, loc, ["schema_version"], "schema_version (an integer) is missing")
    if sv > SCHEMA_VERSION:
        _fail(path, loc, ["schema_version"],
              f"schema_version {sv} is newer than this tracerule understands ({SCHEMA_VERSION})")
    kind = data.get("kind")
    if kind is not None and kind != KIND:
        _fail(path, loc, ["kind"], f"not a tracerule sidecar (kind {kind!r})")
    s = {}
    for k in ("trace", "tracerule_version", "strace_version", "kernel", "arch", "hostname",
              "start_time", "target_user", "cwd"):
        s[k] = _opt(data, k, str, path, loc, [], absolute=k == "cwd")
    s["untraced_wall_time"] = _opt(data, "untraced_wall_time", (int, float), path, loc, [], nonneg=True)
    s["uid_min"] = _opt(data, "uid_min", int, path, loc, [], nonneg=True, maximum=_U32)
    s["target_uid"] = _opt(data, "target_uid", int, path, loc, [], nonneg=True, maximum=_U32)
    cmd = _opt(data, "command", list, path, loc, [])
    if cmd is not None:
        if not all(isinstance(c, str) for c in cmd):
            _fail(path, loc, ["command"], "command must be an array of strings")
        cmd = tuple(cmd)
    notes = _opt(data, "notes", list, path, loc, []) or []
    rec = _recorder(_opt(data, "recorder", dict, path, loc, []) or {}, "recorder", path, loc)
    tracer_d = _opt(data, "tracer", dict, path, loc, [])
    tracer = None if tracer_d is None else _recorder(tracer_d, "tracer", path, loc)
    files_d = _opt(data, "files", list, path, loc, []) or []
    files = []
    for i, fd in enumerate(files_d):
        keys = ["files", i]
        if not isinstance(fd, dict):
            _fail(path, loc, keys, "each file must be an object")
        p = fd.get("path")
        if not isinstance(p, str) or not p:
            _fail(path, loc, keys + ["path"], "path (the path as executed) is missing")
        f = {"path": p}
        for k in ("realpath", "capabilities", "interpreter"):
            f[k] = _opt(fd, k, str, path, loc, keys, absolute=k != "capabilities")
        # dev_t and ino_t are 64-bit, uid_t/gid_t 32-bit, e_machine 16-bit
        for k, top in (("dev", _U64), ("ino", _U64), ("uid", _U32), ("gid", _U32),
                       ("elf_machine", 0xFFFF)):
            f[k] = _opt(fd, k, int, path, loc, keys, nonneg=True, maximum=top)
        ec = _opt(fd, "elf_class", int, path, loc, keys)
        if ec not in (None, 32, 64):
            _fail(path, loc, keys + ["elf_class"], f"elf_class must be 32, 64 or null, got {ec}")
        f["elf_class"] = ec
        f["exists"] = _opt(fd, "exists", bool, path, loc, keys)
        f["shebang"] = bool(_opt(fd, "shebang", bool, path, loc, keys))
        f["mode"] = _mode(fd.get("mode"), path, loc, keys + ["mode"])
        if f["capabilities"] is not None and not re.fullmatch(r"[0-9a-fA-F]*", f["capabilities"]):
            _fail(path, loc, keys + ["capabilities"], "capabilities must be the xattr in hex")
        # setuid/setgid given explicitly must agree with mode
        for bit, attr in (("setuid", _stat.S_ISUID), ("setgid", _stat.S_ISGID)):
            b = _opt(fd, bit, bool, path, loc, keys)
            if b is not None and f["mode"] is not None and bool(f["mode"] & attr) != b:
                _fail(path, loc, keys + [bit], f"{bit} disagrees with mode {f['mode']:o}")
        files.append(ExecFile(**f))
    return Sidecar(schema_version=sv, recorder=rec, tracer=tracer, files=tuple(files), command=cmd,
                   notes=tuple(str(n) for n in notes), path=path, **s)


def read_sidecar(path: str | os.PathLike) -> Sidecar:
    p = str(path)
    try:
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise InputError(f"{p}: sidecar not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read sidecar: {exc}") from None
    return parse_sidecar(text, p)


def write_sidecar(sc: Sidecar, path: str | os.PathLike) -> Path:
    p = Path(path)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(sc.to_dict(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p


# ---- describing executed files ---------------------------------------------------------------

def _elf_info(fh) -> tuple[int | None, int | None, str | None]:
    """(class, machine, PT_INTERP) of an ELF file, or (None, None, None)."""
    import struct

    head = fh.read(64)
    if len(head) < 52 or head[:4] != b"\x7fELF":
        return None, None, None
    cls = {1: 32, 2: 64}.get(head[4])
    end = "<" if head[5] == 1 else ">"
    if cls is None:
        return None, None, None
    machine = struct.unpack_from(end + "H", head, 18)[0]
    if cls == 64:
        phoff, = struct.unpack_from(end + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(end + "I", head, 0x1C)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x2A)
    interp = None
    if 0 < phnum < 256 and phentsize >= (56 if cls == 64 else 32):
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
        for i in range(phnum):
            off = i * phentsize
            if off + phentsize > len(table):
                break
            p_type, = struct.unpack_from(end + "I", table, off)
            if p_type != 3:  # PT_INTERP
                continue
            if cls == 64:
                p_offset, = struct.unpack_from(end + "Q", table, off + 8)
                p_filesz, = struct.unpack_from(end + "Q", table, off + 32)
            else:
                p_offset, = struct.unpack_from(end + "I", table, off + 4)
                p_filesz, = struct.unpack_from(end + "I", table, off + 16)
            if 0 < p_filesz < 4096:
                fh.seek(p_offset)
                interp = fh.read(p_filesz).split(b"\0", 1)[0].decode("utf-8", "backslashreplace")
            break
    return cls, machine, interp


def describe_file(path: str, cwd: str | None = None) -> ExecFile:
    """Stat an executed file now: owner, mode, (dev, ino), capabilities, ELF class, interpreter."""
    full = path if os.path.isabs(path) or cwd is None else os.path.join(cwd, path)
    try:
        st = os.stat(full)
    except OSError:
        return ExecFile(path=path, exists=False)
    real = os.path.realpath(full)
    caps = None
    try:
        caps = os.getxattr(full, "security.capability").hex()
    except (OSError, AttributeError):
        caps = None
    cls = machine = interp = None
    shebang = False
    try:
        with open(full, "rb") as fh:
            first = fh.read(2)
            if first == b"#!":
                line = (b"#!" + fh.readline(256)).split(b"\n", 1)[0]
                parts = line[2:].strip().split()
                interp = parts[0].decode("utf-8", "backslashreplace") if parts else None
                shebang = True
            else:
                fh.seek(0)
                cls, machine, interp = _elf_info(fh)
    except OSError:
        pass
    if interp is not None and not interp.startswith("/"):
        interp = None     # '#!bash' resolves against the caller's cwd at exec time: unknown here
    return ExecFile(path=path, realpath=real, exists=True, dev=st.st_dev, ino=st.st_ino,
                    uid=st.st_uid, gid=st.st_gid, mode=st.st_mode, capabilities=caps,
                    elf_class=cls, elf_machine=machine, interpreter=interp, shebang=shebang)

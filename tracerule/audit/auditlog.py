"""Audit records -> events: raw ``audit.log`` lines and netlink messages alike.

A record is ``type=NAME msg=audit(SECONDS.MILLIS:SERIAL): field=value ...`` in the log (optionally
``node=HOST`` first and, with ``log_format=ENRICHED``, a ``\\x1d`` followed by interpreted fields), or
netlink message type NUMBER with payload ``audit(SECONDS.MILLIS:SERIAL): field=value ...``.  All records
of one event share ``(time, serial)``.

Values are decoded the way ``audit_log_untrustedstring`` encoded them: double-quoted text as is,
unquoted uppercase hex for the string fields that may carry it (comm, exe, key, cwd, name, proctitle,
EXECVE arguments ...).  A key field holding several keys is hex of the keys joined by ``\\x01``.
Never split an audit log with ``str.splitlines()``: it also breaks lines at ``\x1d`` (the ENRICHED
separator); split at ``"\n"`` only.  Decoded bytes are turned into ``str`` with ``surrogateescape`` (``.encode(errors="surrogateescape")``
gives the original bytes back).
"""
from __future__ import annotations

import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

#: record type numbers (include/uapi/linux/audit.h) and the names auditd writes for them
RECORD_TYPES: dict[int, str] = {
    1000: "GET", 1001: "SET", 1005: "USER", 1006: "LOGIN",
    1100: "USER_AUTH", 1101: "USER_ACCT", 1102: "USER_MGMT", 1103: "CRED_ACQ", 1104: "CRED_DISP",
    1105: "USER_START", 1106: "USER_END", 1107: "USER_AVC", 1108: "USER_CHAUTHTOK", 1109: "USER_ERR",
    1110: "CRED_REFR", 1111: "USYS_CONFIG", 1112: "USER_LOGIN", 1113: "USER_LOGOUT",
    1114: "ADD_USER", 1115: "DEL_USER", 1116: "ADD_GROUP", 1117: "DEL_GROUP", 1120: "DAC_CHECK",
    1121: "CHGRP_ID", 1122: "TEST", 1123: "TRUSTED_APP", 1124: "USER_SELINUX_ERR", 1125: "USER_CMD",
    1126: "USER_TTY", 1127: "CHUSER_ID", 1128: "GRP_AUTH", 1129: "SYSTEM_BOOT", 1130: "SERVICE_START",
    1131: "SERVICE_STOP",
    1200: "DAEMON_START", 1201: "DAEMON_END", 1202: "DAEMON_ABORT", 1203: "DAEMON_CONFIG",
    1204: "DAEMON_RECONFIG", 1205: "DAEMON_ROTATE", 1206: "DAEMON_RESUME", 1207: "DAEMON_ACCEPT",
    1208: "DAEMON_CLOSE", 1209: "DAEMON_ERR",
    1300: "SYSCALL", 1302: "PATH", 1303: "IPC", 1304: "SOCKETCALL", 1305: "CONFIG_CHANGE",
    1306: "SOCKADDR", 1307: "CWD", 1309: "EXECVE", 1311: "IPC_SET_PERM", 1312: "MQ_OPEN",
    1313: "MQ_SENDRECV", 1314: "MQ_NOTIFY", 1315: "MQ_GETSETATTR", 1316: "KERNEL_OTHER",
    1317: "FD_PAIR", 1318: "OBJ_PID", 1319: "TTY", 1320: "EOE", 1321: "BPRM_FCAPS", 1322: "CAPSET",
    1323: "MMAP", 1324: "NETFILTER_PKT", 1325: "NETFILTER_CFG", 1326: "SECCOMP", 1327: "PROCTITLE",
    1328: "FEATURE_CHANGE", 1329: "REPLACE", 1330: "KERN_MODULE", 1331: "FANOTIFY", 1332: "TIME_INJOFFSET",
    1333: "TIME_ADJNTPVAL", 1334: "BPF", 1335: "EVENT_LISTENER", 1336: "URINGOP", 1337: "OPENAT2",
    1338: "DM_CTRL", 1339: "DM_EVENT",
    1400: "AVC", 1401: "SELINUX_ERR", 1402: "AVC_PATH", 1403: "MAC_POLICY_LOAD", 1404: "MAC_STATUS",
    1405: "MAC_CONFIG_CHANGE", 1420: "MAC_UNLBL_ALLOW",
    1700: "ANOM_PROMISCUOUS", 1701: "ANOM_ABEND", 1702: "ANOM_LINK", 1703: "ANOM_CREAT",
}
_TYPE_BY_NAME = {v: k for k, v in RECORD_TYPES.items()}

#: the record types that carry the event's rule key (the "primary" record of a syscall event)
KEYED_TYPES = ("SYSCALL", "URINGOP")

#: string fields that audit_log_untrustedstring may have written as hex
UNTRUSTED = frozenset({
    "comm", "exe", "key", "cwd", "name", "proctitle", "path", "dir", "ocomm", "acct", "cmd", "data",
    "root_dir", "old-chardev", "new-chardev", "cgroup", "watch", "list",
})
_EXECVE_ARG = re.compile(r"^a\d+(?:\[\d+\])?$")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
_HEAD = re.compile(r"^(?:node=(?P<node>\S+)\s+)?type=(?P<type>\S+)\s+msg=audit\((?P<time>\d+\.\d+):(?P<serial>\d+)\):\s?")
_BODY_HEAD = re.compile(r"^audit\((?P<time>\d+\.\d+):(?P<serial>\d+)\):\s?")
#: "ses=4294967295op=remove_rule": the kernel's missing space in watch CONFIG_CHANGE records
_GLUED = re.compile(r"^(-?\d+)([a-z_]+=.*)$")


def type_name(nr: int) -> str:
    """The name auditd writes for a record type number (``UNKNOWN[n]`` like auditd when unknown)."""
    return RECORD_TYPES.get(nr, f"UNKNOWN[{nr}]")


def type_number(name: str) -> int | None:
    if name.startswith("UNKNOWN[") and name.endswith("]"):
        try:
            return int(name[8:-1])
        except ValueError:
            return None
    return _TYPE_BY_NAME.get(name)


def _unhex(value: str) -> str:
    return bytes.fromhex(value).decode("utf-8", "surrogateescape")


def decode_value(name: str, value: str, quoted: bool) -> str:
    """Decode one value: quoted text as is; hex for untrusted string fields; anything else raw."""
    if quoted:
        return value
    if (name in UNTRUSTED or _EXECVE_ARG.match(name)) and _HEX.match(value):
        return _unhex(value)
    return value


def parse_fields(text: str, *, decode: bool = True) -> dict[str, str]:
    """``name=value`` pairs of a record body.  Tolerates ``msg='...'`` (whose inner fields are added when
    they do not clash), tokens without ``=`` (skipped) and the kernel's glued ``ses=NNNop=...``."""
    out: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] == " ":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        sp = text.find(" ", i)
        if eq < 0 or (0 <= sp < eq):
            # a token without '=' (e.g. "avc:  denied  { read }")
            i = n if sp < 0 else sp + 1
            continue
        name = text[i:eq]
        j = eq + 1
        if j < n and text[j] in "\"'":
            q = text[j]
            end = text.find(q, j + 1)
            if end < 0:
                end = n
            value = text[j + 1:end]
            i = end + 1
            if q == "'":
                out.setdefault(name, value)
                for k, v in parse_fields(value, decode=decode).items():
                    out.setdefault(k, v)
                continue
            out.setdefault(name, value)
            continue
        end = text.find(" ", j)
        if end < 0:
            end = n
        value = text[j:end]
        i = end + 1
        m = _GLUED.match(value) if "=" in value else None
        if m:
            out.setdefault(name, m.group(1))
            for k, v in parse_fields(m.group(2), decode=decode).items():
                out.setdefault(k, v)
            continue
        out.setdefault(name, decode_value(name, value, False) if decode else value)
    return out


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One record.  ``fields`` are decoded; with ENRICHED logs the interpreted fields (upper-case names
    such as ``ARCH``, ``SYSCALL``, ``AUID``) are in ``enriched``."""

    type: str
    time: str                 #: "SECONDS.MILLIS" as the kernel printed it
    serial: int
    fields: Mapping[str, str]
    text: str = ""            #: the record as a log line (without the ENRICHED tail)
    enriched: Mapping[str, str] = field(default_factory=dict)
    node: str = ""

    @property
    def stamp(self) -> str:
        return f"{self.time}:{self.serial}"


def parse_line(line: str) -> AuditRecord | None:
    """One ``audit.log`` line -> record, or None when it is not an audit record line."""
    line = line.rstrip("\r\n")
    tail = ""
    if "\x1d" in line:
        line, tail = line.split("\x1d", 1)
    m = _HEAD.match(line)
    if not m:
        return None
    body = line[m.end():]
    fields = parse_fields(body)
    enriched = parse_fields(tail, decode=False) if tail else {}
    return AuditRecord(m.group("type"), m.group("time"), int(m.group("serial")),
                       MappingProxyType(fields), line, MappingProxyType(enriched), m.group("node") or "")


def parse_netlink_payload(nl_type: int, payload: bytes | str) -> AuditRecord | None:
    """A netlink audit message (type number, payload ``audit(T:S): ...``) -> record."""
    if isinstance(payload, bytes):
        payload = payload.rstrip(b"\0").decode("utf-8", "surrogateescape")
    m = _BODY_HEAD.match(payload)
    if not m:
        return None
    name = type_name(nl_type)
    body = payload[m.end():]
    text = f"type={name} msg={payload}"
    return AuditRecord(name, m.group("time"), int(m.group("serial")), MappingProxyType(parse_fields(body)), text)


def netlink_line(nl_type: int, payload: bytes) -> str:
    """The log-line form of a netlink audit message (what auditd would write, minus ENRICHED)."""
    return f"type={type_name(nl_type)} msg=" + payload.rstrip(b"\0").decode("utf-8", "surrogateescape")


# ------------------------------------------------------------------------------------------- events
def _int(v: str | None) -> int | None:
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return None


def split_keys(value: str | None) -> tuple[str, ...]:
    """A decoded ``key=`` value -> keys (``(null)`` -> none; several keys are joined by ``\\x01``)."""
    if value is None or value == "(null)" or value == "":
        return ()
    return tuple(k for k in value.split("\x01") if k)


@dataclass(frozen=True)
class AuditEvent:
    """All records of one ``(time, serial)``.  ``records`` maps a record type to its records' fields."""

    time: float
    serial: int
    stamp: str
    records: Mapping[str, tuple[Mapping[str, str], ...]]
    lines: tuple[str, ...] = ()
    seq: int = 0                              #: arrival order of the event's first record in its source

    def record(self, rtype: str) -> Mapping[str, str] | None:
        recs = self.records.get(rtype)
        return recs[0] if recs else None

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.records)

    @property
    def _primary(self) -> Mapping[str, str]:
        for t in KEYED_TYPES:
            r = self.record(t)
            if r is not None:
                return r
        return {}

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys of the rule that made this event (from its SYSCALL/URINGOP record)."""
        return split_keys(self._primary.get("key"))

    @property
    def key(self) -> str | None:
        ks = self.keys
        return ks[0] if ks else None

    @property
    def all_keys(self) -> tuple[str, ...]:
        """Keys named by any record of the event (includes CONFIG_CHANGE records of rule changes)."""
        out: list[str] = []
        for recs in self.records.values():
            for r in recs:
                for k in split_keys(r.get("key")):
                    if k not in out:
                        out.append(k)
        return tuple(out)

    # SYSCALL fields
    @property
    def syscall(self) -> int | None:
        return _int(self._primary.get("syscall"))

    @property
    def arch(self) -> int | None:
        v = self._primary.get("arch")
        try:
            return int(v, 16) if v else None
        except ValueError:
            return None

    @property
    def arch_name(self) -> str | None:
        from tracerule.audit.tables import AUDIT_ARCH

        a = self.arch
        for name, val in AUDIT_ARCH.items():
            if val == a:
                return name
        return None

    @property
    def syscall_name(self) -> str | None:
        nr, arch = self.syscall, self.arch_name
        if nr is None or arch is None:
            return None
        try:
            from tracerule.audit.tables import table

            return table(arch).name(nr)
        except Exception:
            return None

    @property
    def success(self) -> bool | None:
        v = self._primary.get("success")
        return None if v is None else v == "yes"

    @property
    def exit(self) -> int | None:
        return _int(self._primary.get("exit"))

    def _f(self, name: str) -> str | None:
        return self._primary.get(name)

    exe = property(lambda self: self._f("exe"))
    comm = property(lambda self: self._f("comm"))
    tty = property(lambda self: self._f("tty"))
    pid = property(lambda self: _int(self._f("pid")))
    ppid = property(lambda self: _int(self._f("ppid")))
    auid = property(lambda self: _int(self._f("auid")))
    uid = property(lambda self: _int(self._f("uid")))
    euid = property(lambda self: _int(self._f("euid")))
    suid = property(lambda self: _int(self._f("suid")))
    fsuid = property(lambda self: _int(self._f("fsuid")))
    gid = property(lambda self: _int(self._f("gid")))
    egid = property(lambda self: _int(self._f("egid")))
    ses = property(lambda self: _int(self._f("ses")))
    items = property(lambda self: _int(self._f("items")))

    @property
    def a(self) -> tuple[int, ...]:
        """a0..a3 (raw 64-bit registers)."""
        out = []
        for i in range(4):
            v = self._f(f"a{i}")
            out.append(int(v, 16) if v else 0)
        return tuple(out)

    @property
    def cwd(self) -> str | None:
        r = self.record("CWD")
        return r.get("cwd") if r else None

    @property
    def paths(self) -> tuple[Mapping[str, str], ...]:
        """PATH records in item order."""
        return tuple(sorted(self.records.get("PATH", ()), key=lambda r: _int(r.get("item")) or 0))

    @property
    def path_names(self) -> tuple[str, ...]:
        return tuple(r.get("name", "") for r in self.paths)

    @property
    def argv(self) -> tuple[str, ...] | None:
        """EXECVE arguments (long arguments split as aN[i] are joined)."""
        recs = self.records.get("EXECVE")
        if not recs:
            return None
        merged: dict[str, str] = {}
        for r in recs:
            merged.update(r)
        argc = _int(merged.get("argc")) or 0
        out = []
        for i in range(argc):
            if f"a{i}" in merged:
                out.append(merged[f"a{i}"])
            else:
                parts = []
                j = 0
                while f"a{i}[{j}]" in merged:
                    parts.append(merged[f"a{i}[{j}]"])
                    j += 1
                out.append("".join(parts))
        return tuple(out)

    @property
    def proctitle(self) -> tuple[str, ...] | None:
        r = self.record("PROCTITLE")
        if not r or "proctitle" not in r:
            return None
        return tuple(r["proctitle"].split("\0"))

    def __str__(self) -> str:
        return "\n".join(self.lines)


def build_event(records: Iterable[AuditRecord], seq: int = 0) -> AuditEvent:
    recs = list(records)
    by_type: dict[str, list[Mapping[str, str]]] = {}
    for r in recs:
        by_type.setdefault(r.type, []).append(r.fields)
    first = recs[0]
    return AuditEvent(float(first.time), first.serial, first.stamp,
                      MappingProxyType({t: tuple(v) for t, v in by_type.items()}),
                      tuple(r.text for r in recs), seq)


def group_events(records: Iterable[AuditRecord]) -> list[AuditEvent]:
    """Group records by ``(time, serial)``, events in order of their first record."""
    groups: OrderedDict[str, list[AuditRecord]] = OrderedDict()
    for r in records:
        groups.setdefault(r.stamp, []).append(r)
    return [build_event(rs, i) for i, rs in enumerate(groups.values())]


def iter_events(lines: Iterable[str], *, window: int = 512) -> Iterator[AuditEvent]:
    """Stream events from log lines.  An event is complete at its EOE record or when ``window`` other
    events have started since (records of one event are written close together)."""
    pending: OrderedDict[str, list[AuditRecord]] = OrderedDict()
    seq = 0
    for line in lines:
        r = parse_line(line)
        if r is None:
            continue
        if r.type == "EOE":
            rs = pending.pop(r.stamp, None)
            if rs:
                yield build_event(rs, seq)
                seq += 1
            continue
        if r.stamp not in pending:
            pending[r.stamp] = []
            if len(pending) > window:
                _, rs = pending.popitem(last=False)
                yield build_event(rs, seq)
                seq += 1
        pending[r.stamp].append(r)
    for rs in pending.values():
        yield build_event(rs, seq)
        seq += 1


# ------------------------------------------------------------------------------ collecting a run
class EventCollector:
    """Keeps the records of the events that mention a run (its key prefix), from a stream of log lines.

    Fed one line at a time (from auditd's log or the netlink listener); lines of other events are held
    in a bounded window (records of an event arrive close together: LOGIN/CONFIG_CHANGE before the
    SYSCALL that carries the key) and then dropped."""

    def __init__(self, run_id: str, *, window: int = 4096) -> None:
        self.run_id = run_id
        self._needles = (f"trr{run_id}", (b"trr" + run_id.encode()).hex().upper())
        self._window: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
        self._kept: OrderedDict[str, list[tuple[int, str]]] = OrderedDict()
        self._markers: set[str] = set()
        self._window_size = window
        self.seq = 0           #: lines fed so far
        self.dropped_lines = 0

    def feed(self, line: str) -> None:
        self.seq += 1
        m = _HEAD.match(line)
        if not m:
            return
        stamp = f"{m.group('time')}:{m.group('serial')}"
        typ = m.group("type")
        if typ == "EOE":
            self._window.pop(stamp, None)
            return
        if typ == "USER" and "tracerule-sync " in line:
            mm = re.search(r"tracerule-sync ([0-9a-f]+\.[0-9]+)", line)
            if mm:
                self._markers.add(mm.group(1))
        if stamp in self._kept:
            self._kept[stamp].append((self.seq, line))
            return
        wanted = any(n in line for n in self._needles) and typ != "USER"
        if wanted:
            prior = self._window.pop(stamp, [])
            self._kept[stamp] = prior + [(self.seq, line)]
            return
        lst = self._window.get(stamp)
        if lst is None:
            lst = self._window[stamp] = []
            if len(self._window) > self._window_size:
                _, old = self._window.popitem(last=False)
                self.dropped_lines += len(old)
        lst.append((self.seq, line))

    def seen_marker(self, token: str) -> bool:
        return token in self._markers

    def events(self) -> list[AuditEvent]:
        out = []
        for stamp, lines in self._kept.items():
            recs = [r for r in (parse_line(ln) for _, ln in lines) if r is not None]
            if recs:
                out.append(build_event(recs, lines[0][0]))
        return out


# ------------------------------------------------------------------------------- auditd's log file
def auditd_log_file(conf: str = "/etc/audit/auditd.conf") -> str:
    """The ``log_file`` auditd writes (default ``/var/log/audit/audit.log``)."""
    try:
        with open(conf, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                s = line.strip()
                if s.startswith("#") or "=" not in s:
                    continue
                name, _, value = s.partition("=")
                if name.strip() == "log_file" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return "/var/log/audit/audit.log"


class LogTail:
    """Reads the lines appended to a log file since a byte offset, across one rotation
    (``audit.log`` -> ``audit.log.1``).  Only complete lines are returned."""

    def __init__(self, path: str, *, from_start: bool = False) -> None:
        self.path = path
        try:
            st = os.stat(path)
            self.inode = st.st_ino
            self.offset = 0 if from_start else st.st_size
        except FileNotFoundError:
            self.inode = None
            self.offset = 0
        self.start_offset = self.offset
        self._partial = b""

    def _read_from(self, path: str, offset: int) -> tuple[bytes, int]:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
        return data, offset + len(data)

    def read(self) -> list[str]:
        chunks: list[bytes] = []
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        if self.inode is not None and st.st_ino != self.inode:
            # rotated: finish the old file (now .1) if it is the one we were reading
            rotated = self.path + ".1"
            try:
                if os.stat(rotated).st_ino == self.inode:
                    data, _ = self._read_from(rotated, self.offset)
                    chunks.append(data)
            except FileNotFoundError:
                pass
            self.inode, self.offset = st.st_ino, 0
        elif self.inode is None:
            self.inode, self.offset = st.st_ino, 0
        elif st.st_size < self.offset:
            self.offset = 0  # truncated
        data, self.offset = self._read_from(self.path, self.offset)
        chunks.append(data)
        buf = self._partial + b"".join(chunks)
        lines = buf.split(b"\n")
        self._partial = lines.pop()
        return [ln.decode("utf-8", "surrogateescape") for ln in lines if ln]

"""Credentials over time, as the kernel sees them at each syscall exit.

strace prints no credentials, so they are tracked with *cells*: one mutable cell per value that
stays the same between two changes.  A cell is shared by every moment (and every forked child)
that must hold the same value, so evidence that arrives later -- ``getuid() = 1001`` after an
exec, a ``setresuid(0, ...)`` that only a root euid could make -- fills in the value for all of
them at once, and the exec records made earlier see it when the graph is finalised.

Two kinds of cell link to an earlier one (``prev``):

- ``exec``: the euid/egid after an exec whose file mode is not known.  Its value is ``prev``'s
  unless later evidence says otherwise; a differing value means the exec raised it (a setuid or
  setgid bit) -- reported as ``setid_exec="inferred"``.
- ``alias``: the start value of a task seen before its creator's clone returned; linked to the
  creator's cell once the return names it.  Evidence on an alias flows to what it aliases.

Semantics of the set*id family follow the kernel (kernel/sys.c): -1 = unchanged, failed calls
change nothing, ``setuid``/``setgid`` set all ids when privileged (euid 0) and only the
effective id otherwise, setreuid's saved-id rule, fsuid follows euid on every change.
"""
from __future__ import annotations

from operator import attrgetter

from tracerule.graph.model import (
    INFERRED, OBSERVED, SIDECAR, UNKNOWN, CredValue, Creds,
)

PLAIN, EXEC, ALIAS = 0, 1, 2

#: the value of a ``sessionid`` cell that is known to be *set* (a loginuid write made the kernel
#: hand out a new session id) while its number is unknown; ``tracerule.audit.record.SESSION_SET``
SESSION_SET = "set"


class Cell:
    __slots__ = ("value", "source", "prev", "kind")

    def __init__(self, value=None, source=UNKNOWN, prev=None, kind=PLAIN):
        self.value = value
        self.source = source if value is not None or source != OBSERVED else UNKNOWN
        self.prev = prev
        self.kind = kind

    def target(self) -> "Cell":
        """The cell evidence about this one lands on (follows unset aliases)."""
        c = self
        n = 0
        while c.value is None and c.kind == ALIAS and c.prev is not None and n < 100000:
            c = c.prev
            n += 1
        return c

    def resolve(self) -> tuple[object, str]:
        c = self
        n = 0
        while c.value is None and c.prev is not None and n < 100000:
            c = c.prev
            n += 1
        if c.value is None:
            return None, UNKNOWN
        return c.value, c.source

    def observe(self, value, source=OBSERVED) -> bool:
        """Record that this cell holds ``value``.  False when it is known to hold another one."""
        c = self.target()
        if c.value is None:
            c.value = value
            c.source = source
            return True
        return c.value == value

    def __repr__(self) -> str:  # debugging aid
        return f"Cell({self.value!r}, {self.source}, kind={self.kind}, prev={'y' if self.prev else 'n'})"


UID_FIELDS = ("uid", "euid", "suid", "fsuid")
GID_FIELDS = ("gid", "egid", "sgid", "fsgid")
ALL_FIELDS = UID_FIELDS + GID_FIELDS + ("groups", "auid", "sessionid")
_SNAPSHOT = attrgetter(*ALL_FIELDS)


class CredState:
    """The live credential cells of one process (copied -- cells shared -- at fork)."""

    __slots__ = ALL_FIELDS

    def __init__(self, cells: dict | None = None):
        for f in ALL_FIELDS:
            setattr(self, f, (cells or {}).get(f) or Cell())

    def copy(self) -> "CredState":
        st = _new_state(CredState)
        _set_cells(st, _SNAPSHOT(self))
        return st

    def snapshot(self) -> tuple:
        return _SNAPSHOT(self)

    def value(self, f: str):
        return getattr(self, f).resolve()[0]

    def privileged(self) -> bool | None:
        """CAP_SETUID as far as the trace tells: euid 0 (file capabilities are not modelled)."""
        e = self.value("euid")
        return None if e is None else e == 0

    @staticmethod
    def start(uid=None, gid=None, auid=None, sessionid=None, groups=None, source=UNKNOWN,
              auid_source=None) -> "CredState":
        st = CredState()
        if uid is not None:
            c = Cell(uid, source)
            st.uid = st.euid = st.suid = st.fsuid = c
        if gid is not None:
            c = Cell(gid, source)
            st.gid = st.egid = st.sgid = st.fsgid = c
        if groups is not None:
            st.groups = Cell(tuple(groups), source)
        if auid is not None:
            st.auid = Cell(auid, auid_source or source)
        if sessionid is not None:
            st.sessionid = Cell(sessionid, source)
        return st

    @staticmethod
    def aliases() -> "CredState":
        st = _new_state(CredState)
        _set_cells(st, [Cell(None, UNKNOWN, None, ALIAS) for _ in ALL_FIELDS])
        return st

    def alias_cells(self) -> dict:
        """The start cells of a state made by :meth:`aliases` (keep them to link later)."""
        return dict(zip(ALL_FIELDS, _SNAPSHOT(self)))


_new_state = object.__new__


def _set_cells(st: CredState, cells) -> None:
    """Set all of ``st``'s cells, in :data:`ALL_FIELDS` order."""
    (st.uid, st.euid, st.suid, st.fsuid, st.gid, st.egid, st.sgid, st.fsgid, st.groups, st.auid,
     st.sessionid) = cells


def link_aliases(aliases: dict, parent: CredState) -> list[str]:
    """Connect a task's start alias cells to ``parent``'s current cells; returns conflicts.

    Refuses a link that would close a loop (the parent's value resting on this very alias).
    """
    bad = []
    for f in ALL_FIELDS:
        a = aliases[f]
        if a.kind != ALIAS or a.prev is not None:
            continue
        pc = getattr(parent, f)
        x, n = pc, 0
        while x is not None and x is not a and n < 100000:
            x, n = x.prev, n + 1
        if x is a:
            continue
        if a.value is not None and not pc.observe(a.value, a.source):
            bad.append(f)
        a.prev = pc
    return bad


# ---- the set*id family ----------------------------------------------------------------------

def _new(v, source=OBSERVED) -> Cell:
    return Cell(v, source)


def apply_setid(st: CredState, name: str, args: list, ret: int | None) -> str | None:
    """Apply a successful set*id call to ``st``.  Returns a note when something stays unknown."""
    base = name[:-2] if name.endswith("32") else name
    fam = "u" if "uid" in base else "g"
    r, e, s, fs = (UID_FIELDS if fam == "u" else GID_FIELDS)
    note = None

    def a(i):
        v = args[i] if i < len(args) else None
        if v is None:
            return None
        v &= 0xFFFFFFFF
        return None if v == 0xFFFFFFFF else v

    if base in ("setresuid", "setresgid"):
        vr, ve, vs = a(0), a(1), a(2)
        if vr is not None:
            setattr(st, r, _new(vr))
        if ve is not None:
            setattr(st, e, _new(ve))
        if vs is not None:
            setattr(st, s, _new(vs))
        setattr(st, fs, getattr(st, e))
    elif base in ("setreuid", "setregid"):
        vr, ve = a(0), a(1)
        old_r = st.value(r)
        if vr is not None:
            setattr(st, r, _new(vr))
        if ve is not None:
            setattr(st, e, _new(ve))
        if vr is not None or (ve is not None and old_r is not None and ve != old_r):
            setattr(st, s, getattr(st, e))
        elif ve is not None and old_r is None and st.value(s) != ve:
            setattr(st, s, Cell())
            note = f"{name}: saved id unknown (old real id unknown)"
        setattr(st, fs, getattr(st, e))
    elif base in ("setuid", "setgid"):
        v = a(0)
        if v is None:
            return None
        priv = st.privileged()
        if priv:
            c = _new(v)
            for f in (r, e, s, fs):
                setattr(st, f, c)
        else:
            c = _new(v)
            setattr(st, e, c)
            setattr(st, fs, c)
            if priv is None:
                # privileged: all ids = v; unprivileged: only euid.  Where both agree, keep.
                for f in (r, s):
                    if st.value(f) != v:
                        setattr(st, f, Cell())
                note = f"{name}({v}): real/saved ids unknown (privilege of the caller unknown)"
    elif base in ("setfsuid", "setfsgid"):
        # returns the OLD fsuid, also on failure; the change happened only if it was allowed
        if ret is not None and ret >= 0:
            getattr(st, fs).observe(ret)
        v = a(0)
        if v is None:
            return None
        allowed = st.privileged() or v in {st.value(f) for f in (r, e, s, fs)}
        if allowed:
            setattr(st, fs, Cell(v, INFERRED))
        elif st.privileged() is None:
            setattr(st, fs, Cell())
    return note


def observe_get(st: CredState, name: str, ret: int | None, args_vals: list | None) -> list[str]:
    """Record get*id results.  Returns the fields whose tracked value disagreed."""
    base = name[:-2] if name.endswith("32") else name
    bad = []
    pairs: list[tuple[str, int | None]] = []
    if base == "getuid":
        pairs = [("uid", ret)]
    elif base == "geteuid":
        pairs = [("euid", ret)]
    elif base == "getgid":
        pairs = [("gid", ret)]
    elif base == "getegid":
        pairs = [("egid", ret)]
    elif base in ("getresuid", "getresgid") and ret == 0 and args_vals:
        fields = UID_FIELDS[:3] if base == "getresuid" else GID_FIELDS[:3]
        pairs = list(zip(fields, args_vals))
    for f, v in pairs:
        if v is None or v < 0:
            continue
        if not getattr(st, f).observe(v):
            bad.append(f)
            setattr(st, f, Cell(v, OBSERVED))
    return bad


def exec_transition(st: CredState, setuid_owner: int | None, setgid_group: int | None,
                    mode_known: bool) -> None:
    """A successful exec: euid/egid may change by the file's set-id bits; suid/fsuid := euid."""
    for (r, e, s, fs), owner in ((UID_FIELDS, setuid_owner), (GID_FIELDS, setgid_group)):
        if owner is not None:
            c = Cell(owner, SIDECAR, prev=getattr(st, e), kind=EXEC)
        elif mode_known:
            c = getattr(st, e)
        else:
            c = Cell(None, UNKNOWN, prev=getattr(st, e), kind=EXEC)
        setattr(st, e, c)
        setattr(st, s, c)
        setattr(st, fs, c)


def prove_privileged(st: CredState) -> bool:
    """A set*uid call succeeded that needs euid 0 (or one of the ids 0).  If the process's uids
    all look non-zero and its euid rests only on an exec of a file of unknown mode, that exec
    raised euid to 0.  Returns True when it set something."""
    vals = [st.value(f) for f in ("uid", "euid", "suid")]
    if any(v is None or v == 0 for v in vals):
        return False
    c = st.euid
    # find the newest exec cell along the chain with no value of its own
    while c is not None and c.value is None and c.kind != EXEC:
        c = c.prev
    if c is None or c.kind != EXEC or c.value is not None:
        return False
    c.value = 0
    c.source = INFERRED
    return True


def freeze(snapshot: tuple) -> Creds:
    """Resolve a cell snapshot (see :meth:`CredState.snapshot`) into frozen :class:`Creds`."""
    return Freezer()(snapshot)


class Freezer:
    """:func:`freeze` with memory, for the end of a build (when no cell changes any more).

    A snapshot is a tuple of cells (hashed by identity), and forks, execs without a set-id bit
    and the many processes of one shell share the same cells: an identical snapshot gives the
    same :class:`Creds` object, and equal (value, source) pairs the same :class:`CredValue`.
    Only valid while the cells do not change: make a new one for each finished graph.
    """

    __slots__ = ("_snaps", "_cells", "_values", "_creds")

    def __init__(self):
        self._snaps: dict[tuple, Creds] = {}
        self._cells: dict[Cell, tuple] = {}        # cell -> (value, source, setid kind or None)
        self._values: dict[tuple, CredValue] = {}
        self._creds: dict[tuple, Creds] = {}        # the cells' resolved tuples -> Creds

    def __call__(self, snapshot: tuple) -> Creds:
        c = self._snaps.get(snapshot)
        if c is None:
            c = self._snaps[snapshot] = self._freeze(snapshot)
        return c

    def _value(self, v, src) -> CredValue:
        key = (v, src)
        cv = self._values.get(key)
        if cv is None:
            cv = self._values[key] = CredValue(v, src)
        return cv

    def _cell(self, cell: Cell, effective: bool) -> tuple:
        r = self._cells.get(cell)
        if r is not None:
            return r
        v, src = cell.resolve()
        setid = None
        if effective:
            # was this value raised by an exec's set-id bit?
            c = cell
            while c is not None and c.value is None and c.prev is not None and c.kind != EXEC:
                c = c.prev
            if c is not None and c.kind == EXEC and c.value is not None and c.prev is not None:
                pv, _ = c.prev.resolve()
                if pv is not None and pv != c.value:
                    setid = SIDECAR if c.source == SIDECAR else INFERRED
                    src = setid
        r = self._cells[cell] = (v, src, setid)
        return r

    def _freeze(self, snapshot: tuple) -> Creds:
        # Each cell resolves once (memo by identity, first use decides, as always); the Creds is
        # a function of the resolved tuples alone, so the many snapshots of distinct cells that
        # hold the same values share one Creds.  (suid/fsuid sharing euid's exec cell resolve to
        # the very tuple of euid's, so they report its source.)
        get = self._cells.get
        cell_ = self._cell
        key = tuple([get(c) or cell_(c, i in _EFFECTIVE_AT) for i, c in enumerate(snapshot)])
        creds = self._creds.get(key)
        if creds is None:
            creds = self._creds[key] = self._make(key)
        return creds

    def _make(self, resolved: tuple) -> Creds:
        vals = {}
        setid = None
        for f, (v, src, kind) in zip(ALL_FIELDS, resolved):
            if f == "groups":
                vals["groups"] = v
                vals["groups_source"] = src
                continue
            if kind is not None:
                setid = setid or kind
            vals[f] = self._value(v, src if v is not None else UNKNOWN)
        return Creds(**vals, setid_exec=setid)


#: indexes in a snapshot of the effective ids (whose exec cells may carry a set-id change)
_EFFECTIVE_AT = frozenset({ALL_FIELDS.index("euid"), ALL_FIELDS.index("egid")})

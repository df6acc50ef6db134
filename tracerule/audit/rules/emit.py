"""Write rules: the canonical ``auditctl -l`` text, a meaning-preserving ``fmt`` form, and the
rules.d source form.

* :func:`canonical` -- exactly the line ``auditctl -l`` (3.0.9) prints after loading the item
* :func:`lossy_notes` -- why that line would not mean the same when loaded again (empty: it would)
* :func:`fmt_lines` -- comment lines for the lossy cases + a line that keeps the meaning
* :func:`source_lines` -- the rules.d form: arch first, syscalls by name (by number with a comment
  where the target auditctl does not know the name), ``auid!=unset``, ``-k`` keys last
* :func:`listing` -- the items a rules file leaves loaded, in ``auditctl -l`` order
  (``-D`` clears, ``-A`` goes first in its list, ``-d``/``-W`` remove, lists grouped)

Every value written goes through :mod:`tracerule.audit.rules.safety` first: nothing that could
split, end or change a rule line is ever written.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable

from tracerule.audit.rules import fields as F
from tracerule.audit.rules.model import (LIST_ORDER, UNSET, Comparison, ControlLine, Field, Item, Rule,
                                         SyscallSet, Watch, perm_text)
from tracerule.audit.rules.safety import check_rule_value, problem
from tracerule.audit.tables import canonical_arch, table

DEFAULT_VERSION = F.AUDITCTL_VERSION


def _tarch(arch: str) -> str:
    a = canonical_arch(arch)
    return {"ppc64": "ppc64le", "ppc": "ppc64le", "s390": "s390x"}.get(a, a)


def _syscall_words(sc: SyscallSet, name_arch: str, version: str) -> list[str]:
    t = table(_tarch(name_arch))
    out = []
    for nr in sorted(sc.numbers):
        name = t.name(nr)
        out.append(name if name is not None and _knows(t, name, version) else str(nr))
    return out


def _knows(t, name: str, version: str) -> bool:
    if version.startswith(("3.",)):
        return t.auditctl_knows(name)
    return name in t     # 4.x knows the kernel's names


def _value_text(f: Field, *, source: bool = False) -> str:
    n, v = f.name, f.value
    if isinstance(v, str):
        return v
    if source and n == "filetype":
        for name, val in F.FTYPES.items():
            if val == v:
                return name
    if n == "arch":
        return "b64" if v & F.ARCH_64BIT else "b32"
    if n in F.ARG_FIELDS:
        return f"0x{v:X}"
    if n == "perm":
        return perm_text(v)
    if n == "exit":
        e = F.s32(v)
        name = F.ERRNOS.get(-e) if e < 0 else None
        return f"-{name}" if name else str(e)
    if n == "msgtype":
        return F.MSGTYPES.get(v, str(F.s32(v)))
    if n == "fstype":
        for name, val in F.FSTYPES.items():
            if val == v:
                return name
        return str(F.s32(v))
    if n == "inode":
        return str(v)
    if source and n in ("auid", "sessionid") and v == UNSET:
        return "unset"
    return str(F.s32(v))


def _field_text(t, *, version: str, keep_meaning: bool, source: bool = False) -> str:
    if isinstance(t, Comparison):
        return f"-C {t.left}{t.op}{t.right}"
    op = t.op
    if t.name == "exe" and version.startswith(("3.", "4.0.0", "4.0.1")) and not keep_meaning:
        op = "="
    # a line that keeps the meaning must also load: filetype by name (auditctl reads no numbers)
    if keep_meaning and t.name == "filetype":
        return f"-F {t.name}{op}{_value_text(t, source=True)}"
    return f"-F {t.name}{op}{_value_text(t, source=source)}"


def _as_rule(item: Rule | Watch, is_dir: Callable[[str], bool] | None = None) -> Rule:
    if isinstance(item, Watch):
        return item.to_rule(is_dir(item.path) if is_dir else False)
    return item


def _is_watch_listing(r: Rule) -> bool:
    if r.list != "exit" or r.syscalls is None or not r.syscalls.all:
        return False
    perm = False
    for t in r.fields:
        if isinstance(t, Comparison) or t.name not in ("perm", "path", "dir"):
            return False
        perm = perm or t.name == "perm"
    return perm


def canonical(item: Item, *, version: str = DEFAULT_VERSION, host: str | None = None,
              check: bool = True) -> str:
    """The line ``auditctl -l`` prints for this item once loaded (control lines: as written).

    ``check=False``: for identity and display only (never to be written): a value that could not
    be written safely (a user's ``/tmp/a\\ b``) is shown escaped instead of refused."""
    if isinstance(item, ControlLine):
        return item.render()
    return _render(_as_rule(item), version=version, keep_meaning=False, host=host,
                   delete=getattr(item, "delete", False) or getattr(item, "op", "") == "delete",
                   check=check)


def _shown(value: str) -> str:
    """An unsafe value, escaped for display (injective: backslash, space, controls escaped)."""
    if problem(value) is None:
        return value
    out = []
    for ch in value:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == " ":
            out.append("\\ ")
        elif ch.isspace() or o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0 or ch in "\u2028\u2029\ufeff":
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _render(r: Rule, *, version: str, keep_meaning: bool, host: str | None, delete: bool = False,
            watch_form: bool = True, check: bool = True) -> str:
    host = host or r.host
    if not check:
        from dataclasses import replace

        r = replace(r, keys=tuple(_shown(k) for k in r.keys),
                    fields=tuple(replace(t, value=_shown(t.value))
                                 if isinstance(t, Field) and isinstance(t.value, str) else t
                                 for t in r.fields))
    else:
        for k in r.keys:
            check_rule_value(k, what="key")
        for t in r.fields:
            if isinstance(t, Field) and isinstance(t.value, str):
                check_rule_value(t.value, what=t.name)
    if watch_form and _is_watch_listing(r):
        parts = []
        for t in r.fields:
            if t.name in ("path", "dir"):
                parts.append(f"{'-W' if delete else '-w'} {t.value}")
            else:
                parts.append(f"-p {perm_text(int(t.value))}")
        parts.extend(f"-k {k}" for k in r.keys)
        return " ".join(parts)
    parts = [f"{'-d' if delete else '-a'} {r.action},{r.list}"]
    name_arch = host
    for t in r.arch_fields:
        m = F.machine_of_elf(int(t.value))
        if keep_meaning and m is not None and m not in (host, F._COMPAT.get(host)):
            parts.append(f"-F arch{t.op}{m}")
        else:
            parts.append(f"-F arch{t.op}{_value_text(t)}")
        if m is not None:
            name_arch = m
    if r.list == "exit" and r.syscalls is not None:
        if r.syscalls.all:
            parts.append("-S all")
        elif r.syscalls.numbers:
            parts.append("-S " + ",".join(_syscall_words(r.syscalls, name_arch, version)))
    for t in r.fields:
        if isinstance(t, Field) and t.name == "arch":
            continue
        parts.append(_field_text(t, version=version, keep_meaning=keep_meaning))
    parts.extend(f"-F key={k}" for k in r.keys)
    return " ".join(parts)


def lossy_notes(item: Item, *, version: str = DEFAULT_VERSION, host: str | None = None,
                is_dir: Callable[[str], bool] = os.path.isdir) -> list[str]:
    """Why the ``auditctl -l`` line of this item would load as something else (empty: it would not)."""
    if isinstance(item, ControlLine):
        return []
    r = _as_rule(item, is_dir)
    host = host or r.host
    notes = []
    if version.startswith(("3.", "4.0.0", "4.0.1")) and any(
            isinstance(t, Field) and t.name == "exe" and t.op == "!=" for t in r.fields):
        notes.append(f"auditctl {version} -l prints exe!= as exe= (the negation is lost)")
    if any(isinstance(t, Field) and t.name == "filetype" for t in r.fields):
        notes.append("auditctl -l prints filetype as a number, which auditctl cannot read back "
                     "(this line gives the name)")
    for t in r.arch_fields:
        m = F.machine_of_elf(int(t.value))
        if m is not None and m not in (host, F._COMPAT.get(host)):
            notes.append(f"auditctl -l prints arch={m} as arch={_value_text(t)}, which means "
                         f"{host if t.value & F.ARCH_64BIT else F._COMPAT.get(host)} on this host")
    if _is_watch_listing(r) and isinstance(item, Rule):
        if r.action != "always":
            notes.append("auditctl -l prints this never rule as a -w watch (an always rule)")
        for t in r.fields:
            if isinstance(t, Field) and t.name == "path" and is_dir(str(t.value)):
                notes.append(f"path={t.value} is a directory: -l prints it as -w, which reloads as "
                             "dir= (the whole subtree, not only direct entries)")
    return notes


def fmt_lines(item: Item, *, version: str = DEFAULT_VERSION, host: str | None = None,
              is_dir: Callable[[str], bool] = os.path.isdir) -> list[str]:
    """``tracerule fmt``: the canonical line, or -- where -l is lossy -- ``# tracerule:`` comment
    lines naming the loss followed by a line that keeps the meaning."""
    if isinstance(item, ControlLine):
        return [item.render()]
    notes = lossy_notes(item, version=version, host=host, is_dir=is_dir)
    if not notes:
        return [canonical(item, version=version, host=host)]
    r = _as_rule(item, is_dir)
    keep_watch = not (isinstance(item, Rule) and _is_watch_listing(r) and (
        r.action != "always" or any(isinstance(t, Field) and t.name == "path" and is_dir(str(t.value))
                                    for t in r.fields)))
    line = _render(r, version=version, keep_meaning=True, host=host, watch_form=keep_watch,
                   delete=getattr(item, "delete", False) or getattr(item, "op", "") == "delete")
    if not keep_watch and r.syscalls is not None and r.syscalls.all and "-S all" not in line:
        pass
    return [f"# tracerule: {n}" for n in notes] + [line]


def source_lines(item: Item, *, version: str = DEFAULT_VERSION, host: str | None = None) -> list[str]:
    """The rules.d form (loads on auditctl ``version``): arch first, ``-S`` by name or by number
    (with a comment naming it), fields in order with ``unset`` and ``-EERRNO``, ``-k`` keys last."""
    if isinstance(item, ControlLine):
        return [item.render()]
    if isinstance(item, Watch):
        check_rule_value(item.path, what="path")
        for k in item.keys:
            check_rule_value(k, what="key")
        s = f"{'-W' if item.delete else '-w'} {item.path} -p {item.perm_text}"
        return [s + "".join(f" -k {k}" for k in item.keys)]
    r = item
    host = host or r.host
    for k in r.keys:
        check_rule_value(k, what="key")
    comments: list[str] = []
    verb = {"append": "-a", "prepend": "-A", "delete": "-d"}[r.op]
    parts = [f"{verb} {r.action},{r.list}"]
    name_arch = host
    for t in r.arch_fields:
        m = F.machine_of_elf(int(t.value))
        if m is None:
            parts.append(f"-F arch{t.op}{t.value}")
            continue
        name_arch = m
        word = "b64" if m == host else "b32" if m == F._COMPAT.get(host) else m
        parts.append(f"-F arch{t.op}{word}")
    if r.list == "exit" and r.syscalls is not None:
        if r.syscalls.all or not r.syscalls.numbers:
            parts.append("-S all")
        else:
            t = table(_tarch(name_arch))
            words, unknown = [], []
            for nr in sorted(r.syscalls.numbers):
                name = t.name(nr)
                if name is not None and _knows(t, name, version):
                    words.append(name)
                else:
                    words.append(str(nr))
                    unknown.append(f"{nr} = {name}" if name else str(nr))
            if unknown:
                comments.append(f"# {', '.join(unknown)}: given by number (auditctl {version} "
                                f"does not know {'this name' if len(unknown) == 1 else 'these names'}"
                                f" on {_tarch(name_arch)})")
            parts.append("-S " + ",".join(words))
    for t in r.fields:
        if isinstance(t, Field) and t.name == "arch":
            continue
        if isinstance(t, Field) and isinstance(t.value, str):
            check_rule_value(t.value, what=t.name)
        parts.append(_field_text(t, version=version, keep_meaning=True, source=True))
    parts.extend(f"-k {k}" for k in r.keys)
    return comments + [" ".join(parts)]


def _delete_target(it: Rule | Watch) -> Rule | Watch:
    from dataclasses import replace

    if isinstance(it, Watch):
        return replace(it, delete=False)
    return replace(it, op="append")


def listing(items: Iterable[Item], *, version: str = DEFAULT_VERSION,
            is_dir: Callable[[str], bool] = os.path.isdir) -> list[Rule | Watch]:
    """The rules a file leaves loaded, in the order ``auditctl -l`` prints them."""
    lists: dict[str, list[tuple[str, Rule | Watch]]] = {n: [] for n in LIST_ORDER}
    for it in items:
        if isinstance(it, ControlLine):
            if it.option == "-D":
                for n in lists:
                    lists[n] = [x for x in lists[n] if it.keys and not _has_keys(x[1], it.keys)]
            continue
        r = _as_rule(it, is_dir)
        bucket = lists.setdefault(r.list, [])
        deleting = (isinstance(it, Watch) and it.delete) or (isinstance(it, Rule) and it.op == "delete")
        key = canonical(_delete_target(it), version=version, check=False)   # identity only
        if deleting:
            bucket[:] = [x for x in bucket if x[0] != key]
            continue
        if any(x[0] == key for x in bucket):
            continue   # "Rule exists"
        if isinstance(it, Rule) and it.op == "prepend":
            bucket.insert(0, (key, it))
        else:
            bucket.append((key, it))
    return [x[1] for n in LIST_ORDER for x in lists.get(n, [])]


def _has_keys(it: Rule | Watch, keys: tuple[str, ...]) -> bool:
    return "\x01".join(it.keys) == "\x01".join(keys)

"""Nothing injects a rule: validation of every value tracerule writes into a rules file.

A path, key or user name taken from a trace is attacker-controlled (a file can be called
``x -k y\\n-D``).  auditctl splits rule lines on spaces, ends them at a newline, treats ``#`` words
as comments and a leading ``-`` as an option, so such a value could add, drop or change a rule.
:func:`validate_value` refuses, with a clear reason, anything containing whitespace, a newline or
other control character, a quote, a backslash or a NUL, or starting with ``-`` or ``#``; keys are
at most 256 bytes in total (AUDIT_MAX_KEY_LEN, ``\\x01`` separators included).
"""
from __future__ import annotations

from typing import Iterable

from tracerule.audit.rules.model import KEY_SEPARATOR, MAX_KEY_LEN
from tracerule.errors import InputError

PATH_MAX = 4096
NAME_MAX = 255


class UnsafeValue(InputError):
    """A value that must not be written into a rule."""


def problem(value: str, *, what: str = "value") -> str | None:
    """Why ``value`` cannot be written into a rule (None: it can)."""
    if not isinstance(value, str):
        return f"{what} is not text"
    if value == "":
        return f"{what} is empty"
    if value[0] == "-":
        return f"{what} starts with '-' (auditctl would read it as an option)"
    if value[0] == "#":
        return f"{what} starts with '#' (a rules file would read it as a comment)"
    for ch in value:
        o = ord(ch)
        if ch.isspace() or o < 0x20 or o == 0x7F or 0x80 <= o < 0xA0 or ch in "\u2028\u2029\ufeff":
            return f"{what} contains whitespace or a control character ({ch!r})"
        if ch in "\"'`":
            return f"{what} contains a quote ({ch!r})"
        if ch == "\\":
            return f"{what} contains a backslash (rules files treat '\\ ' as an escaped space)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} is not valid UTF-8"
    if what in ("path", "dir", "exe"):
        if not value.startswith("/"):
            return f"{what} must be an absolute path"
        if len(value.encode()) > PATH_MAX:
            return f"{what} is longer than PATH_MAX ({PATH_MAX})"
    if what == "key" and len(value.encode()) > MAX_KEY_LEN:
        return f"key is longer than {MAX_KEY_LEN} bytes"
    if what == "key" and KEY_SEPARATOR in value:
        return "key contains the \\x01 key separator"
    return None


def validate_value(value: str, *, what: str = "value") -> str:
    """Return ``value`` if it is safe to write, else raise :class:`UnsafeValue`."""
    why = problem(value, what=what)
    if why is not None:
        raise UnsafeValue(f"refusing to write {what} {value!r}: {why}")
    return value


def validate_keys(keys: Iterable[str]) -> tuple[str, ...]:
    """All keys safe, and their total (with separators) within 256 bytes."""
    ks = tuple(validate_value(k, what="key") for k in keys)
    total = len(KEY_SEPARATOR.join(ks).encode())
    if total > MAX_KEY_LEN:
        raise UnsafeValue(f"refusing to write keys {ks!r}: {total} bytes together, more than {MAX_KEY_LEN}")
    return ks


def validate_path(path: str) -> str:
    v = validate_value(path, what="path")
    if len(v.rstrip("/").rsplit("/", 1)[-1].encode()) > NAME_MAX:
        raise UnsafeValue(f"refusing to write path {path!r}: its last component is longer than {NAME_MAX}")
    return v


def validate_user(name: str) -> str:
    return validate_value(name, what="user")


def check_rule_value(value: str, *, what: str) -> None:
    """The emitter's last check on a string it is about to write (raises UnsafeValue)."""
    validate_value(value, what=what if what in ("path", "dir", "exe", "key") else "value")

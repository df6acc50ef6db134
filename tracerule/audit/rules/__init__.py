"""The audit rule language: model, parser, emitter, classes and families, safe values.

    from tracerule.audit.rules import parse_file, parse_line, canonical, source_lines
    res = parse_file("audit.rules")          # ParseResult: items, diagnostics (file:line:col)
    for item in res.items: print(canonical(item))   # what `auditctl -l` prints after loading
"""
from __future__ import annotations

from tracerule.audit.rules.emit import canonical, fmt_lines, listing, lossy_notes, source_lines
from tracerule.audit.rules.model import (Comparison, ControlLine, Field, Item, Location, Rule,
                                         SyscallSet, Watch)
from tracerule.audit.rules.parse import (ParseOptions, ParseResult, parse_args, parse_dir, parse_file,
                                         parse_line, parse_paths, parse_text)
from tracerule.audit.rules.safety import UnsafeValue, validate_keys, validate_path, validate_value

__all__ = ["canonical", "fmt_lines", "listing", "lossy_notes", "source_lines", "Comparison",
           "ControlLine", "Field", "Item", "Location", "Rule", "SyscallSet", "Watch", "ParseOptions",
           "ParseResult", "parse_args", "parse_dir", "parse_file", "parse_line", "parse_paths",
           "parse_text", "UnsafeValue", "validate_keys", "validate_path", "validate_value"]

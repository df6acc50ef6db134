"""Ordering (E15): first match by priority across the exit list and the inode (watch) pass;
never before always, a watch before a later never, -A prepend, rules without arch shadowing
b32 rules, a b32 catch-all after specific rules.

The harness refuses ``-A`` (it only appends); a ``-A`` rule is loaded on the kernel side as an
appended rule placed before every ``-a`` rule (the latest ``-A`` first), which is the priority
order the kernel gives prepended rules (audit-semantics.md 1.5, E15).  The simulator gets the
``-A`` text itself, so these cases check its prepend handling against that order."""
from __future__ import annotations

import pytest

from tests.differential.conftest import case, check, make, params

B64 = "-a always,exit -F arch=b64"
W = "{P} s:102 s:104 s:107 s:108 s:24"
F = make(("f", "file", 0o644))
OPEN_F = "o:257:-100:@{D}/f:0:0"

CASES = [
    case("E15_never_before_always", ["-a never,exit -F arch=b64 -S getuid -F auid={A}",
                                     f"{B64} -S getuid -F auid={{A}}",
                                     f"{B64} -S geteuid -F auid={{A}}"],
         W, "a never rule hides a later always rule (and logs nothing itself)"),
    case("E15_always_before_never", [f"{B64} -S getuid -F auid={{A}}",
                                     "-a never,exit -F arch=b64 -S getuid -F auid={A}"],
         W, "an always rule before a never rule records"),
    case("E15_two_always_first_wins", [f"{B64} -S getuid,getgid -F auid={{A}}",
                                       f"{B64} -S getuid,geteuid -F uid=0 -F auid={{A}}"],
         W, "two matching always rules: one event, under the first rule's key"),
    case("E15_D2_watch_before_later_never", ["-w {D}/f -p r",
                                             "-a never,exit -F arch=b64 -S openat -F exe={P}"],
         ["{P}", OPEN_F], "a watch added before a never,exit rule still records (inode pass)",
         setup=F),
    case("E15_D3_never_before_watch", ["-a never,exit -F arch=b64 -S openat -F exe={P}",
                                       "-w {D}/f -p r",
                                       f"{B64} -S getuid -F exe={{P}}"],
         ["{P}", OPEN_F, "s:102"], "a never,exit rule hides a watch added after it", setup=F),
    case("E15_exit_rule_before_watch", [f"{B64} -S openat -F exe={{P}} -F success=1",
                                        "-w {D}/f -p r"],
         ["{P}", OPEN_F], "an exit rule added before a watch decides the event (its key)",
         setup=F),
    case("E15_watch_before_exit_rule", ["-w {D}/f -p r",
                                        f"{B64} -S openat -F exe={{P}} -F success=1"],
         ["{P}", OPEN_F], "a watch added before an exit rule decides the event; the exit rule "
                          "gets the loader's opens", setup=F),
    case("E15_prepend_beats_appended", [f"{B64} -S getuid -F auid={{A}}",
                                        f"-A always,exit -F arch=b64 -S getuid,geteuid -F exe={{P}}"],
         W, "-A always is evaluated before every appended rule"),
    case("E15_latest_prepend_first", [f"-A always,exit -F arch=b64 -S getuid -F auid={{A}}",
                                      f"-A always,exit -F arch=b64 -S getuid,getgid -F exe={{P}}",
                                      f"{B64} -S getuid,getgid,geteuid -F auid={{A}}"],
         W, "of two -A rules the one added last comes first"),
    case("E15_prepend_never_beats_watch", ["-w {D}/f -p r",
                                           "-A never,exit -F arch=b64 -S openat -F exe={P}",
                                           f"{B64} -S getuid -F exe={{P}}"],
         ["{P}", OPEN_F, "s:102"], "-A never beats an earlier watch", setup=F),
    case("E03_no_arch_never_shadows_b32", ["-a never,exit -S sched_yield -F exe={P}",
                                           "-a always,exit -F arch=b32 -S getuid -F exe={P}",
                                           "-a always,exit -F arch=b32 -S sched_yield -F exe={P}"],
         "{P} s:24 i:24 i:158",
         "a never rule without arch (number 24) also hides the i386 getuid (#24) rule"),
    case("b32_catch_all_after_specific", ["-a always,exit -F arch=b32 -S getuid -F exe={P}",
                                          "-a always,exit -F arch=b32 -S all -F exe={P}",
                                          f"{B64} -S all -F exe={{P}} -F success=0"],
         "{P} s:24 i:24 i:158 i:20 s:3:99",
         "a b32 catch-all after a specific b32 rule gets the rest of the i386 calls"),
    case("never_catch_all_then_watch", ["-a never,exit -F arch=b32 -S all -F exe={P}",
                                        "-w {D}/f -p r",
                                        "-a always,exit -F arch=b32 -S getuid -F exe={P}"],
         ["{P}", OPEN_F, "i:24", "i:5:@{D}/f:0:0"],
         "a b32 never catch-all hides a later watch only for the i386 open", setup=F),
]


@pytest.mark.kernel
@pytest.mark.parametrize("c", params(CASES))
def test_differential(diff, c):
    check(diff, c)

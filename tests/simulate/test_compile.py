"""Loading rules as the kernel does (-D, -d, -W, -w dir/file, lists) and per-rule summaries."""
from __future__ import annotations

from tracerule.audit.record import UNSET, FileRef
from tracerule.audit.rules import parse_file
from tracerule.audit.simulate import (MappingResolver, PathFacts, compile_rules, literal_resolver,
                                      simulate, summarize)

from .util import decide, fname, key_of, rec, rules

SUDO = FileRef("/usr/bin/sudo", 8, 500, "/usr/bin/sudo")
DOCKER = FileRef("/usr/bin/docker", 8, 501, "/usr/libexec/docker/docker")
RES = MappingResolver([PathFacts(p, True, True, False, False, p, 8, i, p, 8, i)
                       for p, i in (("/usr/bin/sudo", 500), ("/usr/libexec/docker/docker", 501))])


def test_seed_article_rules_hits_by_index_and_auid_not_zero_matches_no_login():
    c = rules("-a always,exit -F arch=b64 -S execve -F exe=/usr/bin/sudo -F auid!=0\n"
              "-a always,exit -F arch=b64 -S execve -F exe=/usr/libexec/docker/docker -F auid!=0\n",
              resolver=RES)
    recs = [rec("execve", pid=10, exe=SUDO, auid=1000), rec("read", pid=10, exe=SUDO, auid=1000),
            rec("execve", pid=11, exe=DOCKER, auid=1000),
            rec("execve", pid=12, exe=SUDO, auid=UNSET),          # no login at all: still matches
            rec("execve", pid=13, exe=SUDO, auid=0)]
    s = summarize(c, recs)
    assert (s[0].hits, s[0].processes, s[0].first) == (2, {10, 12}, 0)
    assert (s[1].hits, s[1].processes) == (1, {11})
    assert all(d.key is None for d in simulate(c, recs))


def test_delete_all_and_delete_one():
    c = rules("-a always,exit -F arch=b64 -S getpid -k old\n-D\n-a always,exit -F arch=b64 -S getpid -k new\n")
    assert key_of(c, rec("getpid")) == "new"
    c = rules("-a always,exit -F arch=b64 -S getpid -k a\n-a always,exit -F arch=b64 -S getpid -k b\n"
              "-d always,exit -F arch=b64 -S getpid -k a\n")
    assert key_of(c, rec("getpid")) == "b"
    from tracerule.audit.rules import ControlLine, parse_text

    items = parse_text("-a always,exit -F arch=b64 -S getpid -k a\n"
                       "-a always,exit -F arch=b64 -S getpid -k b\n").items
    c = compile_rules(items + [ControlLine("-D", None, ("a",))])   # delete by key
    assert key_of(c, rec("getpid")) == "b"


def test_watch_becomes_dir_or_path_by_what_the_path_is_at_load():
    res = MappingResolver([PathFacts("/etc/x", True, True, False, True, "/etc/x", 8, 40, "/etc/x", 8, 40)])
    c = rules("-w /etc/x/ -p w -k wx\n", resolver=res)
    assert c.rules[0].rule.fields[0].name == "dir" and c.rules[0].via == "exit"
    deep = fname("/etc/x/a/b", 41, ancestry=((8, 2), (8, 40), (8, 42)))
    assert key_of(c, rec("openat", a2=1, names=(deep,))) == "wx"
    c2 = rules("-w /etc/y -p w -k wy\n", resolver=literal_resolver)
    assert c2.rules[0].rule.fields[0].name == "path" and c2.rules[0].via == "watch"
    assert any(n.field == "watch" for n in c2.notes)


def test_user_and_filesystem_lists_do_not_decide_syscalls():
    c = rules("-a always,user -F uid=0\n-a never,filesystem -F fstype=debugfs\n")
    assert decide(c, rec("getpid")) is None
    assert any(n.field == "list" for n in c.notes)


def test_missing_dir_and_watch_parent_are_refused_like_the_kernel():
    res = MappingResolver([PathFacts("/nodir", False, True, canonical="/nodir", real="/nodir"),
                           PathFacts("/nop/f", False, False, canonical="/nop/f", real="/nop/f")])
    c = rules("-a always,exit -F dir=/nodir -F perm=w -k d\n-w /nop/f -p w -k f\n", resolver=res)
    assert decide(c, rec("openat", a2=1, names=(fname("/nodir/x", 3),))) is None
    assert sum(1 for n in c.notes if "ENOENT" in n.text) == 2


def test_neo23x0_compiles_and_runs(tmp_path):
    from tests.conftest import RULES_DATA

    res = parse_file(RULES_DATA / "neo23x0" / "audit.rules")
    c = compile_rules(res.items, file_identity=literal_resolver)
    assert len(c.rules) > 300
    ds = list(simulate(c, [rec("execve", euid=0, auid=1000, names=(fname("/usr/bin/sudo", 9),)),
                           rec("read")]))
    assert ds and ds[0].index == 0 and ds[0].action == "always" and ds[0].key

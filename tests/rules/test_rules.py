"""Parser, emitter, classes and safety: inline rules, golden files, hypothesis invariants."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings, strategies as st

from tests.conftest import DATA, RULES_DATA
from tracerule.audit.rules import (ControlLine, Rule, UnsafeValue, Watch, canonical, fmt_lines, listing,
                                   parse_line, parse_text, source_lines, validate_keys, validate_value)
from tracerule.audit.rules import classes
from tracerule.audit.rules.parse import ParseOptions, parse_dir, rules_d_files

EXPECT = DATA / "rules_expect"
OPTS = ParseOptions(user=lambda n: {"root": 0, "bob": 1000}.get(n), group=lambda n: {"adm": 4}.get(n),
                    is_dir=lambda p: p in ("/srv/lab/d", "/dir2", "/tmp"))


def one(line: str):
    items, diags = parse_line(line, options=OPTS)
    assert not [d for d in diags if d.severity.value == "error"], diags
    assert len(items) == 1
    return items[0]


def refusal(line: str) -> str:
    items, diags = parse_line(line, file="f.rules", lineno=7, options=OPTS)
    errs = [d for d in diags if d.severity.value == "error"]
    assert errs and not items, (items, diags)
    assert errs[0].file == "f.rules" and errs[0].line == 7 and errs[0].column > 0
    return errs[0].message


# audit-semantics.md section 8: input -> what auditctl 3.0.9 -l printed on this kernel
CANONICAL = [
    ("-a exit,always -F arch=b64 -S openat,open,creat -F success=0 -k multi",
     "-a always,exit -F arch=b64 -S open,creat,openat -F success=0 -F key=multi"),
    ("-a always,exit -S open -k noarch", "-a always,exit -S open -F key=noarch"),
    ("-a always,exit -F arch=b32 -S setuid -S setuid32 -k x", "-a always,exit -F arch=b32 -S setuid,setuid32 -F key=x"),
    ("-a always,exit -F arch=i386 -S execve -k e", "-a always,exit -F arch=b32 -S execve -F key=e"),
    ("-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -F uid=root -F euid=0 -k uids",
     "-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=-1 -F uid=0 -F euid=0 -F key=uids"),
    ("-a always,exit -F arch=b64 -S setuid -C uid!=euid -C auid!=uid -F key=cmp",
     "-a always,exit -F arch=b64 -S setuid -C uid!=euid -C uid!=auid -F key=cmp"),
    ("-a always,exit -F arch=b64 -S socket -F a0=2 -F a1&0x1 -F a1&=3 -F a2=0x100000006 -k s",
     "-a always,exit -F arch=b64 -S socket -F a0=0x2 -F a1&0x1 -F a1&=0x3 -F a2=0x6 -F key=s"),
    ("-a always,exit -F path=/srv/lab/f1 -F perm=wa -k pw", "-w /srv/lab/f1 -p wa -k pw"),
    ("-w /srv/lab/f2 -p xwra -k w2 -k second", "-w /srv/lab/f2 -p rwxa -k w2 -k second"),
    ("-w /srv/lab/d/ -p w -k dirw", "-w /srv/lab/d -p w -k dirw"),
    ("-a always,exit -F arch=b64 -F path=/f -F perm=r -k k", "-a always,exit -F arch=b64 -S all -F path=/f -F perm=r -F key=k"),
    ("-a never,exit -F exe=/usr/bin/dash", "-a never,exit -S all -F exe=/usr/bin/dash"),
    ("-A never,exit -F arch=b64 -S getpid", "-a never,exit -F arch=b64 -S getpid"),
    ("-a exclude,always -F msgtype=CWD", "-a always,exclude -F msgtype=CWD"),
    ("-a user,never -F uid=1234", "-a never,user -F uid=1234"),
    ("-a task,never -F uid=4321", "-a never,task -F uid=4321"),
    ("-a always,exit -F arch=b64 -S 2047 -k k",
     "-a always,exit -F arch=b64 -S rename,mkdir,rmdir,creat,link,unlink,symlink,mknod,mkdirat,mknodat,"
     "unlinkat,renameat,linkat,symlinkat,renameat2 -F key=k"),
    ("-a always,exit -F arch=b64 -S 451,462,463 -k k", "-a always,exit -F arch=b64 -S 451,462,463 -F key=k"),
    ("-a always,exit -F arch=b64 -S getpid -k alpha -k beta", "-a always,exit -F arch=b64 -S getpid -F key=alpha -F key=beta"),
    ("-a always,exit -F arch=b64 -S open -F exit=-EACCES -F exit=EPERM -F a1<=-1 -F filetype=file -F gid=adm -k z",
     "-a always,exit -F arch=b64 -S open -F exit=-EACCES -F exit=1 -F a1<=0xFFFFFFFF -F filetype=32768 -F gid=4 -F key=z"),
    ("-a never,exit -F arch=b64 -S open -F exe!=/usr/bin/x", "-a never,exit -F arch=b64 -S open -F exe=/usr/bin/x"),
    ("-a always,exit -F arch=aarch64 -S openat -k x", "-a always,exit -F arch=b64 -S openat -F key=x"),
    ("-a always,exit -S all -F dir=/srv/lab/d -F perm=w -F key=k", "-w /srv/lab/d -p w -k k"),
    ("-a never,filesystem -F fstype=tracefs", "-a never,filesystem -F fstype=tracefs"),
    ("-a always,exit -F arch=b64 -S execve -F auid=unset -F sessionid=-1 -k a", "-a always,exit -F arch=b64 -S execve -F auid=-1 -F sessionid=-1 -F key=a"),
    ("-a always,exit -F arch=b64 -S execve -F uid=0x3e8 -F loginuid=bob -k a", "-a always,exit -F arch=b64 -S execve -F uid=1000 -F auid=1000 -F key=a"),
    ("-a always,exit -F arch=b64 -S openat -F obj_uid=0 -C obj_gid!=gid -F key=a", "-a always,exit -F arch=b64 -S openat -F obj_uid=0 -C gid!=obj_gid -F key=a"),
    ("-a always,exit -F arch=b64 -S 0 -k z", "-a always,exit -F arch=b64 -S read -F key=z"),
    ("-a always,exit -F arch=b64 -S execve -F key=a -F uid=0", "-a always,exit -F arch=b64 -S execve -F uid=0 -F key=a"),
    ("-a always,user -F msgtype=1100 -F uid=5", "-a always,user -F msgtype=USER_AUTH -F uid=5"),
    ("-a always,exit -F arch=b64 -S execve -F pers=8 -F ppid=1 -F inode=4294967295 -F saddr_fam=10 -k z",
     "-a always,exit -F arch=b64 -S execve -F pers=8 -F ppid=1 -F inode=4294967295 -F saddr_fam=10 -F key=z"),
]


@pytest.mark.parametrize("line,expected", CANONICAL, ids=[c[0][:50] for c in CANONICAL])
def test_canonical_equals_auditctl_listing(line, expected):
    assert canonical(one(line)) == expected


@pytest.mark.parametrize("line,expected", CANONICAL, ids=[c[0][:50] for c in CANONICAL])
def test_canonical_is_a_fixed_point(line, expected):
    """Reading the canonical line back gives the same canonical line (for non-lossy rules)."""
    item = one(line)
    if any("dir" == getattr(f, "name", "") for f in getattr(item, "fields", ())):
        return
    again = one(fmt_lines(item)[-1])
    assert canonical(again) == expected


REFUSALS = [
    ("-a always,exit -F arch=b64 -S fchmodat2 -k x", "Syscall name unknown: fchmodat2"),
    ("-a always,exit -F arch=b64 -S open,nosuch -k x", "Syscall name unknown: nosuch"),
    ("-a always,exit -S 2048 -k x", "Syscall name unknown: 2048"),
    ("-a always,exit -F arch=aarch64 -S open -k x", "Syscall name unknown: open"),
    ("-a always,exit -F uid=nosuchuser -S open -k x", "Unknown user: nosuchuser"),
    ("-a always,exit -S open -F gid=-1 -k x", "Unknown group: -1"),
    ("-a always,exit -S open -F arch=b64 -k x", "arch must be before -S"),
    ("-a always,exit -F perm!=r -S open -k x", "perm only takes = operator"),
    ("-a always,exit -F perm=q -S open -k x", "Permission can only contain  'rwxa'"),
    ("-a always,exit -F perm=rwxaa -S open -k x", "String value too long"),
    ("-a always,exit -F inode>5 -S open -k x", "inode only takes = or != operators"),
    ("-a always,exit -F exe>/x -k x", "exe only takes = or != operators"),
    ("-a always,exit -F msgtype=CWD -S open -k x", "msgtype field can only be used with exclude or user filter list"),
    ("-a always,exit -F obj=/x -k x", "-F unknown field: obj"),
    ("-a always,exit -F loginuid_set=1 -S open", "-F unknown field: loginuid_set"),
    ("-a always,exit -F xyz -S open", "-F missing operation for xyz"),
    ("-a always,exit -F uid= -S open", "-F missing value after operation for uid"),
    ("-a always,exit -F success=yes -S open", "-F value should be number for success"),
    ("-a always,exit -F exit=EFOO -S open", "-F unknown errno - exit"),
    ("-a always,exit -F filetype=symlink -S open", "-F unknown file type -  filetype"),
    ("-a always,user -F perm=r", "perm can only be used with exit filter list"),
    ("-a always,task -F ppid=1", "ppid can only be used with exit filter list"),
    ("-a always,exclude -F euid=0", "Only msgtype, *uid, *gid, pid, and subj* fields can be used with exclude filter"),
    ("-a always,exit -F fstype=tmpfs -S open", "fstype field is not valid for the filter"),
    ("-a always,exit -C uid=gid -S open", "-C incompatible comparison uid"),
    ("-a always,exit -C uid<gid -S open", "uid<gid only takes = or != operators"),
    ("-a always,exit -C foo=uid -S open", "-C unknown field: foo"),
    ("-a always,task -S open", "Error: syscall auditing being added to task list"),
    ("-a always,exclude -S open", "Error: syscall auditing cannot be put on exclude list"),
    ("-a always,entry -S open", "Append rule - bad keyword always,entry"),
    ("-a always,io_uring -S openat", "Append rule - bad keyword always,io_uring"),
    ("-A possible,exit -S open", "Add rule - bad keyword possible,exit"),
    ("-a always,exit -F arch=b64 -k z -S getuid", "key option needs a watch or syscall given prior to it"),
    # -k needs the perm/exe/path/dir field BEFORE it (auditctl 3.0.9 setopt checks at -k)
    ("-a always,exit -F auid=1000 -k px -F perm=x", "key option needs a watch or syscall given prior to it"),
    ("-a always,exit -F uid=0 -k x", "key option needs a watch or syscall given prior to it"),
    ("-a always,exit -C uid!=obj_uid -k x", "key option needs a watch or syscall given prior to it"),
    ("-a always,exit -F uid=0 -F key=x", "Key field needs a watch, syscall or exe path given prior to it"),
    ("-a always,exit -F path=/x -F perm=x -k -F T1078", "parameter passed without an option given"),
    ("-a always,exit -S open -k", "Option -k is invalid"),
    ("-a always,exit -d never,exit", "Multiple rule insert/delete operations are not allowed"),
    ("-w relative -k x", "The path must start with '/'"),
    ("-w /etc/passwd -p q", "Permission q isn't supported"),
    ("-w /etc/passwd -p rwxaa", "permission rwxaa is too long"),
    ("-a always,exit -w /etc/passwd", "watch option can't be given with a syscall"),
    ("-F uid=0", "List must be given before field"),
    ("-S open", "Error - no list specified"),
    ("-a always,exit -S open -F saddr_fam=46", "value is too large for field: saddr_fam"),
    ("-a always,exit -S open -k " + "k" * 257, "key option exceeds size limit"),
    ("-a always,exit -S open -k " + "k" * 200 + " -k " + "k" * 56, "key option exceeds size limit"),
    ("-a always,exit -S open " + " ".join(f"-F uid!={i}" for i in range(63)) + " -k z",
     "Too many fields in rule: key=z"),
    ("-e 3", "Enable must be 0, 1, or 2 was 3"),
    ("-b x", "Backlog must be a numeric value was x"),
    ("-R /etc/audit/audit.rules", "Error - nested rule files not supported"),
    # the kernel's EINVAL for rules auditctl sends
    ("-a always,exit -S open -F uid=-1 -k x", "Error sending add rule data request (Invalid argument)"),
    ("-a always,exit -S open -F auid<unset -k x", "Error sending add rule data request (Invalid argument)"),
    ("-a always,exit -F path!=/etc -k x", "Error sending add rule data request (Invalid argument)"),
    ("-a always,exit -F path=relative -k x", "Error sending add rule data request (Invalid argument)"),
    ("-a always,exit -S open -F uid&1 -k x", "Error sending add rule data request (Invalid argument)"),
]


@pytest.mark.parametrize("line,expected", REFUSALS, ids=[r[1][:40] + "|" + r[0][:30] for r in REFUSALS])
def test_refused_with_auditctls_reason(line, expected):
    assert refusal(line).startswith(expected)


# auditctl 3.0.9: -k is accepted after a -F field of type perm (setopt 'F' sets _audit_permadded),
# path=/dir= (set inside audit_rule_fieldpair_data), exe= (_audit_exeadded), besides -S and -w
KEY_AFTER_FIELD = [
    ("-a always,exit -F perm=x -F auid=1000 -k px", "perm"),
    ("-a always,exit -F auid=1000 -F perm=wa -k px", "perm"),
    ("-a always,exit -F path=/etc/passwd -k p", "path"),
    ("-a always,exit -F dir=/tmp -k d", "dir"),
    ("-a always,exit -F exe=/usr/bin/id -k e", "exe"),
    ("-a always,exit -F perm=x -F key=px", "perm"),
]


@pytest.mark.parametrize("line,field", KEY_AFTER_FIELD, ids=[r[0] for r in KEY_AFTER_FIELD])
def test_key_accepted_after_perm_path_dir_exe_field(line, field):
    r = one(line)
    assert isinstance(r, Rule) and r.keys and r.syscalls.all
    assert any(getattr(f, "name", None) == field for f in r.fields)


def test_63_fields_is_the_limit():
    ok = "-a always,exit -S open " + " ".join(f"-F uid!={i}" for i in range(62)) + " -k z"
    assert one(ok).field_count == 63


def test_all_refusals_of_a_file_are_collected_with_file_line_column():
    text = "-D\n# comment\n-a always,exit -F arch=b64 -S nosuch -k a\n\n-w /etc/passwd -p wa -k p\n-a bogus\n"
    res = parse_text(text, file="x.rules", options=OPTS)
    assert [(d.line, d.column) for d in res.errors] == [(3, 31), (6, 4)]
    assert res.refused == 2 and len(res.items) == 2
    assert isinstance(res.items[0], ControlLine) and isinstance(res.items[1], Watch)


def test_duplicate_rule_is_refused_like_the_kernel():
    res = parse_text("-w /etc/passwd -p wa -k p\n-w /etc/passwd/ -p aw -k p\n", options=OPTS)
    assert [d.code for d in res.errors] == ["R004"] and "Rule exists" in res.errors[0].message


def test_arch_mismatch_warning():
    items, diags = parse_line("-a always,exit -S open -k x", options=OPTS)
    assert items and [d.code for d in diags] == ["R101"]
    assert not parse_line("-a always,exit -F arch=b64 -S open -k x", options=OPTS)[1]


def test_control_lines():
    for line, opt, val in [("-D", "-D", None), ("-b 8192", "-b", "8192"), ("-f 1", "-f", "1"), ("-e 2", "-e", "2"),
                           ("-r 100", "-r", "100"), ("--backlog_wait_time 60000", "--backlog_wait_time", "60000"),
                           ("--loginuid-immutable", "--loginuid-immutable", None), ("-i", "-i", None), ("-c", "-c", None)]:
        it = one(line)
        assert isinstance(it, ControlLine) and (it.option, it.value) == (opt, val) and it.render() == line


def test_backslash_space_escape_and_comment_rules():
    it = one(r"-w /srv/with\ space -p r -k k")
    assert isinstance(it, Watch) and it.path == "/srv/with space"
    assert parse_line("   # -a always,exit -S all", options=OPTS) == ([], [])
    assert "parameter passed" in refusal("-w /etc/passwd -p r -k k # trailing comment")


def test_syscall_names_resolved_against_the_arch_before_s():
    r = one("-a always,exit -F arch=b32 -S socketcall,chown32 -k k")
    assert r.syscalls.arch == "i386" and r.syscalls.numbers == {102, 212}
    r = one("-a always,exit -F arch!=b64 -S open -k k")   # auditctl resolves with the host table
    assert r.syscalls.numbers == {2}


def test_listing_order_groups_lists_and_prepends():
    text = ("-a always,exit -F arch=b64 -S open -k a\n-a always,exclude -F msgtype=CWD\n"
            "-A never,exit -F arch=b64 -S getpid\n-a never,task\n-A always,exit -F arch=b64 -S read -k c\n"
            "-d always,exit -F arch=b64 -S open -k a\n-a always,exit -F arch=b64 -S write -k d\n")
    out = [canonical(i) for i in listing(parse_text(text, options=OPTS).items)]
    assert out == ["-a never,task", "-a always,exit -F arch=b64 -S read -F key=c",
                   "-a never,exit -F arch=b64 -S getpid", "-a always,exit -F arch=b64 -S write -F key=d",
                   "-a always,exclude -F msgtype=CWD"]
    assert listing(parse_text("-w /a -k x\n-D\n-w /b -k y\n", options=OPTS).items)[0].path == "/b"


# -- lossy cases and the source form -----------------------------------------------------------------

def test_lossy_cases_keep_the_meaning_and_say_so():
    out = fmt_lines(one("-a never,exit -F arch=b64 -S open -F exe!=/usr/bin/x -k k"))
    assert out[-1] == "-a never,exit -F arch=b64 -S open -F exe!=/usr/bin/x -F key=k"
    assert out[0].startswith("# tracerule:") and "exe!=" in out[0]
    out = fmt_lines(one("-a always,exit -F arch=aarch64 -S openat -k x"))
    assert out[-1] == "-a always,exit -F arch=aarch64 -S openat -F key=x" and "arch=b64" in out[0]
    out = fmt_lines(one("-a always,exit -F path=/dir2 -F perm=w -k k"), is_dir=lambda p: p == "/dir2")
    assert out[-1] == "-a always,exit -S all -F path=/dir2 -F perm=w -F key=k" and "dir=" in out[0]
    out = fmt_lines(one("-a never,exit -F path=/f -F perm=w -k k"), is_dir=lambda p: False)
    assert out[-1].startswith("-a never,exit") and "never" in out[0]
    assert fmt_lines(one("-w /etc/passwd -p wa -k p")) == ["-w /etc/passwd -p wa -k p"]


def test_source_form_arch_first_unset_numbers_with_comment():
    src = source_lines(one("-a always,exit -S 452,268 -F auid!=-1 -F arch=b64 -k perm_mod"
                           .replace("-S 452,268 -F auid!=-1 -F arch=b64", "-F arch=b64 -S 452,268 -F auid!=-1")))
    assert src == ["# 452 = fchmodat2: given by number (auditctl 3.0.9 does not know this name on x86_64)",
                   "-a always,exit -F arch=b64 -S fchmodat,452 -F auid!=unset -k perm_mod"]
    r = one(src[-1])
    assert r.syscalls.numbers == {268, 452} and r.keys == ("perm_mod",)
    assert source_lines(one("-a always,exit -F arch=b32 -S all -F exit=-EPERM -k z")) == [
        "-a always,exit -F arch=b32 -S all -F exit=-EPERM -k z"]
    assert source_lines(one("-a always,exit -F path=/x -F perm=x -k z"))[-1] == \
        "-a always,exit -S all -F path=/x -F perm=x -k z"


# -- golden files over the public sets ------------------------------------------------------------

SET_DIRS = ["audit-userspace", "auditd-attack", "neo23x0"]


@pytest.mark.parametrize("name", SET_DIRS)
def test_golden_fmt_of_public_sets(name):
    """Canonical and source forms of each public set (regenerate: TRACERULE_REGEN=1)."""
    opts = ParseOptions(is_dir=lambda p: False, user=lambda n: {"root": 0}.get(n), group=lambda n: None)
    res = parse_dir(RULES_DATA / name, options=opts)
    got = []
    for it in res.items:
        got.append(canonical(it) if not isinstance(it, ControlLine) else it.render())
        got.extend("  src: " + s for s in source_lines(it))
    got.extend(f"refused: {os.path.basename(d.file)}:{d.line}:{d.column}: {d.message}" for d in res.errors)
    path = EXPECT / f"{name}.txt"
    text = "\n".join(got) + "\n"
    if os.environ.get("TRACERULE_REGEN") == "1":
        path.write_text(text)
    assert text == path.read_text()


def test_source_form_reads_back_to_the_same_rule():
    opts = ParseOptions(is_dir=lambda p: False, user=lambda n: {"root": 0}.get(n), group=lambda n: None)
    for name in SET_DIRS:
        for it in parse_dir(RULES_DATA / name, options=opts).items:
            if isinstance(it, ControlLine):
                continue
            back = one(source_lines(it)[-1]) if not isinstance(it, Watch) else it
            assert canonical(back) == canonical(it)


def test_rules_d_augenrules_order(tmp_path):
    for n in ("99-z.rules", "10-a.rules", "README", "2-b.rules"):
        (tmp_path / n).write_text("-D\n")
    assert [p.name for p in rules_d_files(tmp_path)] == ["10-a.rules", "2-b.rules", "99-z.rules"]


# -- classes and families -------------------------------------------------------------------------

def test_kernel_classes():
    assert classes.perm_letters("x86_64", "openat") == {"r", "w"}
    assert classes.perm_letters("x86_64", "execveat") == {"x"}
    assert classes.perm_letters("x86_64", "fchmodat2") == {"a"}
    assert classes.perm_letters("x86_64", "truncate") == {"w"}
    assert classes.perm_letters("x86_64", "stat") == set() and classes.perm_letters("x86_64", "write") == set()
    assert classes.perm_letters("i386", "socketcall") == {"w"}
    assert {"truncate64", "ftruncate64"} <= set(classes.kernel_class("i386", "write"))
    assert {"chown32", "fchown32", "lchown32"} <= set(classes.kernel_class("i386", "chattr"))
    assert "truncate64" not in classes.kernel_class("x86_64", "write")
    assert set(classes.selector_members(2046).values()) == set(classes.kernel_class("i386", "dir_write"))


def test_families_per_arch():
    assert set(classes.family("x86_64", "exec")) == {"execve", "execveat"}
    assert set(classes.family("x86_64", "setid")) == {"setuid", "setgid", "setreuid", "setregid", "setresuid",
                                                      "setresgid", "setfsuid", "setfsgid"}
    i386 = classes.family("i386", "setid")
    assert i386["setuid32"] == 213 and i386["setuid"] == 23
    net = classes.family("i386", "network")
    assert net["socketcall"] == 102 and net["socket"] == 359 and "accept" not in net
    assert "socketcall" not in classes.family("x86_64", "network")
    assert "open" not in classes.family("aarch64", "open") and "openat" in classes.family("aarch64", "open")
    assert classes.family("x86_64", "chmod")["fchmodat2"] == 452
    assert {"unshare", "setns", "pivot_root", "mount", "umount2"} <= set(classes.family("x86_64", "mount_ns"))


# -- nothing injects a rule -----------------------------------------------------------------------

HOSTILE = ["x -k y", "a\n-D", "/tmp/x\t-w", "-D", "--loginuid-immutable", "#x", "a\"b", "it's", "a\\ b",
           "a\x00b", "a\x1bb", "a\u2028b", "", "k\x01k", "a b", "/x\r"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_refused(value):
    for what in ("key", "path", "user"):
        with pytest.raises(UnsafeValue):
            validate_value(value if what != "path" or value.startswith(("/", "-", "#")) or not value
                           else "/" + value, what=what)


def test_emitter_refuses_to_write_a_hostile_key_or_path():
    r = one("-a always,exit -F arch=b64 -S execve -k ok")
    with pytest.raises(UnsafeValue):
        canonical(r.with_keys(("ok -k evil",)))
    with pytest.raises(UnsafeValue):
        source_lines(Watch("/tmp/a\n-D", 2, ("k",)))
    with pytest.raises(UnsafeValue):
        validate_keys(["k" * 200, "k" * 56])
    assert validate_keys(["k" * 200, "k" * 55]) == ("k" * 200, "k" * 55)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=20))
def test_whatever_passes_validation_round_trips_as_one_rule(path_tail, key):
    """Any path/key the validator accepts yields exactly one rule that reads back with the same
    path and keys; anything else is refused before writing."""
    path = "/" + path_tail
    try:
        validate_value(path, what="path")
        validate_keys([key])
    except UnsafeValue:
        return
    line = source_lines(Watch(path, 6, (key,)))[-1]
    items, diags = parse_line(line, options=OPTS)
    assert not [d for d in diags if d.severity.value == "error"], (line, diags)
    assert len(items) == 1 and isinstance(items[0], Watch)
    assert items[0].keys == (key,) and items[0].path.rstrip("/") == path.rstrip("/") or path.endswith("/")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_parser_never_crashes(line):
    items, diags = parse_line(line, options=OPTS)
    assert all(d.code != "R999" for d in diags)

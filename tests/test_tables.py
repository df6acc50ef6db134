import shutil
import subprocess
import sys

import pytest

from tracerule.audit import tables
from tracerule.audit.tables import parse_unknown_syscall, resolve_arch, table


@pytest.mark.parametrize("arch,name,nr", [
    ("x86_64", "execve", 59), ("x86_64", "execveat", 322), ("x86_64", "openat2", 437),
    ("i386", "execve", 11), ("i386", "setuid32", 213), ("i386", "socketcall", 102),
    ("i386", "socket", 359), ("aarch64", "openat", 56), ("x86_64", "fchmodat2", 452),
    ("i386", "fchmodat2", 452), ("x86_64", "file_setattr", 469),
])
def test_numbers(arch, name, nr):
    t = table(arch)
    assert t.nr(name) == nr
    assert t.name(nr) == name


def test_arch_specific_names():
    assert table("aarch64").nr("open") is None        # aarch64 has no open
    assert table("x86_64").nr("setuid32") is None
    assert table("x86_64").nr("map_shadow_stack") == 453
    assert table("i386").nr("map_shadow_stack") is None


@pytest.mark.parametrize("name,known", [("execve", True), ("set_mempolicy_home_node", True),
                                        ("fchmodat2", False), ("mseal", False)])
def test_auditctl_knows(name, known):
    assert table("x86_64").auditctl_knows(name) is known


@pytest.mark.parametrize("spec,host,want", [("b64", "x86_64", "x86_64"), ("b32", "x86_64", "i386"),
                                            ("i686", "x86_64", "i386"), ("b32", "aarch64", "arm")])
def test_resolve_arch(spec, host, want):
    assert resolve_arch(spec, host) == want


def test_resolve_arch_unknown():
    with pytest.raises(tables.UnknownArch):
        resolve_arch("vax")


@pytest.mark.parametrize("name,nr", [("syscall_0x1f4", 500), ("syscall_317", 317), ("syscall_0xbad", 0xBAD),
                                     ("read", None), ("syscall_zz", None)])
def test_unknown_syscall_names(name, nr):
    assert parse_unknown_syscall(name) == nr


@pytest.mark.skipif(shutil.which("ausyscall") is None, reason="ausyscall not installed")
def test_generated_tables_match_installed_ausyscall(tmp_path):
    """The committed tables are what generate.py makes from the installed ausyscall."""
    from syscall_tables import DIR
    src = (DIR / "generate.py").read_text()
    gen = tmp_path / "generate.py"
    gen.write_text(src)
    subprocess.run([sys.executable, str(gen)], check=True, capture_output=True)
    for arch in tables.ARCHES:
        ours = [l for l in (DIR / f"{arch}.tsv").read_text().splitlines() if not l.startswith("#")]
        fresh = [l for l in (tmp_path / f"{arch}.tsv").read_text().splitlines() if not l.startswith("#")]
        assert ours == fresh, arch

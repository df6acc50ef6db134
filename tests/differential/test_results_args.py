"""Results and arguments: success, exit (errno names, unsigned compares), a0..a3 with every
operator and the bit masks incl. the unsigned 32-bit edges; arch (no arch, b64, b32, arch!=,
machine names, b32 catch-alls); i386 socketcall; personality.  x86_64 numbers: close 3, dup 32,
fsync 74, fdatasync 75, fchdir 81, kill 62, sched_yield 24, getuid 102, openat 257,
fchownat 260; i386: getuid (16-bit) 24, sched_yield 158, getpid 20, socketcall 102, socket 359."""
from __future__ import annotations

import pytest

from tests.differential.conftest import case, check, make, params

B64 = "-a always,exit -F arch=b64"
B32 = "-a always,exit -F arch=b32"
F = make(("f", "file", 0o644))


def op(path: str, flags: int, mode: int = 0o644) -> str:
    return f"o:257:-100:@{path}:{flags:#x}:{mode:#o}"


FDS = "{P} s:3:99 s:32:99 s:74:99 s:75:99 s:81:99"     # close dup fsync fdatasync fchdir on fd 99
ARCHW = "{P} s:24 i:24 i:158 i:20"   # sched_yield; i386 #24 (getuid), #158 (sched_yield), #20 (getpid)

CASES = [
    # ---- success / exit (E17)
    case("E17_success", [f"{B64} -S openat -F success=0 -F exe={{P}}",
                         f"{B64} -S openat -F success=1 -F exe={{P}}"],
         ["{P}", op("{D}/missing", 0), op("{D}/f", 0)],
         "success=0 / success=1 (the loader's opens included)", setup=F),
    case("E17_exit_errno_names", [f"{B64} -S openat -F exit=-ENOENT -F exe={{P}}",
                                  f"{B64} -S openat -F exit=ENOENT -F exe={{P}}",
                                  f"{B64} -S openat -F exit=-2 -F exe={{P}}"],
         ["{P}", op("{D}/missing", 0), op("{D}/f", 0)],
         "exit=-ENOENT matches a failure; exit=ENOENT (+2) never does; exit=-2 (the same rule "
         "but for its key) is shadowed", setup=F, sim_keys=True),
    case("E17_exit_unsigned", [f"{B64} -S close -F exit<0 -F exe={{P}}",
                               f"{B64} -S dup -F exit>0 -F exe={{P}}",
                               f"{B64} -S fsync -F exit>=-4095 -F exe={{P}}",
                               f"{B64} -S fdatasync -F exit<=-1 -F exe={{P}}",
                               f"{B64} -S fchdir -F exit!=-EBADF -F exe={{P}}"],
         FDS, "exit<0 never; exit>0, exit>=-4095, exit<=-1 hold for failures (unsigned 32-bit)"),
    case("exit_positive_value", [f"{B64} -S getuid -F exit={{U}} -F auid={{A}}",
                                 f"{B64} -S geteuid -F exit!={{U}} -F auid={{A}}",
                                 f"{B64} -S getgid -F exit>{{UG}} -F auid={{A}}"],
         "{P} s:102 s:107 s:104", "exit= compares a successful return value", user="a"),
    case("exit_eperm_kill", [f"{B64} -S kill -F exit=-EPERM -F auid={{A}}",
                             f"{B64} -S kill -F exit=-ESRCH -F auid={{A}}"],
         "{P} s:62:1:0 s:62:0x7ffffff0:0", "kill of init as a user (EPERM), of no process (ESRCH)",
         user="a"),
    # ---- a0..a3 (E30, E17 F7)
    case("E30_a0_eq_low_32_bits", [f"{B64} -S close -F a0=99 -F exe={{P}}"],
         "{P} s:3:99 s:3:0x100000063 s:3:98", "a0=99 also matches 0x100000063 (low 32 bits)"),
    case("a0_ops", [f"{B64} -S close -F a0<99 -F exe={{P}}",
                    f"{B64} -S dup -F a0>98 -F exe={{P}}",
                    f"{B64} -S fsync -F a0<=99 -F exe={{P}}",
                    f"{B64} -S fdatasync -F a0>=100 -F exe={{P}}",
                    f"{B64} -S fchdir -F a0!=99 -F exe={{P}}"],
         FDS, "a0 with < > <= >= != at the boundary (the loader's close(3) counts for a0<99)"),
    case("a0_unsigned_edges", [f"{B64} -S close -F a0=-1 -F exe={{P}}",
                               f"{B64} -S dup -F a0>0x7FFFFFFF -F exe={{P}}",
                               f"{B64} -S fsync -F a0<0 -F exe={{P}}",
                               f"{B64} -S fdatasync -F a0<=-1 -F exe={{P}}",
                               f"{B64} -S fchdir -F a0>=0xFFFFFFFF -F exe={{P}}"],
         "{P} s:3:-1 s:32:-1 s:74:-1 s:75:-1 s:81:-1 s:75:5",
         "a0=-1 is 0xFFFFFFFF; a0<0 never; a0<=-1 always; a0>=0xFFFFFFFF"),
    case("E17_a2_masks", [f"{B64} -S openat -F a2&=0x41 -F exe={{P}}",
                          f"{B64} -S openat -F a2&0x3 -F exe={{P}}",
                          f"{B64} -S openat -F a2&0x80000 -F exe={{P}}"],
         ["{P}", op("{D}/f", 0x41), op("{D}/f", 2), op("{D}/f", 0x40), op("{D}/f", 0)],
         "& (any bit) and &= (all bits) on open flags; O_CLOEXEC of the loader's opens", setup=F),
    case("a1_a2_a3", [f"{B64} -S fchownat -F a2=-1 -F a3=4294967295 -F exe={{P}}",
                      f"{B64} -S kill -F a0=0x7FFFFFF0 -F a1=0 -F exe={{P}}",
                      f"{B64} -S fchownat -F a3&=0x100 -F exe={{P}}"],
         ["{P}", "s:260:-100:@{D}/f:-1:-1:0", "s:260:-100:@{D}/f:0:0:0x100", "s:62:0x7ffffff0:0"],
         "a1, a2, a3 (uid/gid -1 are 0xFFFFFFFF; AT_SYMLINK_NOFOLLOW as a bit test)", setup=F),
    case("a0_bit_ops_zero", [f"{B64} -S close -F a0&0 -F exe={{P}}",
                             f"{B64} -S dup -F a0&=0 -F exe={{P}}"],
         "{P} s:3:99 s:32:99", "a0&0 never holds; a0&=0 always holds"),
    # ---- arch (E03-E05, E02)
    case("E03_no_arch_number_only", ["-a always,exit -S sched_yield -F exe={P}"], ARCHW,
         "no arch: number 24 under every ABI (64-bit sched_yield and i386 #24 getuid)"),
    case("E04_arch_b64", [f"{B64} -S sched_yield -F exe={{P}}"], ARCHW,
         "arch=b64: only the 64-bit call"),
    case("E05_arch_b32_int80", [f"{B32} -S sched_yield -F exe={{P}}",
                                f"{B32} -S getpid -F exe={{P}}"], ARCHW,
         "arch=b32 resolves names in the i386 table: int $0x80 #158 and #20"),
    case("E02_arch_ne_b64", ["-a always,exit -F arch!=b64 -S sched_yield -F exe={P}"], ARCHW,
         "arch!=b64 -S sched_yield resolves with the x86_64 table (24): only i386 #24"),
    case("arch_machine_names", ["-a always,exit -F arch=x86_64 -S sched_yield -F exe={P}",
                                "-a always,exit -F arch=i386 -S sched_yield -F exe={P}"], ARCHW,
         "arch=x86_64 / arch=i386 are b64 / b32"),
    case("b32_catch_all_int80", [f"{B32} -S all -F exe={{P}}"], ARCHW + " s:39",
         "a b32 catch-all catches only the int $0x80 calls of a 64-bit program"),
    case("b32_catch_all_32bit_program", [f"{B32} -S all -F exe={{P32}}",
                                         f"{B64} -S all -F exe={{P32}}"],
         "{P32} s:158 s:199 s:20",
         "a b32 catch-all on a 32-bit program (its libc start-up included); its exec is b64"),
    case("no_arch_catch_all_int80", ["-a always,exit -S all -F exe={P} -F success=0"],
         "{P} i:39:0 s:3:99 i:6:99",
         "no arch, -S all: both ABIs (failures: i386 mkdir(NULL), close(99) on both)"),
    # ---- socketcall (E06)
    case("E06_socketcall_from_64bit_int80", [f"{B32} -S socketcall -F exe={{P}}",
                                             f"{B32} -S socket -F exe={{P}}",
                                             f"{B64} -S socket -F exe={{P}}"],
         "{P} sc:1:2:1:0", "int $0x80 socketcall(SYS_SOCKET) from a 64-bit program"),
    case("E06_socketcall_32bit_a0", [f"{B32} -S socketcall -F a0=1 -F exe={{P32}}",
                                     f"{B32} -S socketcall -F a0=3 -F exe={{P32}}",
                                     f"{B32} -S socketcall -F exe={{P32}}"],
         "{P32} sc:1:2:1:0 sc:1:1:1:0 sc:3:99:0:0",
         "32-bit socketcall: a0 is the call number (SOCKET 1, CONNECT 3 failing EBADF)"),
    # ---- personality
    case("pers_setarch_R", [f"{B64} -S getuid -F pers=0x0040000 -F exe={{P}} -F auid={{A}}",
                            f"{B64} -S geteuid -F pers=0 -F exe={{P}} -F auid={{A}}",
                            f"{B64} -S geteuid -F pers&0x0040000 -F exe={{P}} -F auid={{A}}"],
         "/usr/bin/setarch x86_64 -R {P} s:102 s:107",
         "pers: setarch -R sets ADDR_NO_RANDOMIZE (0x0040000), inherited over exec"),
    case("E06_socket_vs_socketcall_32bit", [f"{B32} -S socketcall -F exe={{P32}}",
                                            f"{B32} -S socket -F exe={{P32}}"],
         "{P32} sc:1:2:1:0 s:359:2:1:0",
         "i386 socketcall(SYS_SOCKET) vs the direct i386 socket (#359): told apart by strace -n"),
]

XFAIL: list = []


@pytest.mark.kernel
@pytest.mark.parametrize("c", params(CASES) + XFAIL)
def test_differential(diff, c):
    check(diff, c)

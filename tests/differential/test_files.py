"""Files: watches (-w / path=) per perm class, open flags, chmod/chown and their *at forms,
rename over a watched file, a watch on a directory vs dir=, filetype, inode=, devmajor/devminor,
obj_uid/obj_gid, -C against obj_uid, sockaddr families.  x86_64 numbers: open 2, openat 257,
close 3, chmod 90, fchmod 91, chown 92, fchown 93, lchown 94, fchownat 260, fchmodat 268,
fchmodat2 452, rename 82, renameat 264, renameat2 316, unlink 87, mkdir 83, rmdir 84, creat 85,
link 86, symlink 88, truncate 76, ftruncate 77, readlink 89, getxattr 191, newfstatat 262,
access 21, connect 42, bind 49."""
from __future__ import annotations

import pytest

from tests.differential.conftest import case, check, make, params, xfail_case

B64 = "-a always,exit -F arch=b64"
BUF = "@" + "x" * 200          # a writable buffer (stat, readlink)
F = make(("f", "file", 0o644))


def op(path: str, flags: int, mode: int = 0o644) -> str:
    """openat(AT_FDCWD, path, flags, mode), remembered as fd F."""
    return f"o:257:-100:@{path}:{flags:#x}:{mode:#o}"


CASES = [
    # ---- watches by perm class (E12, E31)
    case("E12_watch_r_open", ["-w {D}/f -p r"],
         ["{P}", op("{D}/f", 0), "s:3:F", op("{D}/f", 1), "s:3:F"],
         "-p r: an O_RDONLY open is r, an O_WRONLY open is not", setup=F),
    case("E12_watch_w_open_modes", ["-w {D}/f -p w"],
         ["{P}", op("{D}/f", 0), op("{D}/f", 1), op("{D}/f", 2), op("{D}/f", 0x401)],
         "-p w: O_WRONLY, O_RDWR and O_WRONLY|O_APPEND are w; O_RDONLY is not", setup=F),
    case("E12_watch_rdwr_first_of_r_w", ["-w {D}/f -p r", "-w {D}/f -p w"],
         ["{P}", op("{D}/f", 2), op("{D}/f", 1)],
         "O_RDWR matches both r and w: the earlier watch (r) decides it", setup=F),
    case("E12_open_creat_rdonly_is_r", ["-w {D}/f -p w", "-w {D}/f -p r"],
         ["{P}", op("{D}/f", 0x40), op("{D}/f", 0x200), "s:2:@{D}/f:0x40:0644"],
         "O_RDONLY|O_CREAT and O_RDONLY|O_TRUNC count as r, not w (open and openat)", setup=F),
    case("E12_watch_w_truncate_ftruncate", ["-w {D}/f -p w"],
         ["{P}", "s:76:@{D}/f:0", op("{D}/f", 1), "s:77:F:0"],
         "truncate is w; ftruncate on an fd has no name (only the open is caught)", setup=F),
    case("E12_watch_r_readlink_getxattr_stat", ["-w {D}/f -p r"],
         ["{P}", f"s:89:@{{D}}/f:{BUF}:16", "s:191:@{D}/f:@user.x:N:0",
          f"s:262:-100:@{{D}}/f:{BUF}:0", "s:21:@{D}/f:4"],
         "readlink (EINVAL) and getxattr (ENODATA) are r; newfstatat and access are nothing",
         setup=F),
    case("E12_watch_a_chmod_forms", ["-w {D}/f -p a"],
         ["{P}", "s:90:@{D}/f:0640", "s:268:-100:@{D}/f:0600:0", op("{D}/f", 0), "s:91:F:0644"],
         "chmod, fchmodat and fchmod (via the fd's inode) are a", setup=F),
    case("E12_watch_a_chown_forms", ["-w {D}/f -p a"],
         ["{P}", "s:92:@{D}/f:-1:-1", "s:94:@{D}/f:-1:-1", "s:260:-100:@{D}/f:-1:-1:0",
          op("{D}/f", 0), "s:93:F:-1:-1"],
         "chown, lchown, fchownat and fchown are a", setup=F),
    case("chmod_chown_syscall_rules", [f"{B64} -S chmod,fchmod,fchmodat -F auid={{A}}",
                                       f"{B64} -S chown,fchown,lchown,fchownat -F auid={{A}}"],
         ["{P}", "s:90:@{D}/f:0640", "s:268:-100:@{D}/f:0600:0", "s:268:-100:@{D}/nope:0600:0",
          "s:92:@{D}/f:-1:-1", "s:260:-100:@{D}/f:0:0:0x100", op("{D}/f", 0), "s:93:F:-1:-1",
          "s:91:F:0644"],
         "-S chmod/chown families incl. *at forms and a failing fchmodat", setup=F),
    case("E12_watch_x_exec", ["-w {D}/tool -p x"],
         ["{P}", op("{D}/tool", 0), "x:{D}/tool"],
         "-p x: the exec of the file, not an open of it",
         setup=make(("tool", "copy", "/usr/bin/true", 0o755))),
    case("E12_watch_w_rename_unlink_link", ["-w {D}/f -p w"],
         ["{P}", "s:86:@{D}/f:@{D}/f2", "s:82:@{D}/f:@{D}/g", "s:87:@{D}/g"],
         "link from, rename and unlink of a watched file are w (dir-write class)", setup=F,
         fresh=True),
    # ---- rename over a watched file (E14 C5)
    case("E14_rename_over_watched", ["-w {D}/f -p w", "-w {D}/f -p r"],
         ["{P}", "s:82:@{D}/g:@{D}/f", op("{D}/f", 1), op("{D}/f", 0)],
         "rename(g, f) over a watched f is w; the watch follows the new inode at f",
         setup=make(("f", "file", 0o644), ("g", "file", 0o644)), fresh=True),
    case("E14_renameat_over_watched", ["-w {D}/f -p w"],
         ["{P}", "s:264:-100:@{D}/g:-100:@{D}/f", "s:316:-100:@{D}/h:-100:@{D}/f:0"],
         "renameat and renameat2 over a watched file",
         setup=make(("f", "file", 0o644), ("g", "file", 0o644), ("h", "file", 0o644)), fresh=True),
    case("E14_watch_missing_then_created", ["-w {D}/later -p w"],
         ["{P}", op("{D}/later", 0x41), "s:3:F", op("{D}/later", 1)],
         "a watch on a missing path catches its creation and later writes", fresh=True),
    # ---- directory watch vs dir= (E14)
    case("E14_path_on_dir_direct_children", ["-a always,exit -F path={D}/t -F perm=w"],
         ["{P}", op("{D}/t/new", 0x41), op("{D}/t/old", 1), op("{D}/t/sub/deep", 0x41),
          "s:83:@{D}/t/dir2:0755"],
         "path= on a directory: creating direct entries (the dir is PARENT), not writes to "
         "existing children or deeper entries",
         setup=make(("t/old", "file", 0o644), ("t/sub", "dir")), fresh=True),
    case("E14_watch_dir_is_subtree", ["-w {D}/t -p w"],
         ["{P}", op("{D}/t/new", 0x41), op("{D}/t/old", 1), op("{D}/t/sub/deep", 0x41),
          op("{D}/t/old", 0)],
         "-w on a directory becomes dir=: any depth, writes to existing files too",
         setup=make(("t/old", "file", 0o644), ("t/sub", "dir")), fresh=True),
    case("E14_dir_field_with_S", [f"{B64} -S openat -F dir={{D}}/t -F perm=r",
                                  f"{B64} -S mkdir,creat,link,symlink,rename,unlink,rmdir -F dir={{D}}/t"],
         ["{P}", op("{D}/t/sub/x", 0), op("{D}/other", 0), "s:85:@{D}/t/a:0644",
          "s:83:@{D}/t/b:0755", "s:86:@{D}/t/a:@{D}/t/c", "s:88:@x:@{D}/t/d",
          "s:82:@{D}/t/a:@{D}/t/e", "s:87:@{D}/t/c", "s:84:@{D}/t/b"],
         "dir= with -S: reads anywhere below, every dir-write syscall inside the tree",
         setup=make(("t/sub/x", "file", 0o644), ("other", "file", 0o644)), fresh=True),
    # ---- perm without a path (E28)
    case("E28_perm_w_no_path", [f"{B64} -S openat -F perm=w -F exe={{P}}"],
         ["{P}", op("{D}/f", 0), op("{D}/f", 1), op("{D}/f", 0x42)],
         "perm=w without a path: opens for write by the program", setup=F),
    case("E28_perm_r_no_path", [f"{B64} -F perm=r -F exe={{P}}"],
         ["{P}", op("{D}/f", 0), f"s:89:@{{D}}/f:{BUF}:16", "s:191:@{D}/f:@user.x:N:0"],
         "perm=r without -S or path: every read-class syscall and read open of the program "
         "(the loader's library opens included)", setup=F),
    case("E28_perm_a_no_path", [f"{B64} -F perm=a -F exe={{P}}"],
         ["{P}", "s:90:@{D}/f:0640", "s:260:-100:@{D}/f:-1:-1:0", "s:92:@{D}/missing:-1:-1"],
         "perm=a without a path: the chattr class, failures included", setup=F),
    # ---- filetype, inode, devices, owners
    case("filetype_dir_file_char", [f"{B64} -S openat -F filetype=dir -F exe={{P}}",
                                    f"{B64} -S openat -F filetype=character -F exe={{P}}",
                                    f"{B64} -S openat,mkdir -F filetype!=file -F exe={{P}}"],
         ["{P}", op("{D}", 0x10000), op("/dev/null", 1), op("{D}/f", 0), "s:83:@{D}/nd:0755"],
         "filetype=dir / character / !=file; mkdir matches through its PARENT dir",
         setup=F, fresh=True),
    case("filetype_file", [f"{B64} -S openat -F filetype=file -F exe={{P}}"],
         ["{P}", op("{D}/f", 0), op("{D}", 0x10000)],
         "filetype=file: regular files (the loader's library opens too), not a directory",
         setup=F),
    case("inode_rule", [f"{B64} -S openat -F inode={{INO_f}} -F auid={{A}}"],
         ["{P}", op("{D}/f", 0), op("{D}/g", 0)], "inode= of one file",
         setup=make(("f", "file", 0o644), ("g", "file", 0o644))),
    case("devmajor_devminor", [f"{B64} -S openat -F devmajor={{MAJ}} -F devminor={{MIN}} -F exe={{P}}",
                               f"{B64} -S openat -F devmajor=1 -F devminor=3 -F exe={{P}}"],
         ["{P}", op("{D}/f", 0), op("/dev/null", 0), op("/proc/self/status", 0)],
         "devmajor/devminor of the file system (and rdev: /dev/null is 1:3)", setup=F),
    case("obj_uid_obj_gid", [f"{B64} -S openat -F obj_uid={{U}} -F exe={{P}}",
                             f"{B64} -S open -F obj_gid={{G}} -F exe={{P}}"],
         ["{P}", op("{D}/mine", 0), op("{D}/f", 0), "s:2:@{D}/grp:0", "s:2:@{D}/f:0"],
         "obj_uid / obj_gid: the owner of the opened file",
         setup=make(("mine", "file", 0o644, "{U}:{UG}"), ("grp", "file", 0o644, "0:{G}"),
                    ("f", "file", 0o644))),
    case("C_uid_ne_obj_uid", [f"{B64} -S openat -F dir={{D}} -C uid!=obj_uid",
                              f"{B64} -S open -F dir={{D}} -C uid=obj_uid"],
         ["{P}", op("{D}/mine", 0), op("{D}/f", 0), "s:2:@{D}/mine:0", "s:2:@{D}/f:0"],
         "-C uid!=obj_uid / uid=obj_uid for a user opening its own and root's files", user="a",
         setup=make(("mine", "file", 0o644, "{U}:{UG}"), ("f", "file", 0o644))),
    case("E29_saddr_fam", [f"{B64} -S connect -F saddr_fam=1 -F exe={{P}}",
                           f"{B64} -S bind -F saddr_fam=2 -F exe={{P}}",
                           f"{B64} -S bind -F saddr_fam=1 -F exe={{P}}"],
         ["{P}", "un:42:{D}/nosock", "un:49:{D}/sock"],
         "saddr_fam of connect/bind (AF_UNIX = 1), not AF_INET", fresh=True),
    case("path_rule_with_uid", ["-a always,exit -F path={D}/f -F perm=r -F uid={U}"],
         ["{P}", op("{D}/f", 0), op("{D}/f", 0)], "path= plus another field: the user's reads",
         user="a", setup=F),
    case("E17_open_eacces_watched", ["-w {D}/secret -p r",
                                     f"{B64} -S openat -F exit=-EACCES -F auid={{A}}"],
         ["{P}", op("{D}/secret", 0), op("{D}/nope", 0)],
         "a failed open (EACCES) still matches the watch; the exit rule gets nothing else",
         user="a", setup=make(("secret", "file", 0o600))),
]

XFAIL = [
    xfail_case(case("E31_fchmodat2_watch_a", ["-w {D}/f -p a", f"{B64} -S 452 -F auid={{A}}"],
                    ["{P}", "s:452:-100:@{D}/f:0640:0", "s:90:@{D}/f:0644"],
                    "fchmodat2 (452, unknown to strace 6.1) is in the chattr class", setup=F),
               "strace limitation (the library now flags it): strace 6.1 prints fchmodat2 as "
               "syscall_0x1c4(0xffffff9c, 0x...) with no path string, so the trace cannot say which "
               "file it changed; enrich gives the record names=None (unknown) and the simulator "
               "reports 'PATH items unknown: assumed none' for the -w -p a watch (rule 0), but it "
               "cannot decide the watch matched as the kernel did (E31); needs a newer strace that "
               "decodes fchmodat2")

]


@pytest.mark.kernel
@pytest.mark.parametrize("c", params(CASES) + XFAIL)
def test_differential(diff, c):
    check(diff, c)

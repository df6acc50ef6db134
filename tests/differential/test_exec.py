"""Programs: exe= identity (symlink, hard link, copy, missing, created later), execve/execveat
successes and failures, #! scripts, the ELF loader run directly, perm=x."""
from __future__ import annotations

import pytest

from tests.differential.conftest import case, check, make, params

B64 = "-a always,exit -F arch=b64"
LDSO = "/lib64/ld-linux-x86-64.so.2"
LDSO_REAL = "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"

CASES = [
    case("E07_exe_on_execve", [f"{B64} -S execve -F exe=/usr/bin/id -F auid={{A}}",
                               f"{B64} -S execve -F exe={{P}} -F auid={{A}}"],
         "{P} x:/usr/bin/id", "exe= on execve matches the exec OF the program, not BY it"),
    case("E08_failed_exec_by_exe", [f"{B64} -S execve -F exe={{P}} -F auid={{A}}",
                                    f"{B64} -S execve -F exe=/usr/bin/true -F auid={{A}}"],
         "{P} x:{D}/missing x:/usr/bin/true",
         "a failed exec BY the watched exe matches (old image), its successful exec does not"),
    case("exec_missing_program", [f"{B64} -S execve -F exit=-ENOENT -F auid={{A}}",
                                  f"{B64} -S execve -F success=1 -F auid={{A}}"],
         "{P} x:{D}/missing x:/nonexistent/dir/prog", "execve of a missing program: ENOENT"),
    case("exec_eacces_by_watched_exe", [f"{B64} -S execve -F exe={{P}} -F exit=-EACCES -F auid={{A}}",
                                        f"{B64} -S execve -F success=1 -F auid={{A}}"],
         "{P} x:{D}/noexec", "a failed exec (EACCES, file not executable) by a watched exe",
         setup=make(("noexec", "file", 0o644))),
    case("E13_watch_x_failed_exec", [f"-w {{D}}/noexec -p x"],
         "{P} x:{D}/noexec", "-w -p x fires even when the exec fails (the lookup happened)",
         setup=make(("noexec", "file", 0o644))),
    case("exe_symlinked_program", [f"{B64} -S getuid -F exe={{P}} -F auid={{A}}",
                                   f"{B64} -S geteuid -F exe={{D}}/link -F auid={{A}}",
                                   f"{B64} -S execve -F exe={{P}} -F auid={{A}}"],
         "{D}/link s:102 s:107",
         "exec through a symlink: exe is the target; exe=<symlink> never matches",
         setup=make(("link", "symlink", "{P}"))),
    case("E29_exe_hard_link", [f"{B64} -S getuid -F exe={{P}} -F auid={{A}}",
                               f"{B64} -S geteuid -F exe={{D}}/hard -F auid={{A}}",
                               f"{B64} -S execve -F exe={{P}} -F auid={{A}}"],
         "{D}/hard s:102 s:107",
         "a hard link is the same inode: exe= of either name matches, exe shows the link path",
         setup=make(("hard", "hardlink", "{P}"))),
    case("E29_exe_copy", [f"{B64} -S getuid -F exe={{P}} -F auid={{A}}",
                          f"{B64} -S geteuid -F exe={{D}}/copy -F auid={{A}}"],
         "{D}/copy s:102 s:107", "a copy is another inode: exe=<original> does not match it",
         setup=make(("copy", "copy", "{P}", 0o755))),
    case("E09_exe_sh_symlink", [f"{B64} -S execve,exit_group -F exe=/bin/sh -F auid={{A}}",
                                f"{B64} -S execve,exit_group -F exe=/usr/bin/sh -F auid={{A}}",
                                f"{B64} -S execve,exit_group -F exe=/usr/bin/dash -F auid={{A}}"],
         ["/bin/sh", "-c", "{P} s:102; exit 3"],
         "exe=/bin/sh and /usr/bin/sh (symlinks to dash) never match; /usr/bin/dash does"),
    case("E10_exe_created_later", [f"{B64} -S getuid -F exe={{D}}/later -F auid={{A}}"],
         ["/bin/sh", "-c", "cp {P} {D}/later && {D}/later s:102"],
         "exe= on a missing file is accepted and matches once the file is created", fresh=True),
    case("E13_execveat_path", [f"{B64} -S execveat -F exe=/usr/bin/true -F auid={{A}}",
                               f"{B64} -S execve,execveat -F auid={{A}}"],
         "{P} s:322:-100:@/usr/bin/true:^/usr/bin/true:N:0",
         "execveat(AT_FDCWD, path): its own syscall number, exe is the new program"),
    case("E13_fexecve_watch_and_perm_x", [f"-w {{D}}/tool -p x",
                                          f"-a always,exit -F arch=b64 -F perm=x -F auid={{A}}"],
         "{P} o:2:{D}/tool:0 s:322:F:@:^tool:N:0x1000",
         "fexecve (execveat AT_EMPTY_PATH on an fd): caught by -w -p x; perm=x without -S",
         setup=make(("tool", "copy", "/usr/bin/true", 0o755))),
    case("elf_loader_direct", [f"{B64} -S getuid -F exe={LDSO_REAL} -F auid={{A}}",
                               f"{B64} -S geteuid -F exe={{P}} -F auid={{A}}",
                               f"{B64} -S execve -F auid={{A}}"],
         [LDSO, "{P}", "s:102", "s:107"],
         "ld.so /path/prog: exe is the loader (its real path), not the program"),
    case("E26_ldso_watch_x", [f"-a always,exit -F path={LDSO_REAL} -F perm=x -F auid={{A}}"],
         "{P} x:/usr/bin/true", "a perm=x watch on ld.so fires on every dynamic exec"),
    case("E28_perm_x_no_S", ["-a always,exit -F perm=x -F auid={A}"],
         "{P} x:{D}/missing x:/usr/bin/true",
         "perm=x without -S or arch: execve class on every ABI, failures included"),
    case("exec_32bit_from_64bit", [f"{B64} -S execve -F exe={{P32}} -F auid={{A}}",
                                   "-a always,exit -F arch=b32 -S execve -F auid={A}",
                                   "-a always,exit -F arch=b32 -S exit_group -F exe={P32} -F auid={A}"],
         "{P} x:{P32}",
         "a 64-bit process exec'ing a 32-bit ELF: the execve is b64, exe the 32-bit program"),
    case("exec_64bit_from_32bit", ["-a always,exit -F arch=b32 -S execve -F exe={P} -F auid={A}",
                                   f"{B64} -S execve -F exe={{P}} -F auid={{A}}"],
         "{P32} x:{P} s:102", "a 32-bit process exec'ing a 64-bit ELF: the execve is b32"),
    case("E28_perm_x_no_S_keyed", ["-a always,exit -F perm=x -F auid={A} -k px"],
         "{P} x:{D}/missing x:/usr/bin/true",
         "a keyed perm=x rule without -S: auditctl loads it (the kernel side does)", sim_keys=True),
    case("E26_exe_symlink_same_basename",
         [f"{B64} -S getuid -F exe={LDSO} -F auid={{A}}",
          f"{B64} -S geteuid -F exe={LDSO_REAL} -F auid={{A}}"],
         [LDSO, "{P}", "s:102", "s:107"],
         "exe=/lib64/ld-linux-x86-64.so.2 (a symlink whose target has the same name) never matches"),
    case("script_shebang_exe",
         [f"{B64} -S execve,exit_group -F exe=/usr/bin/dash -F auid={{A}}",
          f"{B64} -S execve -F exe={{D}}/script.sh -F auid={{A}}"],
         "{D}/script.sh",
         "a #! script runs as its interpreter: exe is dash, never the script",
         setup=make(("script.sh", "text", "#!/bin/sh\nexit 0\n", 0o755))),
    case("script_shebang_watch", ["-w {D}/script.sh -p x",
                                  "-a always,exit -F path=/usr/bin/dash -F perm=x -F auid={A}"],
         "{D}/script.sh", "-w -p x on the script sees the exec (the event's exe: dash)",
         setup=make(("script.sh", "text", "#!/bin/sh\nexit 0\n", 0o755))),
]

XFAIL: list = []


@pytest.mark.kernel
@pytest.mark.parametrize("c", params(CASES) + XFAIL)
def test_differential(diff, c):
    check(diff, c)

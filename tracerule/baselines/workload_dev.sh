#!/bin/bash
# The default baseline's developer half: an ordinary user's shell work -- a small C build with make,
# git, python scripts, text tools over /usr/share, a failed sudo.  Temporary files under /tmp only.
# Recorded with: tracerule record -u USER --auid UID --time-untraced -o dev.strace -- bash workload_dev.sh
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
think() { sleep "${1:-0.7}"; }
W=$(mktemp -d /tmp/tr-baseline-dev.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$W"
for round in 1 2 3; do
	rm -rf proj; mkdir proj && cd proj || exit 1
	cat > util.h <<'C'
int add(int a, int b);
int mul(int a, int b);
C
	cat > util.c <<'C'
#include "util.h"
int add(int a, int b) { return a + b; }
int mul(int a, int b) { return a * b; }
C
	cat > main.c <<'C'
#include <stdio.h>
#include "util.h"
int main(void) { printf("%d %d\n", add(2, 3), mul(4, 5)); return 0; }
C
	printf 'CFLAGS=-O2 -Wall\napp: main.o util.o\n\t$(CC) -o $@ $^\nclean:\n\trm -f app *.o\n' > Makefile
	make -s && ./app; think
	gcc -Wall -c util.c -o util2.o && gcc -fsyntax-only main.c; think
	git init -q . && git add . && git -c user.name=dev -c user.email=dev@example.invalid commit -qm "first"; think
	echo '// tweak' >> util.c; git diff --stat; git -c user.name=dev -c user.email=dev@example.invalid commit -qam "tweak"
	git log --oneline | cat; git status --short; think
	make -s clean; make -s; think
	ls -la; ls /usr/share | head; think
	grep -rl "GNU General Public License" /usr/share/doc/bash /usr/share/doc/coreutils 2>/dev/null | head -3; think
	find /usr/share/doc -maxdepth 2 -name 'changelog*' 2>/dev/null | head -20 | wc -l; think
	find /usr/share/zoneinfo -maxdepth 1 -type d | sort | head -5; think
	sed -n '1,5p' /usr/share/doc/bash/copyright; awk 'NR<=3 {print NR": "$0}' /etc/passwd; think
	cut -d: -f1,7 /etc/passwd | sort | uniq -c | sort -rn | head -3; think
	python3 - <<'PY'
import collections, hashlib, json, os, subprocess, tempfile
words = collections.Counter(open("/usr/share/doc/bash/copyright", errors="replace").read().split())
print(words.most_common(3))
print(hashlib.sha256(b"x" * 4096).hexdigest()[:16])
print(subprocess.run(["ls", "/usr/share"], capture_output=True, text=True).stdout.count("\n"))
with tempfile.NamedTemporaryFile("w", dir=".", delete=True) as f:
    json.dump({"k": list(range(10))}, f)
PY
	think
	python3 -c 'import py_compile, glob; [py_compile.compile(f, cfile=f + "c") for f in glob.glob("*.py")]' ; think
	sudo -n true 2>/dev/null; echo "sudo: $?"; think
	id; env | wc -l; ps -u "$(id -u)" | wc -l; think
	tar cf - . | gzip -1 | wc -c; think
	cd "$W" || exit 1; think 1
done

#!/bin/bash
# The default baseline's admin half: what a root shell of an administrator (logged in as a user,
# then root) does on an ordinary day.  Read-only on the host; temporary files under $TMPDIR only.
# (ldconfig rewrites /etc/ld.so.cache with the same content: an ordinary write under /etc.)
# Recorded with: tracerule record --auid UID --time-untraced -o admin.strace -- bash workload_admin.sh
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
think() { sleep "${1:-0.7}"; }
W=$(mktemp -d /tmp/tr-baseline-admin.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1
for round in 1 2 3; do
	dpkg -l | wc -l; think
	dpkg -s bash coreutils | grep -E '^(Package|Version)'; think
	[ "$round" = 1 ] && { apt-cache policy bash | head -8; think; }
	dpkg-query -W -f='${Package} ${Version}\n' 'libc6*' | head -5; dpkg -L coreutils | grep -c bin/; think
	ls -la /etc | head -30; ls /var/log; think
	df -h; free -m; uptime; think
	ps aux --sort=-%cpu | head -15; think
	ss -tlnp | head; ip -brief addr; think
	cat /etc/os-release; hostname; id; think
	grep -rn "PermitRootLogin\|PasswordAuthentication" /etc/ssh 2>/dev/null | head; think
	find /etc -name '*.conf' -newer /etc/hostname 2>/dev/null | wc -l; think
	getent passwd | awk -F: '$3 >= 1000 {print $1}'; getent group sudo; think
	sudo -u nobody id; su -s /bin/sh nobody -c 'id -un'; think
	tar czf "$W/etc-default.tgz" /etc/default 2>/dev/null; tar tzf "$W/etc-default.tgz" | wc -l; think
	sha256sum /usr/bin/ls /usr/bin/cp > "$W/sums"; sha256sum -c "$W/sums"; think
	python3 -c 'import json, platform; print(json.dumps({"py": platform.python_version()}))'; think
	python3 - <<'PY'
import http.server, threading, urllib.request
srv = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
t = threading.Thread(target=srv.handle_request); t.start()
print(len(urllib.request.urlopen(f"http://127.0.0.1:{srv.server_port}/").read()))
t.join(); srv.server_close()
PY
	think
	getent ahosts localhost | head -2; think
	stat -c '%n %a %U' /etc/passwd /etc/shadow /etc/sudoers; think
	ls -la /etc/sudoers.d /etc/cron.d 2>/dev/null; think
	journalctl -n 5 --no-pager 2>/dev/null | tail -2; think
	du -sh /var/cache/apt 2>/dev/null; think
	ldconfig; ldconfig -p | grep -c libc; think 1
done

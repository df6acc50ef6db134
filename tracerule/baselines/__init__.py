"""The default baseline shipped with tracerule: ordinary admin and developer work on a Debian 12 host.

* ``admin.strace.gz``: a root shell of an administrator logged in as uid 1000 (auid 1000): package
  queries (dpkg, apt-cache policy), system inspection (ps, ss, ip, df, find/grep over /etc), ldconfig (rewrites /etc/ld.so.cache), sudo -u
  nobody id, su, tar, sha256sum, python (a local HTTP request), getent -- ``workload_admin.sh``;
* ``dev.strace.gz``: the same person's user shell (uid 1000): a small C build with make and gcc, git
  init/add/commit/log, python scripts, text tools over /usr/share, a refused sudo -- ``workload_dev.sh``.

Recorded with ``tracerule record --auid 1000 --time-untraced`` (the dev half with ``-u USER``); each
sidecar (``*.strace.gz.tracerule.json``) holds the untraced wall time (about 50 s and 38 s), so noise
can be given per second.  Use :func:`tracerule.synth.baseline.default_baseline_paths`.
"""

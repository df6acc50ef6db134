"""Names mode on two CPUs: a helper process runs the whole-chunk scans ahead of the reader.

In names mode (:class:`~tracerule.strace.reader.TraceReader` with ``names=``, "PID [TS] BODY"
traces) most of the time goes to three C-level scans of every chunk: the candidate regex, the runs
of lines of one tid, and the search for "tached".  They depend only on the chunk's bytes, so a
forked helper process reads the same file, chunked the same way, and sends for each chunk the
candidates' positions, the runs and the "tached" answer through a pipe, while the reader does
the per-event work of the chunk before.  The reader checks each answer against its own chunk
(index and length) and re-matches the regex at each position it is given; an answer that does not
fit, a helper that died, anything unexpected: the reader scans the chunk itself, as without the
helper.  Events are the same either way (tests compare them).

Used only where it can pay: a trace of at least :data:`MIN_BYTES`, at least two CPUs usable,
``os.fork`` available, no other thread running (forking a threaded process is unsafe), and not
turned off (``TRACERULE_JOBS=1`` in the environment, or ``TraceReader(jobs=1)``;
``TRACERULE_JOBS=2`` or ``jobs=2`` use it on any trace, as the tests do).
"""
from __future__ import annotations

import os
import pickle
import signal

#: traces smaller than this are read in one process (a fork and its pipe cost ~2-5 ms)
MIN_BYTES = 16 << 20
#: the bytes at each chunk's end the reader compares with the helper's
_TAIL = 64


def usable(path, jobs: int | None) -> bool:
    """Whether a helper process should read ``path`` ahead (``jobs``: None = as the environment's
    ``TRACERULE_JOBS`` says, else decide by size and CPUs; 1 = never; 2 or more = whenever the
    platform allows)."""
    if jobs is None:
        env = os.environ.get("TRACERULE_JOBS", "").strip()
        if env.isdigit():
            jobs = int(env)
    if jobs is not None and jobs < 2:
        return False
    if not hasattr(os, "fork"):
        return False
    try:
        import stat

        if not stat.S_ISREG(os.stat(path).st_mode):
            return False        # a pipe or device read twice would lose the data the other read
    except OSError:
        return False
    if jobs is None:
        try:
            if len(os.sched_getaffinity(0)) < 2 or os.path.getsize(path) < MIN_BYTES:
                return False
        except (OSError, AttributeError):
            return False
    import threading

    return threading.active_count() == 1


class Prefetch:
    """The reader's end of the helper: :meth:`get` the answer for each chunk in order, then
    :meth:`close` (also safe to call twice, and on a helper that already exited)."""

    def __init__(self, pid: int, rfile) -> None:
        self.pid = pid
        self.file = rfile

    @classmethod
    def start(cls, path, pattern: bytes, chunk_size: int, ident: tuple[int, int] | None = None) -> "Prefetch | None":
        """Fork the helper for the trace ``path``, scanning with the candidate regex ``pattern``
        (its source: compiled again in the helper) in chunks of ``chunk_size``; None if the fork
        fails.  ``ident``: (st_dev, st_ino) of the file the reader has open -- the helper reads
        nothing when ``path`` now names another file (replaced since)."""
        try:
            r, w = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return None
        if pid == 0:                                   # the helper
            code = 1
            try:
                import gc

                # the reader ends the helper (Ctrl-C reaches both: the reader's answer is enough);
                # no handler of the reader's (the kernel harness's cleanup, say) may run here
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                for name in ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGPIPE",
                             "SIGCHLD"):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
                gc.disable()                           # nothing cyclic made here; no COW of the heap
                os.close(r)
                _scan(path, pattern, chunk_size, w, ident)
                code = 0
            except BaseException:
                pass
            finally:
                os._exit(code)                         # no atexit handlers, no inherited buffers
        os.close(w)
        return cls(pid, os.fdopen(r, "rb"))

    def get(self, index: int, chunk: bytes) -> tuple | None:
        """The helper's answer for the reader's chunk number ``index``: (candidate positions, runs
        as :func:`~tracerule.strace.reader._tid_runs` gives them, "tached" seen, {position:
        newlines in the chunk up to and including it} for every candidate and run start, the
        chunk's newlines), or None (the reader scans the chunk itself; after one None the helper
        is closed).  An answer counts only for a chunk of the same index, length and last bytes
        (a file rewritten in place under the two readers gives other bytes)."""
        if self.file is None:
            return None
        try:
            msg = pickle.load(self.file)
        except Exception:
            self.close()
            return None
        if type(msg) is not tuple or len(msg) != 8 or msg[0] != index or msg[1] != len(chunk) \
                or msg[7] != chunk[-_TAIL:]:
            self.close()
            return None
        return msg[2:7]

    def close(self) -> None:
        f, self.file = self.file, None
        if f is not None:
            f.close()                                  # a helper still writing gets EPIPE and ends
        pid, self.pid = self.pid, 0
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _scan(path, pattern: bytes, chunk_size: int, wfd: int, ident: tuple[int, int] | None) -> None:
    """The helper's loop: the reader's own chunking and scans of every chunk, one pickle each."""
    import re

    from tracerule.strace.reader import _TACHED, _chunks, _open, _tid_runs

    cap = re.compile(pattern)
    with os.fdopen(wfd, "wb") as out, _open(path) as f:
        if ident is not None:
            st = os.fstat(f.fileno())
            if (st.st_dev, st.st_ino) != ident:
                return                                 # not the reader's file: no answers
        for i, (chunk, partial) in enumerate(_chunks(f, chunk_size, True)):
            cands = [m.start() for m in cap.finditer(chunk)]
            runs = _tid_runs(chunk, partial)
            # the newlines in chunk[:p + 1] for each position p (the reader's line counts)
            nls = {}
            n = q = 0
            count = chunk.count
            for p in sorted(set(cands) | set(runs[1])):
                n += count(b"\n", q, p + 1)
                q = p + 1
                nls[p] = n
            msg = (i, len(chunk), cands, runs, _TACHED(chunk) is not None, nls, n + count(b"\n", q),
                   chunk[-_TAIL:])
            out.write(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))
            out.flush()

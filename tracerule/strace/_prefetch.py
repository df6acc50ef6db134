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

    if threading.active_count() != 1:
        return False
    try:                                    # threads started from C count too
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return True


class Prefetch:
    """The reader's end of the helper: :meth:`get` the answer for each chunk in order, then
    :meth:`close` (also safe to call twice, and on a helper that already exited)."""

    def __init__(self, pid: int, rfile) -> None:
        self.pid = pid
        self.file = rfile
        self.owner = os.getpid()        # a process forked from the reader's does not own the helper

    @classmethod
    def start(cls, path, pattern: bytes, chunk_size: int, ident: tuple[int, int] | None = None) -> "Prefetch | None":
        """Fork the helper for the trace ``path``, scanning with the candidate regex ``pattern``
        (its source: compiled again in the helper) in chunks of ``chunk_size``; None if the fork
        fails.  ``ident``: (st_dev, st_ino) of the file the reader has open -- the helper reads
        nothing when ``path`` now names another file (replaced since)."""
        import gc

        from tracerule.strace import reader as _reader   # imported before the fork: none in the helper

        try:
            r, w = os.pipe()
        except OSError:
            return None
        # no Ctrl-C between the fork and the Prefetch that owns the helper (it would be lost)
        masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            try:
                pid = os.fork()
            except OSError:
                os.close(r)
                os.close(w)
                return None
            if pid == 0:                               # the helper
                code = 1
                try:
                    _helper_signals(masked)
                    gc.disable()                       # nothing cyclic made here; no COW of the heap
                    os.close(r)
                    _scan(_reader, path, pattern, chunk_size, w, ident)
                    code = 0
                except BaseException:
                    pass
                finally:
                    os._exit(code)                     # no atexit handlers, no inherited buffers
            os.close(w)
            return cls(pid, os.fdopen(r, "rb"))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, masked)

    def get(self, index: int, chunk: bytes) -> tuple | None:
        """The helper's answer for the reader's chunk number ``index``: (candidate positions, runs
        as :func:`~tracerule.strace.reader._tid_runs` gives them, "tached" seen, {position:
        newlines in the chunk up to and including it} for every candidate and run start, the
        chunk's newlines), or None (the reader scans the chunk itself; after one None the helper
        is closed).  An answer counts only for a chunk of the same index, length and last bytes
        (the file truncated and written again under the two readers, say).  A file edited in place
        while it is read is not supported (in one process either: the reader reads what it finds)."""
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
        pid = self.pid
        if not pid or os.getpid() != self.owner:
            return
        try:
            # reaped already (SIGCHLD ignored, or a handler of the reading program's): the pid may
            # be another process's by now -- never signal it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                self.pid = 0
                return
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        self.pid = 0

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _helper_signals(mask) -> None:
    """In the helper: none of the reading program's signal handlers, nor its wakeup fd (an event
    loop's), may run or be written to here.  Ctrl-C is ignored (the reader ends the helper), a
    closed pipe ends it (SIGPIPE), signals the program ignored stay ignored (nohup)."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    for sig in signal.valid_signals():
        try:
            if callable(signal.getsignal(sig)):
                signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _scan(reader, path, pattern: bytes, chunk_size: int, wfd: int, ident: tuple[int, int] | None) -> None:
    """The helper's loop: the reader's own chunking and scans of every chunk, one pickle each
    (``reader``: the reader module, imported before the fork)."""
    _TACHED, _chunks, _open, _tid_runs = reader._TACHED, reader._chunks, reader._open, reader._tid_runs
    cap = reader.re.compile(pattern)
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

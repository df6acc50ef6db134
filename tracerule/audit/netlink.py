"""Read-only access to the kernel's audit records over netlink.

:class:`MulticastListener` binds a ``NETLINK_AUDIT`` socket to the ``AUDIT_NLGRP_READLOG`` multicast
group (needs ``CAP_AUDIT_READ``) and hands every record to a callback from a background thread.
It never registers as the audit daemon (no ``AUDIT_SET`` of a pid), so an auditd -- running or started
later -- is undisturbed.  The kernel sends the multicast copy of every record it emits, whether or not
an auditd is connected (without one it also prints records to the kernel log, rate limited).

:func:`send_user_message` sends an ``AUDIT_USER`` message (``CAP_AUDIT_WRITE``), which the kernel
queues behind every record already emitted: seeing it come back means earlier records have arrived.
"""
from __future__ import annotations

import errno
import os
import select
import signal
import socket
import struct
import threading
from typing import Callable, Iterator

NETLINK_AUDIT = 9
AUDIT_NLGRP_READLOG = 1
AUDIT_USER = 1005
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
SO_RCVBUFFORCE = 33
_HDR = struct.Struct("=IHHII")


def parse_messages(buf: bytes) -> Iterator[tuple[int, bytes]]:
    """Split a netlink datagram into ``(type, payload)`` pairs (``nlmsghdr`` + payload, 4-byte aligned)."""
    off, n = 0, len(buf)
    while off + _HDR.size <= n:
        length, mtype, _flags, _seq, _pid = _HDR.unpack_from(buf, off)
        if length < _HDR.size:
            return  # malformed (the unicast socket's payload-only nlmsg_len quirk does not apply to multicast)
        end = min(off + length, n)
        yield mtype, bytes(buf[off + _HDR.size:end])
        off += (length + 3) & ~3


def open_multicast(rcvbuf: int = 8 << 20) -> socket.socket:
    """A NETLINK_AUDIT socket joined to the read-log multicast group."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_AUDIT)
    try:
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
            try:
                s.setsockopt(socket.SOL_SOCKET, opt, rcvbuf)
                break
            except OSError:
                continue
        s.bind((0, 1 << (AUDIT_NLGRP_READLOG - 1)))
    except BaseException:
        s.close()
        raise
    return s


class MulticastListener:
    """A background thread reading the audit multicast group; ``on_message(type, payload)`` per record.

    ``overruns`` counts ENOBUFS (the socket buffer overflowed and records were dropped for this
    listener: the kernel's ``lost`` counter does not see those)."""

    def __init__(self, on_message: Callable[[int, bytes], None], *, rcvbuf: int = 8 << 20) -> None:
        self._on_message = on_message
        self._sock = open_multicast(rcvbuf)
        self._stop_r, self._stop_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._thread = threading.Thread(target=self._run, name="tracerule-audit-netlink", daemon=True)
        self.overruns = 0
        self.messages = 0
        self.error: BaseException | None = None

    def start(self) -> "MulticastListener":
        self._thread.start()
        return self

    def _run(self) -> None:
        # signals belong to the main thread (the session's cleanup handlers)
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
        except (AttributeError, OSError, ValueError):
            pass
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        try:
            while True:
                ready = dict(poller.poll())
                if self._stop_r in ready:
                    # drain what is already queued, then stop
                    self._drain()
                    return
                if self._sock.fileno() in ready:
                    self._drain()
        except BaseException as exc:  # noqa: BLE001 - reported through .error
            self.error = exc

    def _drain(self) -> None:
        while True:
            try:
                data = self._sock.recv(1 << 17, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.overruns += 1
                    continue
                raise
            for mtype, payload in parse_messages(data):
                if mtype in (NLMSG_ERROR, NLMSG_DONE):
                    continue
                self.messages += 1
                self._on_message(mtype, payload)

    def stop(self, timeout: float = 2.0) -> None:
        try:
            os.write(self._stop_w, b"x")
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout)
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._sock.close()


def send_user_message(text: str, *, timeout: float = 2.0) -> None:
    """Send an AUDIT_USER message (as PAM modules do); raises OSError when the kernel refuses it."""
    payload = text.encode("utf-8", "replace")[:8000] + b"\0"
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_AUDIT)
    try:
        s.settimeout(timeout)
        s.bind((0, 0))
        seq = int.from_bytes(os.urandom(3), "little") + 1
        msg = _HDR.pack(_HDR.size + len(payload), AUDIT_USER, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + payload
        s.sendto(msg, (0, 0))
        while True:
            data = s.recv(8192)
            for mtype, body in parse_messages(data):
                if mtype == NLMSG_ERROR and len(body) >= 4:
                    (err,) = struct.unpack_from("=i", body, 0)
                    if err != 0:
                        raise OSError(-err, os.strerror(-err))
                    return
    finally:
        s.close()

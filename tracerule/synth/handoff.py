"""Step ``handoffs``: a traced process talks to a daemon; what it asked for happens outside the
trace, in processes whose auid is unset (the daemon's children).

For each known daemon socket we say so, add a ``handoff`` target (the client's connect, which the
simulator verifies on the trace) and propose daemon-side rules, marked unverified (written commented
out: their paths are guesses for the target host).  Where sudo is in the chain, sudo's own
USER_CMD record (PAM/sudo audit plugin) already logs the command line of that step.
"""
from __future__ import annotations

import os

from tracerule.synth.context import basename, safe_text
from tracerule.synth.model import Handoff, Target

#: socket path -> (daemon, daemon-side programs that exec the work, ATT&CK)
DAEMONS = {
    "/var/run/docker.sock": ("dockerd", ("/usr/bin/runc", "/usr/bin/containerd-shim-runc-v2"), "T1610"),
    "/run/docker.sock": ("dockerd", ("/usr/bin/runc", "/usr/bin/containerd-shim-runc-v2"), "T1610"),
    "/run/containerd/containerd.sock": ("containerd", ("/usr/bin/runc", "/usr/bin/containerd-shim-runc-v2"),
                                        "T1610"),
    "/var/run/containerd/containerd.sock": ("containerd", ("/usr/bin/runc",), "T1610"),
    "/run/podman/podman.sock": ("podman", ("/usr/bin/crun", "/usr/bin/conmon"), "T1610"),
    "/run/crio/crio.sock": ("cri-o", ("/usr/bin/crun", "/usr/bin/conmon"), "T1610"),
    "/run/dbus/system_bus_socket": ("D-Bus (systemd, polkit)", ("/usr/lib/systemd/systemd",), "T1543.002"),
    "/var/run/dbus/system_bus_socket": ("D-Bus (systemd, polkit)", ("/usr/lib/systemd/systemd",),
                                        "T1543.002"),
    "/run/systemd/private": ("systemd", ("/usr/lib/systemd/systemd",), "T1543.002"),
}


def find_handoffs(ctx, unix_connects, uid_min: int, tag: str = "") -> tuple[list[Target], list[Handoff], dict]:
    """Group the trace's AF_UNIX connects to known daemon sockets by (socket, client program)."""
    groups: dict[tuple, list] = {}
    for ev, sock, proc, line, rec, exe_path in unix_connects:
        norm = os.path.normpath(sock)
        if norm not in DAEMONS:
            continue
        groups.setdefault((norm, exe_path), []).append((ev, proc, line, rec))
    targets: list[Target] = []
    handoffs: list[Handoff] = []
    records: dict = {}
    sudo_in_chain = False
    for n, ((sock, exe_path), evs) in enumerate(groups.items(), 1):
        daemon, progs, attack = DAEMONS[sock]
        ev0, proc0, line0, _ = evs[0]
        real, note = ctx.realpath(exe_path)
        chain = ctx.chain(proc0, line0)
        sudo_in_chain = sudo_in_chain or " sudo" in chain
        auids = [p.creds_at(ln).auid.value for _, p, ln, _ in evs]
        tid = f"{tag}h{n}"
        failed = all(r is not None and r.exit is not None and r.exit < 0 for *_, r in evs)
        reason = (f"hand-off to {daemon} over {safe_text(sock)}" + (" (the connect failed: no daemon was "
                                                                   "listening when traced)" if failed else ""))
        t = Target(tid, "handoff", reason, tuple(e for e, *_ in evs), chain, exe=real, exe_note=note,
                   syscalls=("connect",), auid_scope=ctx.auid_scope(auids),
                   euid0=all(p.creds_at(ln).euid.value == 0 for _, p, ln, _ in evs),
                   success=False, attack=(attack,), detail={"socket": sock, "daemon": daemon})
        targets.append(t)
        records[tid] = [r for *_, r in evs if r is not None]
        daemon_rules = []
        for prog in progs:
            daemon_rules.append(f"-a always,exit -F arch=b64 -S execve,execveat -F auid=unset "
                                f"-F exe={prog} -k tr-handoff-daemon")
        notes = [f"{safe_text(basename(real or exe_path or '?'))} asks {daemon} to act: the work is done by "
                 f"the daemon's processes, whose auid is unset, so auid-scoped rules cannot follow it "
                 f"there",
                 "daemon-side rules are UNVERIFIED: the daemon is not in this trace; check the paths "
                 "(realpath, no symlink) on the target host before uncommenting them"]
        if " sudo" in chain:
            notes.append("sudo already logs this step: its USER_CMD record (ausearch -m USER_CMD) "
                         "carries auid, the command line and the target user")
        handoffs.append(Handoff(daemon, sock, tuple(e for e, *_ in evs), chain, real, (), tuple(daemon_rules),
                                tuple(notes)))
    return targets, handoffs, records


def handoff_ladder(t: Target, host: str, uid_min: int):
    """Client-side rungs: the client's connects to a unix socket (exact), any socket call (program)."""
    from tracerule.audit.rules.classes import family
    from tracerule.synth import build as B
    from tracerule.synth.model import Rung

    if not t.exe:
        return [], [f"{t.id}: client program unknown: no client-side rule"]
    scope = B.scope_fields(t.auid_scope if t.auid_scope != "mixed" else "", uid_min)
    exe = [B.field("exe", "=", t.exe)]
    key = "tr-handoff"
    rungs = [Rung("exact", (B.syscall_rule(host, ["connect"], [B.field("saddr_fam", "=", 1)] + scope + exe, key,
                                          host=host),), "this client's connects to unix sockets"),
             Rung("program", (B.syscall_rule(host, [n for n in family(host, "network") if n != "socketpair"],
                                             scope + exe, key, host=host),), "any socket call by this client")]
    return rungs, []

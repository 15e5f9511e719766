"""Ports for the servers the project starts: on loopback unless told otherwise."""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

LOOPBACK = "127.0.0.1"
# Listening ports are picked from here up to the kernel's range for outgoing connections: a port in that range can
# be taken, between our pick and our server's bind, as the local end of any program's outgoing connection (a
# monero network of 15 nodes opens 210 of them).
LISTEN_FLOOR = 20000
MIN_ROOM = 1000  # below this many ports between the floor and the ephemeral range, the kernel picks
ATTEMPTS = 200


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for the local ports of outgoing connections (Linux's default if it cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports nobody holds at this moment, below the kernel's ephemeral range where it leaves
    room (the kernel's own pick otherwise). All are held until all are chosen, so none is handed out twice.
    Another program may still take one before the caller binds it, so a server started on it must check that it
    got it (see activities/monero/nodes.launched_answers)."""
    low, _ = ephemeral_range()
    candidates = range(LISTEN_FLOOR, low) if low - LISTEN_FLOOR >= MIN_ROOM else range(0)
    pick = random.SystemRandom()
    held: list[socket.socket] = []
    try:
        misses = 0
        while len(held) < count:
            probe = socket.socket()
            port = pick.choice(candidates) if candidates and misses < ATTEMPTS else 0
            try:
                probe.bind((host, port))
            except OSError:  # in use: another pick
                probe.close()
                misses += 1
                continue
            held.append(probe)
        return [int(probe.getsockname()[1]) for probe in held]
    finally:
        for probe in held:
            with contextlib.suppress(OSError):
                probe.close()


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody holds at this moment (see free_ports)."""
    return free_ports(1, host)[0]

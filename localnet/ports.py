"""Ports for the servers the project starts: on loopback unless told otherwise."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody holds at this moment, the kernel's pick. Another program may take it before the caller binds
    it, so a server started on it must check that it got it (see activities/monero/nodes.launched_answers)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])

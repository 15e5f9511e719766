"""Listening ports: distinct within one pick, bindable, and outside the range outgoing connections draw from."""

from __future__ import annotations

import socket

import pytest

from localnet import ports


def test_one_pick_never_repeats_a_port_and_each_can_be_bound():
    picked = ports.free_ports(300)
    assert len(set(picked)) == 300
    for port in picked[:20]:
        with socket.socket() as server:
            server.bind((ports.LOOPBACK, port))


def test_ports_come_from_below_the_kernels_range_for_outgoing_connections():
    low, _ = ports.ephemeral_range()
    if low - ports.LISTEN_FLOOR < ports.MIN_ROOM:
        pytest.fail(f"this machine's ephemeral range starts at {low}: no room below it to test")
    assert all(ports.LISTEN_FLOOR <= port < low for port in ports.free_ports(50))


def test_a_port_in_use_is_not_picked_and_a_full_range_falls_back_to_the_kernels_pick(
    monkeypatch: pytest.MonkeyPatch,
):
    with socket.socket() as taken:
        taken.bind((ports.LOOPBACK, 0))
        taken.listen()
        held = taken.getsockname()[1]
        # The range is that one port, which is taken.
        monkeypatch.setattr(ports, "MIN_ROOM", 1)
        monkeypatch.setattr(ports, "LISTEN_FLOOR", held)
        monkeypatch.setattr(ports, "ephemeral_range", lambda: (held + 1, held + 2))
        [port] = ports.free_ports(1)
        assert port != held

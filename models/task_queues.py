"""Task queue names: what the CLI starts workflows on and what workers poll."""

from __future__ import annotations

from enum import StrEnum


class TaskQueue(StrEnum):
    # Store activities (ledger, ground truth) shared by every domain.
    PLATFORM = "simctl-platform"
    # OttoChain traffic: fiber lifecycles, identity, evolution.
    OTTO = "simctl-otto"
    # Programmatic advertising: experiments, campaigns, negotiation, their store writes.
    ADS = "simctl-ads"
    # The monero network: runs, mining rounds, payments, marketplaces; monerod and wallet-rpc processes.
    MONERO = "simctl-monero"


def host_queue(queue: TaskQueue, host_id: str) -> str:
    """The queue only the workers of host ``host_id`` poll beside ``queue``: work that must stay on the machine
    holding a process (a monero run's monerod and wallet-rpc listen on that machine's loopback)."""
    return f"{queue.value}@{host_id}"

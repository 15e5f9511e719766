"""Which machine holds a monero run's processes.

monerod and wallet-rpc listen on the loopback of the machine that started them, so every activity that starts,
stops or talks to them must run on that machine. A run claims a host once, on the shared monero queue: whichever
worker takes the claim answers with its own host queue (``simctl-monero@<host id>``, polled only by workers
with that host id), and the run schedules every process activity there from then on (Temporal's
worker-specific task queue pattern).
"""

from __future__ import annotations

import logging

from temporalio import activity
from temporalio.exceptions import ApplicationError

from localnet.monero import processes
from models.monero_run import HostClaim, HostClaimRequest

log = logging.getLogger(__name__)


class HostActivities:
    def __init__(self, host_id: str, task_queue: str) -> None:
        self._claim = HostClaim(host_id=host_id, task_queue=task_queue)

    @activity.defn(name="monero.claim_host")
    async def claim_host(self, request: HostClaimRequest) -> HostClaim:
        """This worker's host queue. A worker without monerod refuses, retryably: the retry goes back to the
        shared queue, where a worker that has it may take the claim."""
        try:
            processes.require_binaries()
        except processes.MoneroMissing as missing:
            raise ApplicationError(f"host {self._claim.host_id}: {missing}", type="MoneroMissing") from None
        log.info("monero run %s: its processes go on host %s", request.run_id, self._claim.host_id)
        return self._claim

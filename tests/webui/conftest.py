"""Web UI tests: the otto tests' wallet pool, for a worker process that signs fiber moves."""

from __future__ import annotations

from tests.otto.conftest import pool

__all__ = ["pool"]

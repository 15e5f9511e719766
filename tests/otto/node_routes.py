"""The embedded OttoChain node's POST routes, for the tests that send each one bad input."""

from __future__ import annotations

POST_ROUTES = (
    "/dl1/data",
    "/cl1/transactions",
    "/debug/faults",
    "/debug/faucet",
    "/bridge/wallet/generate",
    "/bridge/wallet/import",
    "/bridge/wallet/sign",
    "/bridge/agent/register",
    "/bridge/agent/activate",
    "/bridge/agent/transition",
    "/bridge/agent/vouch",
    "/bridge/contract/propose",
    "/bridge/contract/accept",
    "/bridge/contract/reject",
    "/bridge/contract/complete",
    "/bridge/contract/finalize",
    "/bridge/contract/dispute",
    "/bridge/fiber/create",
    "/bridge/fiber/transition",
    "/bridge/fiber/batch",
)

"""Monero activities: monerod and wallet-rpc processes, their JSON-RPC, payments, the run's store writes."""

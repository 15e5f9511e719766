"""Monero network rules: pure, deterministic functions (randomness only from a passed-in rng)."""

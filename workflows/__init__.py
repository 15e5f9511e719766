"""Orchestration only: deterministic workflow code, per domain. No I/O here."""

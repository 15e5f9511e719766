"""The rules: pure, deterministic functions, safe to call from workflow code."""

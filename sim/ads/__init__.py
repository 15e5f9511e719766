"""Programmatic-advertising rules: pure, deterministic functions (randomness only from a passed-in rng).

Calibration follows /work/shared/reference/adtech.md (IAB seller/buyer agent rules, channel CPMs,
Sui/Walrus cost formulas). Money is integer micros; a CPM is micros per 1000 impressions.
"""

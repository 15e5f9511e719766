"""Programmatic-advertising rules: pure, deterministic functions (randomness only from a passed-in rng).

Calibration follows public sources: the IAB Tech Lab buyer-agent and seller-agent rules (identity tiers,
volume discounts, negotiation limits), the ANA and ISBA/PwC programmatic supply-chain studies (take rates),
published channel CPM ranges, and the Sui and Walrus documentation's cost formulas (ledger costs).
Money is integer micros; a CPM is micros per 1000 impressions.
"""

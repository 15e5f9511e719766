"""OttoChain workflows: fiber lifecycles and identity."""

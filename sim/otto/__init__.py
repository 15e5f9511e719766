"""OttoChain rules: signing, fiber definitions and the policies that drive them, identity scoring."""

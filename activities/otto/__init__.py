"""OttoChain I/O: the bridge, DL1/ML0/indexer clients, and the keyring that signs for agents."""

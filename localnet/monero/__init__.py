"""Real monerod and monero-wallet-rpc processes on loopback: command lines, launch, PID records, stop."""

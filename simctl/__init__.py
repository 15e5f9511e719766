"""simctl: the command line for durable simulations on Temporal."""

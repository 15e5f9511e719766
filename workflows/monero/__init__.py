"""The monero network run: MoneroNetworkWorkflow, MiningRoundWorkflow, PaymentWorkflow, marketplaces."""

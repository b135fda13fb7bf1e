"""What the load generator runs: one driver per workload, each a mix of transaction types."""

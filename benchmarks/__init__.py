"""The benchmark harness: real local networks, a load generator in its own process, and a
report that sets this run's figures beside the published ones (`make bench`)."""

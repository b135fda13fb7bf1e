"""A simulated energy community trading on a MockNetwork: profiles, market setup and the run."""

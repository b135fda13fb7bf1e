"""One module per attack scenario, each exposing `SCENARIO` (see `attacks.scenario`)."""

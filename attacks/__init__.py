"""The attack suite: scenarios run against a real local network, each measuring what the
attacker got (which must be nothing) and what the attack cost honest users.

`attacks.scenario` is the interface every scenario implements; `attacks.registry` finds them;
`attacks.runner` runs them and `attacks.report` writes `attacks/report.json` and `report.md`.
"""

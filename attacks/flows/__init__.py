"""The attacker's flows: what a dishonest node runs in the attack scenarios.

A node runs them only when its configuration lists "attacks.flows" among its CorDapps (the
local network does, as it does `cordapp_energy.attacks`). Each flow does what a node holding
its own keys could do anyway; the point is to show the rest of the network refuses it.
"""

from attacks.flows import forgery as forgery
from attacks.flows import fuzz as fuzz
from attacks.flows import race as race
from attacks.flows import replay as replay

__all__ = ["forgery", "fuzz", "race", "replay"]

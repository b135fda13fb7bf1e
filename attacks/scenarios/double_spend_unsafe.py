"""f + 1 faulty replicas in the double-spend race; see `double_spend.DoubleSpendBeyondF`."""

from attacks.scenarios.double_spend import DoubleSpendBeyondF

SCENARIO = DoubleSpendBeyondF()

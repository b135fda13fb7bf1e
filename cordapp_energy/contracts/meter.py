"""MeterContract: readings are created only by their doorman-admitted meter, and consumed only
by issuing energy against them (the energy contract checks how much)."""

from __future__ import annotations

from cordapp_energy.contracts.common import single_command
from cordapp_energy.contracts.energy import Request
from cordapp_energy.errors import ForgedReadingError, ShapeViolation
from cordapp_energy.meters import METER_CONTRACT, MeterReadingState, RecordReading, check_meter
from dlt.ledger import Contract, LedgerTransaction, contract


@contract(METER_CONTRACT)
class MeterContract(Contract):
    """A reading is a fact a meter signed; the household can use it up, never make or alter it."""

    def verify(self, tx: LedgerTransaction) -> None:
        inputs = tx.inputs_of_type(MeterReadingState)
        outputs = tx.outputs_of_type(MeterReadingState)
        if not tx.commands_of_type(RecordReading):
            if not inputs:
                raise ShapeViolation(
                    "a meter reading is created only by its meter's RecordReading command"
                )
            # Consumed by issuance: the energy contract's Request checks the reading.
            if not tx.commands_of_type(Request):
                raise ShapeViolation(
                    "a meter reading is consumed only by issuing energy against it (Request)"
                )
            return
        command = single_command(tx, (RecordReading,), "meter contract")
        if inputs or len(outputs) != 1:
            raise ShapeViolation(
                "recording a meter reading consumes no reading and creates exactly one; found "
                f"{len(inputs)} reading inputs and {len(outputs)} reading outputs"
            )
        reading = outputs[0]
        if reading.issued_wh:
            raise ShapeViolation(
                f"a new reading backs no energy yet, but it claims {reading.issued_wh} Wh issued"
            )
        check_meter(reading, tx.network_parameters)
        if reading.meter_key not in command.signers:
            raise ForgedReadingError(
                f"forged meter reading: the reading for {reading.window} is not signed by the "
                f"key of its meter's certificate, the only key that may attest it"
            )

"""Meter readings on a household's node: record what its meter signed, find it to issue against."""

from __future__ import annotations

import base64

from pydantic import Base64Bytes
from sqlalchemy.orm import Session

from cordapp_energy.meters import MeterReadingState
from cordapp_energy.states import DeliveryWindow
from dlt.encoding import DecodingError, decode, encode
from dlt.flows import FlowException, FlowLogic, flow
from dlt.flows.library import FinalityFlow
from dlt.ledger import SignedTransaction, StateAndRef, StateRef
from dlt.vault import CustomColumnCriteria, Operator, VaultQueryCriteria
from dlt.vault.errors import InsufficientStatesError


@flow("energy.RecordMeterReading", initiating=True, rpc=True)
class RecordMeterReadingFlow(FlowLogic[StateRef]):
    """Record a reading transaction our meter signed (`Meter.sign_reading`, encoded, base64 in
    JSON); returns the reading's state reference. Recording the same signed reading twice is
    harmless: it is the same transaction."""

    transaction: Base64Bytes

    @classmethod
    def of(cls, stx: SignedTransaction) -> RecordMeterReadingFlow:
        return cls(transaction=base64.b64encode(encode(stx)))

    async def call(self) -> StateRef:
        try:
            stx = decode(self.transaction, SignedTransaction)
        except DecodingError as exc:
            raise FlowException(f"the meter reading is not a signed transaction: {exc}") from exc
        outputs = [state.data for state in stx.tx.outputs]
        if len(outputs) != 1 or not isinstance(outputs[0], MeterReadingState):
            raise FlowException("a meter reading transaction has exactly one output, the reading")
        if outputs[0].household != self.our_identity:
            raise FlowException(
                f"the reading belongs to {outputs[0].household.name}, not to us "
                f"({self.our_identity.name}); a household records its own meter's readings"
            )
        await self.sub_flow(FinalityFlow(stx=stx))
        return StateRef(txhash=stx.id, index=0)


async def reading_for(
    flow: FlowLogic[object], window: DeliveryWindow, ref: StateRef | None
) -> StateAndRef:
    """Lock our unconsumed meter reading for `window` (the one at `ref` if given)."""
    criteria = (
        VaultQueryCriteria(state_types=(MeterReadingState,), refs=(ref,) if ref else ())
        & CustomColumnCriteria(MeterReadingState, "window_start", Operator.EQ, window.start)
        & CustomColumnCriteria(
            MeterReadingState, "household_name", Operator.EQ, str(flow.our_identity.name)
        )
    )
    vault = flow.services.vault

    def select(session: Session) -> list[StateAndRef]:
        return vault.select_and_lock(session, flow.flow_id, criteria, limit=1)

    try:
        found = await flow.durable("energy.select-reading", select)
    except InsufficientStatesError:
        found = []
    if not found:
        raise FlowException(
            f"no unused meter reading of {flow.our_identity.name} for {window} is free: none is "
            "recorded (the household's meter must sign one, RecordMeterReadingFlow, before "
            "energy is issued) or another flow issuing against it holds it until it finishes"
        )
    return found[0]


def require_backing(reading: StateAndRef, quantity_wh: int) -> MeterReadingState:
    """Refuse issuing `quantity_wh` against `reading` beyond what it has left to back."""
    data = reading.state.data
    if not isinstance(data, MeterReadingState):
        raise FlowException(f"state {reading.ref} is not a meter reading")
    if quantity_wh > data.available_wh:
        raise FlowException(
            f"the meter reading of {data.household.name} for {data.window} backs "
            f"{data.available_wh} Wh more ({data.surplus_wh} Wh surplus, {data.issued_wh} Wh "
            f"issued), not {quantity_wh} Wh"
        )
    return data


def after_issuing(reading: MeterReadingState, quantity_wh: int) -> MeterReadingState:
    """The reading as issuing `quantity_wh` against it re-outputs it."""
    return reading.model_copy(update={"issued_wh": reading.issued_wh + quantity_wh})

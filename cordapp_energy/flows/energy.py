"""Energy on the ledger: a producer requests (issues) it, owners transfer it whole or in parts."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from cordapp_energy.contracts.energy import Request, Split, Transfer
from cordapp_energy.flows.common import RecordFinalisedFlow, finalise
from cordapp_energy.flows.meter import after_issuing, reading_for, require_backing
from cordapp_energy.flows.rules import rules_for
from cordapp_energy.states import DeliveryWindow, EnergyState, EnergyType
from dlt.crypto import SecureHash
from dlt.flows import FlowException, FlowLogic, flow, responder
from dlt.flows.library import choose_notary
from dlt.identity import X500Name
from dlt.ledger import SignedTransaction, StateAndRef, StateRef, TransactionBuilder
from dlt.vault import VaultQueryCriteria


def window_of(start: datetime, minutes: int) -> DeliveryWindow:
    return DeliveryWindow(start=start, end=start + timedelta(minutes=minutes))


async def own_energy(flow: FlowLogic[object], ref: StateRef) -> StateAndRef:
    """Lock the energy state `ref`, which must be ours to give."""
    vault = flow.services.vault
    criteria = VaultQueryCriteria(refs=(ref,), state_types=(EnergyState,))
    chosen = await flow.durable(
        "energy.select-ref", lambda s: vault.select_and_lock(s, flow.flow_id, criteria, limit=1)
    )
    state = chosen[0].state.data
    if state.owner != flow.our_identity:
        raise FlowException(f"energy state {ref} belongs to {state.owner}, not to us")
    return chosen[0]


@flow("energy.RequestEnergy", initiating=True, rpc=True)
class RequestEnergyFlow(FlowLogic[SignedTransaction]):
    """A producer issues energy it will deliver in a window. Where the market rules require
    meter readings (or `reading` names one) it consumes its meter's reading for the window,
    so the notary sees the issuance; otherwise one node, no notary needed."""

    quantity_wh: int = Field(gt=0)
    energy_type: EnergyType
    window_start: datetime
    window_minutes: int = Field(default=15, gt=0, le=1440)
    price_per_kwh: int = Field(ge=0)
    reading: StateRef | None = None

    async def call(self) -> SignedTransaction:
        installed = await rules_for(self)
        rules = installed.rules
        rules.check_price(self.energy_type, self.price_per_kwh)
        rules.check_state_quantity(self.quantity_wh)
        window = window_of(self.window_start, self.window_minutes)
        builder = TransactionBuilder(notary=choose_notary(self))
        if rules.require_meter_readings or self.reading is not None:
            reading = await reading_for(self, window, self.reading)
            data = require_backing(reading, self.quantity_wh)
            builder = TransactionBuilder(notary=reading.state.notary)
            builder.add_input_state(reading)
            builder.add_output_state(after_issuing(data, self.quantity_wh))
        builder.add_output_state(
            EnergyState(
                energy_type=self.energy_type,
                quantity_wh=self.quantity_wh,
                window=window,
                price_per_kwh=self.price_per_kwh,
                currency=rules.currency,
                issuer=self.our_identity,
                owner=self.our_identity,
            )
        )
        builder.add_command(Request(), self.our_identity.owning_key)
        builder.add_attachment(installed.attachment_id)
        return await finalise(self, self.sign_initial(builder))


@flow("energy.TransferEnergy", initiating=True, rpc=True)
class TransferEnergyFlow(FlowLogic[SignedTransaction]):
    """Give a whole energy state to `new_owner`; notarised, recorded by issuer and new owner."""

    ref: StateRef
    new_owner: X500Name

    async def call(self) -> SignedTransaction:
        new_owner = self.services.identity.require_party(self.new_owner)
        installed = await rules_for(self)
        energy = await own_energy(self, self.ref)
        builder = TransactionBuilder()
        builder.add_input_state(energy)
        builder.add_output_state(energy.state.data.with_new_owner(new_owner))
        builder.add_command(Transfer(), self.our_identity.owning_key)
        builder.add_attachment(installed.attachment_id)
        return await finalise(self, self.sign_initial(builder))


@flow("energy.RepeatedPay", initiating=True, rpc=True)
class RepeatedPayFlow(FlowLogic[list[SecureHash]]):
    """Transfer one energy state to `new_owner` in `parts` fractions, one notarised
    transaction each: the reference paper's request + repeated pay."""

    ref: StateRef
    new_owner: X500Name
    parts: int = Field(ge=1, le=1000)

    async def call(self) -> list[SecureHash]:
        new_owner = self.services.identity.require_party(self.new_owner)
        installed = await rules_for(self)
        current = await own_energy(self, self.ref)
        total = current.state.data.quantity_wh
        if total < self.parts:
            raise FlowException(f"{total} Wh cannot be split into {self.parts} parts")
        sizes = [
            total // self.parts + (1 if i < total % self.parts else 0) for i in range(self.parts)
        ]
        tx_ids: list[SecureHash] = []
        for number, size in enumerate(sizes, start=1):
            self.step(f"Transferring part {number} of {self.parts} ({size} Wh)")
            state = current.state.data
            builder = TransactionBuilder()
            builder.add_input_state(current)
            builder.add_output_state(state.with_quantity(size).with_new_owner(new_owner))
            remainder = state.quantity_wh - size
            if remainder:
                builder.add_output_state(state.with_quantity(remainder))
                builder.add_command(Split(), self.our_identity.owning_key)
            else:
                builder.add_command(Transfer(), self.our_identity.owning_key)
            builder.add_attachment(installed.attachment_id)
            stx = await finalise(self, self.sign_initial(builder))
            tx_ids.append(stx.id)
            if remainder:
                current = StateAndRef(state=stx.tx.outputs[1], ref=StateRef(txhash=stx.id, index=1))
        return tx_ids


@responder(RequestEnergyFlow)
class RequestEnergyResponder(RecordFinalisedFlow):
    pass


@responder(TransferEnergyFlow)
class TransferEnergyResponder(RecordFinalisedFlow):
    pass


@responder(RepeatedPayFlow)
class RepeatedPayResponder(RecordFinalisedFlow):
    pass

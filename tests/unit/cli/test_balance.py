"""`dlt vault balance` adds up what the node owns and keeps apart what it only participates in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cordapp_energy import (
    Currency,
    DeliveryWindow,
    EnergyState,
    EnergyType,
    PaymentState,
    Request,
)
from cordapp_energy.holdings import RULES
from dlt.cli.balance import VaultContents, balance_of, render_balance
from dlt.cli.holdings import installed_rules
from dlt.encoding import encode
from dlt.identity import Party
from dlt.ledger import StateAndRef, StateRef, TransactionBuilder
from dlt.rpc.client import LedgerValue, PeerInfo, StateStatus, VaultStateInfo
from dlt.testing import test_identity

US = test_identity("O=Consumer 1, L=York, C=GB")
PRODUCER = test_identity("O=Producer 1, L=Leeds, C=GB")
OTHER = test_identity("O=Consumer 2, L=York, C=GB")
BANK = test_identity("O=Community Bank, L=London, C=GB")
SHADOW_BANK = test_identity("O=Shadow Bank, L=Cardiff, C=GB")
NOTARY = test_identity("O=Notary, L=Zurich, C=CH")
DAY = datetime(2026, 6, 1, tzinfo=UTC)
NOON, LATER = DeliveryWindow.slot(DAY, 48), DeliveryWindow.slot(DAY, 49)
EUR = Currency("EUR")


def energy(wh: int, owner=US, window: DeliveryWindow = NOON) -> EnergyState:
    return EnergyState(
        energy_type=EnergyType.SOLAR,
        quantity_wh=wh,
        window=window,
        price_per_kwh=12,
        currency=EUR,
        issuer=PRODUCER.party,
        owner=owner.party,
    )


def money(amount: int, owner=US, issuer=BANK) -> PaymentState:
    return PaymentState(amount=amount, currency=EUR, issuer=issuer.party, owner=owner.party)


def vault_state(index: int, state: object, encoded: bytes | None = None) -> VaultStateInfo:
    tx = TransactionBuilder(notary=NOTARY.party).add_output_state(state)
    wtx = tx.add_command(Request(), PRODUCER.public_key).to_wire_transaction()
    sar = StateAndRef(state=wtx.outputs[0], ref=StateRef(txhash=wtx.id, index=index))
    return VaultStateInfo(
        ref=str(sar.ref),
        state_type=f"energy.{type(state).__name__}",
        contract="",
        notary=str(NOTARY.party.name),
        status=StateStatus.UNCONSUMED,
        recorded_at=DAY,
        consumed_at=None,
        consuming_tx=None,
        lock_id=None,
        state=LedgerValue("StateAndRef", {}, encode(sar) if encoded is None else encoded),
    )


def contents(*states: object) -> VaultContents:
    identity = PeerInfo(
        name=str(US.party.name),
        owning_key=US.public_key.to_string(),
        fingerprint=str(US.public_key.fingerprint),
        addresses=(),
        rpc_address=None,
        platform_version=1,
        serial=1,
    )
    return VaultContents(identity, [vault_state(i, s) for i, s in enumerate(states)], [])


def owned_json(*states: object) -> list[dict]:
    return balance_of(contents(*states), [RULES]).json("us")["owned"]


def test_owned_energy_adds_up_per_delivery_window():
    owned = owned_json(energy(2_000), energy(2_500), energy(700, window=LATER))

    assert [(entry["window"]["start"], entry["amount"], entry["states"]) for entry in owned] == [
        ("2026-06-01T12:00:00Z", 4_500, 2),
        ("2026-06-01T12:15:00Z", 700, 1),
    ]
    assert {entry["unit"] for entry in owned} == {"Wh"}


def test_money_from_two_issuers_is_two_balances():
    owned = owned_json(money(100), money(50), money(7, issuer=SHADOW_BANK))

    assert [(e["issuer"], e["currency"], e["amount"]) for e in owned] == [
        (str(BANK.party.name), "EUR", 150),
        (str(SHADOW_BANK.party.name), "EUR", 7),
    ]


def test_states_owned_by_others_are_listed_apart_by_owner_and_never_counted_as_ours():
    balance = balance_of(contents(energy(1_000), energy(300, owner=OTHER)), [RULES]).json("us")

    assert [e["amount"] for e in balance["owned"]] == [1_000]
    assert [(e["owner"], e["amount"]) for e in balance["participating"]] == [
        (str(OTHER.party.name), 300)
    ]


def test_a_state_owned_by_an_impostor_with_our_name_but_another_key_is_not_ours():
    impostor = Party(name=US.party.name, owning_key=OTHER.public_key)
    forged = energy(5_000).with_new_owner(impostor)

    balance = balance_of(contents(forged, energy(1_000)), [RULES]).json("us")

    assert [e["amount"] for e in balance["owned"]] == [1_000]
    assert [e["amount"] for e in balance["participating"]] == [5_000]


def test_states_no_cordapp_counts_or_decodes_are_counted_by_type():
    vault = contents(energy(1_000))
    vault.states.append(vault_state(9, money(5), encoded=b"\xa0"))

    assert balance_of(vault, [RULES]).json("us")["uncounted"] == {"energy.PaymentState": 1}


def test_the_energy_cordapp_is_found_through_its_entry_point():
    assert any(isinstance(rules, type(RULES)) for rules in installed_rules())


@pytest.mark.parametrize("width", [80, 120])
def test_a_balance_fits_the_terminal(width, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    balance = balance_of(
        contents(
            energy(4_500), money(99_942), energy(500, owner=OTHER), money(1, issuer=SHADOW_BANK)
        ),
        [RULES],
    )

    text = render_balance(balance, str(US.party.name))

    assert max(len(line) for line in text.splitlines()) <= width
    assert "Energy held:" in text and "Money held:" in text
    assert "Energy owned by others" in text

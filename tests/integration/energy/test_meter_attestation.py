"""Meter attestation on a MockNetwork: producers issue only what their meters saw produced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cordapp_energy.flows import RecordMeterReadingFlow, RequestEnergyFlow
from cordapp_energy.meters import Meter, MeterReadingState
from cordapp_energy.simulator.market import holdings, open_market
from cordapp_energy.states import DeliveryWindow, EnergyState, EnergyType
from dlt.flows import FlowException
from dlt.identity import DevCertificateAuthority
from dlt.ledger import StateRef

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
WINDOW = DeliveryWindow(start=NOON, end=NOON + timedelta(minutes=15))


@pytest.fixture
async def market(tmp_path):
    market = await open_market(
        tmp_path, ["Producer A", "Producer B"], ["Consumer A"], opening_balance=10_000, meters=True
    )
    yield market
    await market.stop()


def issue(quantity_wh: int, start: datetime = NOON, reading: StateRef | None = None):
    return RequestEnergyFlow(
        quantity_wh=quantity_wh,
        energy_type=EnergyType.SOLAR,
        window_start=start,
        price_per_kwh=10,
        reading=reading,
    )


async def test_a_producer_issues_its_metered_surplus_and_the_notary_sees_it(market):
    producer = market.producers[0]
    await market.record_reading(producer, WINDOW, 5_000, 1_000)

    stx = await producer.run(issue(4_000))

    assert await holdings(producer, EnergyState, "quantity_wh") == 4_000
    assert any(sig.by == market.notary.party.owning_key for sig in stx.sigs)
    reading = next(s.data for s in stx.tx.outputs if isinstance(s.data, MeterReadingState))
    assert (reading.issued_wh, reading.available_wh) == (4_000, 0)


async def test_issuing_without_a_reading_is_refused(market):
    with pytest.raises(FlowException, match="no unused meter reading"):
        await market.producers[0].run(issue(1_000))


async def test_issuing_beyond_the_surplus_is_refused(market):
    producer = market.producers[0]
    await market.record_reading(producer, WINDOW, 5_000, 1_000)
    with pytest.raises(FlowException, match="backs 4000 Wh more"):
        await producer.run(issue(4_001))


async def test_a_used_up_reading_backs_no_more_energy(market):
    producer = market.producers[0]
    await market.record_reading(producer, WINDOW, 5_000, 1_000)
    await producer.run(issue(3_000))
    with pytest.raises(FlowException, match=r"backs 1000 Wh more \(4000 Wh surplus, 3000 Wh"):
        await producer.run(issue(1_500))
    await producer.run(issue(1_000))
    assert await holdings(producer, EnergyState, "quantity_wh") == 4_000


async def test_a_reading_recorded_twice_is_one_reading(market):
    producer = market.producers[0]
    first = await market.record_reading(producer, WINDOW, 5_000, 1_000)
    assert await market.record_reading(producer, WINDOW, 5_000, 1_000) == first
    await producer.run(issue(4_000))
    with pytest.raises(FlowException, match="backs 0 Wh more"):
        await producer.run(issue(1))


async def test_a_reading_backs_energy_of_its_own_interval_only(market):
    producer = market.producers[0]
    ref = await market.record_reading(producer, WINDOW, 5_000, 0)
    with pytest.raises(FlowException, match="no unused meter reading"):
        await producer.run(issue(1_000, NOON + timedelta(minutes=15), reading=ref))


async def test_a_producer_cannot_record_a_neighbours_reading(market):
    a, b = market.producers
    stx = market.meters[str(a.name)].sign_reading(
        WINDOW, 5_000, 0, notary=market.notary.party, parameters_hash=market.network.parameters.hash
    )
    with pytest.raises(FlowException, match="belongs to O=Producer A, L=Leeds, C=GB, not to us"):
        await b.run(RecordMeterReadingFlow.of(stx))


async def test_a_reading_from_a_meter_no_trusted_doorman_admitted_is_refused(market):
    producer = market.producers[0]
    rogue_ca = DevCertificateAuthority.create()
    cert, key = rogue_ca.enrol_meter(producer.name)
    rogue = Meter(producer.party, key, cert, rogue_ca.doorman_cert)
    stx = rogue.sign_reading(
        WINDOW,
        90_000,
        0,
        notary=market.notary.party,
        parameters_hash=market.network.parameters.hash,
    )
    with pytest.raises(Exception, match="forged meter reading"):
        await producer.run(RecordMeterReadingFlow.of(stx))
    assert await holdings(producer, EnergyState, "quantity_wh") == 0

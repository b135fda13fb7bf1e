"""`python -m deploy.multihost` (`make multihost-demo`): the production shape on test hosts.

Brings up the operator and four organisations on network namespaces (each organisation joins
through the doorman and runs its own broker, node, PostgreSQL and notary replica), trades across
them with and without WAN delay, cuts one organisation off mid-trade and heals it, prints what
it measured, and takes everything down again (also on failure or Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from deploy.multihost.netns import NetnsError, unavailable_reason
from deploy.multihost.network import MultihostError, MultihostNetwork
from dlt.rpc.client import FlowStatus

PRODUCER = "O=Solar Coop, L=Leeds, C=GB"
CONSUMER = "O=Household, L=York, C=GB"
BANK = "O=Community Bank, L=London, C=GB"
MARKET = "O=Market Operator, L=London, C=GB"
WINDOW = "2026-06-01T12:00:00+00:00"
FINISHED = frozenset({FlowStatus.COMPLETED, FlowStatus.FAILED, FlowStatus.KILLED})


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')}  {message}", flush=True)


def _dvp(net: MultihostNetwork, quantity_wh: int) -> float:
    _, seconds = net.timed_flow(
        "consumer",
        "energy.RequestAndPay",
        producer=PRODUCER,
        quantity_wh=quantity_wh,
        energy_type="solar",
        window_start=WINDOW,
        price_per_kwh=15,
    )
    return seconds


def _partition(net: MultihostNetwork, cut_seconds: float) -> tuple[float, float]:
    """A DvP with the producer, who is cut off right after it starts; a payment between the
    others meanwhile. Returns (payment seconds, DvP seconds after the heal)."""

    async def run() -> tuple[float, float]:
        async with net.rpc("consumer") as consumer, net.rpc("market") as market:
            dvp = await consumer.start_flow(
                "energy.RequestAndPay",
                {
                    "producer": PRODUCER,
                    "quantity_wh": 4_444,
                    "energy_type": "solar",
                    "window_start": WINDOW,
                    "price_per_kwh": 15,
                },
            )
            dvp.detach()
            cut = time.monotonic()
            with net.hosts.partitioned("producer"):
                _say("producer cut off; the market operator pays the bank meanwhile")
                began = time.perf_counter()
                await asyncio.wait_for(
                    market.run_flow(
                        "energy.Pay", {"recipient": BANK, "amount": 5, "currency": "EUR"}
                    ),
                    timeout=120,
                )
                paid = time.perf_counter() - began
                await asyncio.sleep(max(0.0, cut_seconds - (time.monotonic() - cut)))
            _say("producer healed; waiting for the DvP to finish")
            healed = time.monotonic()
            while (await consumer.flow_status(dvp.flow_id)).status not in FINISHED:
                await asyncio.sleep(0.5)
            return paid, time.monotonic() - healed

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.multihost", description=__doc__)
    parser.add_argument("--work", type=Path, help="where the hosts keep their files")
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--jitter-ms", type=float, default=5.0)
    parser.add_argument("--cut-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason is not None:
        print(f"multihost-demo: {reason}", file=sys.stderr)
        return 1
    work = args.work or Path(tempfile.mkdtemp(prefix="dlt-multihost-"))
    net = MultihostNetwork(work, say=_say, timeout=400)
    try:
        net.up()
        net.flow(
            "market",
            "energy.PublishCommunityRules",
            payment_issuer=BANK,
            require_meter_readings="false",  # the test hosts' households have no meters
        )
        net.flow("bank", "energy.IssuePayment", owner=CONSUMER, amount=100_000, currency="EUR")
        net.flow("bank", "energy.IssuePayment", owner=MARKET, amount=1_000, currency="EUR")
        _dvp(net, 999)  # warm-up: the first trade opens the connections between brokers
        lan = [_dvp(net, 1_000 + i) for i in range(3)]
        _say(f"DvP across hosts, no added delay: {', '.join(f'{s:.2f}' for s in lan)} s")
        net.hosts.delay_all(args.delay_ms, args.jitter_ms)
        rtt = statistics.median(net.hosts.round_trips_ms("consumer", net.address("producer")))
        _say(f"added {args.delay_ms:g} ± {args.jitter_ms:g} ms per hop: round trip {rtt:.1f} ms")
        wan = [_dvp(net, 2_000 + i) for i in range(3)]
        _say(f"DvP across hosts with WAN delay: {', '.join(f'{s:.2f}' for s in wan)} s")
        paid, finished = _partition(net, args.cut_seconds)
        _say(
            f"payment among the others during the cut: {paid:.2f} s; the producer's DvP "
            f"finished {finished:.1f} s after the heal"
        )
    except (MultihostError, NetnsError, AssertionError) as exc:
        print(f"multihost-demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        _say("taking the test hosts down")
        net.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`run_gateway_attack`: the reference paper's delay-and-discard attack on a real local network,
by both adversaries, without and with each mitigation.

Runs, each one market window (`market.BOOK`):

- honest: no attack (sealing on, resubmission on): the equilibrium every other run is compared
  with;
- broker operator, content rule, sealing off: it drops Producer 2's offer on its way to the
  market operator, picked by content (an OfferState naming Producer 2);
- broker operator, same rule, sealing on: the rule can no longer match;
- broker operator, sealing on, an envelope rule (every message from Producer 2 to the market
  operator): what sealing leaves it, since it still sees who sends to whom;
- TCP gateway in front of Notary Service 1, resubmission off: it cuts the notary's connection
  when a request-sized record reaches it and keeps it out until gate closure; orders drawn to
  that notary miss the window;
- TCP gateway, resubmission on (the mitigation in the orders flow): those orders go to the
  other notary after `RESUBMIT_AFTER` and are recorded in time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attacks.gateway.broker_operator import BrokerOperator, Rule
from attacks.gateway.market import ADVERSARY, COMPETITOR, Market, MarketOutcome, paper_distortion
from attacks.gateway.network import broker_port, route_broker, set_sealing
from attacks.gateway.tcp_gateway import FROM_BROKER, TcpGateway, Trigger
from deploy.localnet import Localnet
from dlt.identity import X500Name
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.certificate_store import load_node_certificates

GATE_SECONDS = 20.0
"""From the order phase's opening to the market operator's clearing."""
REQUEST_RECORD = 200
"""Bytes from which a record reaching a notary is a request, not a heartbeat or an ack."""


NETWORK_COMMAND = "dlt localnet up --notaries 2 --producers 2 --consumers 3"


class GatewayAttackError(Exception):
    """The attack cannot be measured on this network; the message says what to use instead."""


@dataclass
class Run:
    adversary: str
    mitigation: str
    outcome: MarketOutcome
    mitigated: bool
    """The mitigation against this adversary is on: nothing may be lost."""
    observed: dict[str, Any] = field(default_factory=dict)

    def as_json(self, honest: MarketOutcome | None) -> dict[str, Any]:
        row: dict[str, Any] = {
            "adversary": self.adversary,
            "mitigation": self.mitigation,
            "mitigated": self.mitigated,
            "lost_orders": [f"{s.party} {s.side}" for s in self.outcome.lost],
            **self.outcome.as_json(),
            "observed": self.observed,
        }
        if honest is not None:
            row["distortion"] = distortion(honest, self.outcome)
        return row


@dataclass
class GatewayResult:
    runs: list[Run]
    seconds: float

    @property
    def honest(self) -> MarketOutcome:
        return self.runs[0].outcome

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 1),
            "runs": [run.as_json(self.honest) for run in self.runs],
        }


def distortion(honest: MarketOutcome, attacked: MarketOutcome) -> dict[str, Any]:
    """The adversary's measured gain in quantity, against the paper's ΔQ^a for its measured
    profit gain π."""
    q_star = honest.sold_wh.get(ADVERSARY, 0)
    q_a = attacked.sold_wh.get(ADVERSARY, 0)
    found: dict[str, Any] = {"adversary_sold_honest_wh": q_star, "adversary_sold_wh": q_a}
    if honest.adversary_profit > 0:
        pi = attacked.adversary_profit / honest.adversary_profit - 1
        found["pi"] = round(pi, 4)
        if pi >= -1:
            found["paper_delta_q_wh"] = round(paper_distortion(q_star, pi), 1)
    found["measured_delta_q_wh"] = q_a - q_star
    found["price_change"] = (attacked.clearing_price or 0) - (honest.clearing_price or 0)
    return found


async def run_gateway_attack(home: Path, say: Any = print) -> GatewayResult:
    """Run every row above on the running local network under `home` (2 notary services,
    2 producers, 3 consumers, as `NETWORK_COMMAND` builds it, fresh); leaves it with sealing
    on and no gateway."""
    started = time.monotonic()
    localnet = Localnet(home)
    _check_shape(localnet)
    market = Market(localnet)
    runs: list[Run] = []
    await set_sealing(localnet, True)
    say("preparing the market (rules, money)")
    await market.prepare()

    say("honest window")
    honest = await market.window(gate_seconds=GATE_SECONDS, resubmit=True)
    if honest.lost:
        failed = next(o for o in honest.orders if o.status != "recorded")
        raise GatewayAttackError(
            f"the honest window lost {failed.spec.party}'s {failed.spec.side} ({failed.status}: "
            f"{failed.error}); run on a fresh network: {NETWORK_COMMAND}"
        )
    runs.append(Run("none", "-", honest, mitigated=True))

    operator = BrokerOperator(home)
    operator.install()
    mo_inbox = _inbox(localnet, "market-operator")
    rule = Rule(
        "offer-of-producer-2",
        mo_inbox,
        (b"energy.OfferState", market.member(COMPETITOR).name.encode()),
    )

    envelope = Rule(
        "producer-2-to-market-operator",
        mo_inbox,
        sender=broker_user_name(X500Name.parse(market.member(COMPETITOR).name)),
    )
    plans = (
        (rule, False, "broker operator (content)", "sealing off"),
        (rule, True, "broker operator (content)", "sealing on"),
        (envelope, True, "broker operator (envelope)", "sealing on (residual)"),
    )
    for chosen, sealing, adversary, mitigation in plans:
        await set_sealing(localnet, sealing)

        async def arm_operator(chosen: Rule = chosen) -> None:
            operator.reset()
            operator.set_rules([chosen])

        async def disarm_operator() -> None:
            operator.set_rules([])

        say(f"{adversary} drops {COMPETITOR}'s offer ({chosen.name}), sealing {_on(sealing)}")
        outcome = await market.window(
            gate_seconds=GATE_SECONDS,
            resubmit=True,
            attack=arm_operator,
            before_clearing=disarm_operator,
        )
        counters = operator.counters()
        sizes = {
            int(key.rsplit(" ", 1)[1]): count
            for key, count in counters.items()
            if key.startswith(f"size {mo_inbox} ")
        }
        runs.append(
            Run(
                adversary,
                mitigation,
                outcome,
                mitigated=chosen is rule and sealing,
                observed={
                    "matched": counters.get(f"matched {chosen.name}", 0),
                    "seen_to_market_operator": counters.get(f"seen {mo_inbox}", 0),
                    "body_sizes_to_market_operator": dict(sorted(sizes.items())),
                },
            )
        )
    operator.uninstall()

    notary = market.member("notary-service-1")
    gateway = TcpGateway("127.0.0.1", broker_port(localnet))
    await gateway.start()
    try:
        await route_broker(localnet, notary, gateway.port)
        for resubmit in (False, True):

            async def arm_gateway() -> None:
                gateway.log.triggered = gateway.log.cut_connections = 0
                gateway.arm(Trigger(FROM_BROKER, REQUEST_RECORD), blackout=GATE_SECONDS + 60)

            async def disarm_gateway() -> None:
                gateway.disarm()

            say(f"TCP gateway blacks out Notary Service 1, resubmission {_on(resubmit)}")
            outcome = await market.window(
                gate_seconds=GATE_SECONDS,
                resubmit=resubmit,
                attack=arm_gateway,
                before_clearing=disarm_gateway,
            )
            runs.append(
                Run(
                    "TCP gateway (size, timing)",
                    f"resubmission {_on(resubmit)}",
                    outcome,
                    mitigated=resubmit,
                    observed={
                        "triggered": gateway.log.triggered,
                        "cut_connections": gateway.log.cut_connections,
                        "refused_connections": gateway.log.refused_connections,
                    },
                )
            )
    finally:
        await route_broker(localnet, notary, broker_port(localnet))
        await gateway.stop()
    return GatewayResult(runs, time.monotonic() - started)


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def _inbox(localnet: Localnet, prefix: str) -> str:
    member = next(m for m in localnet.members if m.slug.startswith(prefix))
    certificates = load_node_certificates(localnet.node_dir(member))
    return inbox_queue_name(certificates.party.owning_key)


def _check_shape(localnet: Localnet) -> None:
    members = localnet.members
    services = {m.service or m.name for m in members if m.is_notary}
    slugs = [m.slug for m in members]
    needed = ("market-operator", "community-bank", "producer-1", "producer-2", "consumer-3")
    missing = [n for n in needed if not any(s.startswith(n) for s in slugs)]
    if len(services) < 2 or missing:
        raise GatewayAttackError(
            f"the network in {localnet.home} has {len(services)} notary service(s)"
            + (f" and no {', '.join(missing)}" if missing else "")
            + f"; the gateway attack needs two and three consumers: {NETWORK_COMMAND}"
        )

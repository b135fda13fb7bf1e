"""The gateway attack's model: the book it runs, the paper's formula, the interceptor's rules
and how runs become suite rows."""

from __future__ import annotations

import math

from attacks.gateway.broker_operator import Rule, _rule_term
from attacks.gateway.market import (
    ADVERSARY,
    BOOK,
    COMPETITOR,
    MarketOutcome,
    OrderOutcome,
    cost,
    paper_distortion,
)
from attacks.gateway.run import GatewayResult, Run, distortion
from attacks.gateway.scenario import rows
from cordapp_energy.matching import Order, Side, clear_uniform


def _clear(book):
    orders = [
        Order(
            order_id=f"{spec.party}-{spec.side}",
            side=Side.BUY if spec.side == "bid" else Side.SELL,
            quantity_wh=spec.quantity_wh,
            limit_price=spec.limit,
            submitted_seq=seq,
        )
        for seq, spec in enumerate(book)
    ]
    return clear_uniform(
        [o for o in orders if o.side is Side.BUY], [o for o in orders if o.side is Side.SELL]
    )


def _outcome(book, lost=()):
    result = _clear([s for s in book if s not in lost])
    sold = {}
    for match in result.matches:
        seller = match.offer_id.rsplit("-", 1)[0]
        sold[seller] = sold.get(seller, 0) + match.quantity_wh
    q = sold.get(ADVERSARY, 0)
    profit = q * result.clearing_price / 1000 - float(cost(q))
    return MarketOutcome(
        window="w",
        orders=[OrderOutcome(s, "failed" if s in lost else "recorded", 1.0) for s in book],
        clearing_price=result.clearing_price,
        cleared_wh=result.cleared_quantity_wh,
        sold_wh=sold,
        bought_wh={},
        surplus={},
        adversary_profit=profit,
    )


def test_removing_the_competitors_offer_moves_the_equilibrium_as_the_paper_predicts():
    honest = _outcome(BOOK)
    competitor = next(s for s in BOOK if s.party == COMPETITOR)
    attacked = _outcome(BOOK, lost=(competitor,))

    assert (honest.clearing_price, honest.cleared_wh, honest.sold_wh[ADVERSARY]) == (10, 6000, 3000)
    assert (attacked.clearing_price, attacked.cleared_wh) == (14, 5000)
    found = distortion(honest, attacked)
    assert found["measured_delta_q_wh"] == 2000
    assert math.isclose(found["paper_delta_q_wh"], 2000, abs_tol=0.1)


def test_the_paper_formula():
    assert paper_distortion(3000, 0) == 0
    assert math.isclose(paper_distortion(1000, 3), 1000)


def test_an_interceptor_rule_is_an_erlang_term_of_binaries():
    rule = Rule("r", "p2p.inbound.X", (b"A\x00",), sender="C=GB,O=P")
    assert _rule_term(rule) == (
        "{<<114>>,<<112,50,112,46,105,110,98,111,117,110,100,46,88>>,"
        "<<67,61,71,66,44,79,61,80>>,[<<65,0>>],drop}"
    )
    assert _rule_term(Rule("r", None, delay_ms=1500)) == "{<<114>>,any,any,[],{delay,1500}}"


def test_a_mitigated_run_that_loses_an_order_fails_and_an_unmitigated_one_documents_it():
    honest = _outcome(BOOK)
    competitor = next(s for s in BOOK if s.party == COMPETITOR)
    attacked = _outcome(BOOK, lost=(competitor,))
    result = GatewayResult(
        [
            Run("none", "-", honest, mitigated=True),
            Run("broker operator (content)", "sealing off", attacked, mitigated=False),
            Run("broker operator (content)", "sealing on", attacked, mitigated=True),
            Run("TCP gateway", "resubmission on", honest, mitigated=True),
        ],
        seconds=1.0,
    )
    unmitigated, failing, passing = rows(result)

    assert unmitigated.unsafe and unmitigated.passed and unmitigated.accepted == 2
    assert not failing.passed and failing.accepted_what == ("producer-2 offer lost",)
    assert passing.passed and passing.accepted == 0

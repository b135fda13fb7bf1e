"""A node installs market rules only from the operator the network parameters name: a node
that calls itself market operator and publishes first gets nowhere."""

from __future__ import annotations

import pytest

from cordapp_energy.flows import PublishMarketRulesFlow, RulesPublication
from cordapp_energy.flows.rules import community_rules, current_rules
from cordapp_energy.market_rules import MarketRules
from cordapp_energy.simulator.market import open_market
from dlt.flows import FlowException, FlowLogic, flow


class _PublishWithoutInstalling(PublishMarketRulesFlow):
    """A dishonest node's publication: it skips the check its own node would make."""

    async def call(self) -> RulesPublication:
        attachment = self.services.keys.sign_attachment(
            self.rules.unsigned_attachment(), self.our_identity.owning_key
        )
        [party] = self._recipients()
        session = self.initiate_flow(party)
        answer = await session.send_and_receive(bool, attachment)
        return RulesPublication(
            attachment_id=attachment.id, installed=(party.name,) if answer else ()
        )


@flow("test.RoguePublish", initiating=True)
class RoguePublishFlow(FlowLogic[RulesPublication]):
    rules: MarketRules
    victim: str

    async def call(self) -> RulesPublication:
        return await self.sub_flow(
            _PublishWithoutInstalling(rules=self.rules, participants=(self.victim,))
        )


async def test_rules_from_a_self_appointed_operator_are_refused_and_change_nothing(tmp_path):
    market = await open_market(tmp_path, ["Producer A"], ["Consumer A"])
    try:
        rogue = market.producers[0]
        consumer = market.consumers[0]
        genuine = consumer.services.db.read_sync(current_rules).attachment_id
        rules = community_rules(rogue.party, market.bank.party, version=2, max_price_per_kwh=400)

        with pytest.raises(FlowException, match=r"do not trust for energy\.market-rules"):
            await rogue.run(PublishMarketRulesFlow(rules=rules, participants=(consumer.name,)))
        with pytest.raises(FlowException, match=r"refusing market rules.*do not trust"):
            await rogue.run(RoguePublishFlow(rules=rules, victim=str(consumer.name)))

        assert consumer.services.db.read_sync(current_rules).attachment_id == genuine
    finally:
        await market.stop()


async def test_the_operator_the_parameters_name_publishes_to_everyone(tmp_path):
    market = await open_market(tmp_path, ["Producer A"], ["Consumer A"])
    try:
        rules = community_rules(market.operator.party, market.bank.party, version=2)

        publication = await market.operator.run(PublishMarketRulesFlow(rules=rules))

        assert set(publication.installed) == {n.name for n in (market.bank, *market.households)}
        assert publication.refused == publication.unanswered == ()
    finally:
        await market.stop()

"""Market rules on a node: published by the operator, installed by every party, read by flows.

The operator signs the rules into an attachment and sends it to the participants. A party
installs only rules signed by the market operator the network parameters trust, never by
whoever sends rules first.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from sqlalchemy import BigInteger, Column, Integer, String, Table, insert, select
from sqlalchemy.orm import Session

from cordapp_energy.errors import UntrustedMarketOperatorError
from cordapp_energy.market_rules import (
    EnrolmentLimits,
    MarketRules,
    PriceBand,
    QuantityLimits,
    TradingHours,
    check_trusted_operator,
)
from cordapp_energy.mechanisms import Mechanism
from cordapp_energy.states import EnergyType
from cordapp_energy.units import Currency
from dlt.crypto import SecureHash
from dlt.encoding import serializable
from dlt.flows import FlowException, FlowLogic, FlowSession, flow, responder
from dlt.identity import Party, X500Name
from dlt.ledger import Attachment, LedgerModel
from dlt.node.services import ServiceHub
from dlt.vault import load_attachment, metadata, store_attachment
from dlt.vault.schema import utc_now

market_rules_table = Table(
    "energy_market_rules",
    metadata,
    Column("attachment_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False, index=True),
    Column("operator", String(400), nullable=False),
    Column("installed_at", BigInteger, nullable=False),
)


class MarketNotConfiguredError(FlowException):
    """No market rules are installed on this node yet."""


class InstalledRules:
    """The rules a flow trades under, with the id of the attachment that carries them."""

    def __init__(self, attachment_id: SecureHash, rules: MarketRules) -> None:
        self.attachment_id = attachment_id
        self.rules = rules


RULES_STEP = "energy.rules"
"""The journal entry holding the rules' attachment id a flow trades under."""

_RULES_EXTENSION = "energy.rules"
_INSTALLED_HERE = "energy.rules_installed"
"""Session info key: rules were installed in this session, which may still roll back."""


class _KnownRules:
    """A node's current rules, read once from its database and forgotten when rules are
    installed, so each trade need not query and parse them again."""

    def __init__(self) -> None:
        self.current: InstalledRules | None = None


def _known_rules(services: ServiceHub) -> _KnownRules:
    known = services.extensions.get(_RULES_EXTENSION)
    if not isinstance(known, _KnownRules):
        known = services.extensions[_RULES_EXTENSION] = _KnownRules()
    return known


def current_rules(session: Session) -> InstalledRules:
    row = session.execute(
        select(market_rules_table.c.attachment_id).order_by(market_rules_table.c.version.desc())
    ).first()
    if row is None:
        raise MarketNotConfiguredError(
            "no market rules are installed on this node; the market operator publishes them "
            "with PublishMarketRulesFlow"
        )
    attachment_id = SecureHash.parse(row.attachment_id)
    attachment = load_attachment(session, attachment_id)
    if attachment is None:
        raise MarketNotConfiguredError(f"market rules attachment {attachment_id} is missing")
    return InstalledRules(attachment_id, MarketRules.from_attachment(attachment))


def install_rules(session: Session, attachment: Attachment, services: ServiceHub) -> SecureHash:
    """Store and adopt `attachment`'s rules, refusing rules of any operator other than the
    one the network parameters trust."""
    rules = MarketRules.from_attachment(attachment)
    _known_rules(services).current = None
    session.info[_INSTALLED_HERE] = True
    try:
        check_trusted_operator(rules, services.network_map.parameters)
    except UntrustedMarketOperatorError as exc:
        raise FlowException(f"refusing market rules: {exc}") from exc
    exists = session.execute(
        select(market_rules_table.c.version).where(
            market_rules_table.c.attachment_id == str(attachment.id)
        )
    ).first()
    if exists is None:
        store_attachment(session, attachment, uploaded_at=utc_now())
        session.execute(
            insert(market_rules_table).values(
                attachment_id=str(attachment.id),
                version=rules.version,
                operator=str(rules.market_operator.name),
                installed_at=int(utc_now().timestamp() * 1_000_000),
            )
        )
    return attachment.id


async def rules_for(flow: FlowLogic[object]) -> InstalledRules:
    """The node's current rules, as journaled for this flow.

    Once the node has read its rules, a flow journals their id with its next commit instead
    of reading them in a commit of its own; both paths journal the same entry, so a replay
    takes either."""
    known = _known_rules(flow.services)
    remembered = known.current
    if remembered is not None:
        attachment_id = flow.remember(RULES_STEP, lambda: remembered.attachment_id, SecureHash)
    else:

        def read(session: Session) -> SecureHash:
            installed = current_rules(session)
            if not session.info.get(_INSTALLED_HERE):
                known.current = installed
            return installed.attachment_id

        attachment_id = await flow.durable(RULES_STEP, read)
    current = known.current
    if current is not None and current.attachment_id == attachment_id:
        return current
    attachment = await flow.services.db.read(lambda s: load_attachment(s, attachment_id))
    assert attachment is not None
    return InstalledRules(attachment_id, MarketRules.from_attachment(attachment))


@serializable("energy.RulesPublication")
class RulesPublication(LedgerModel):
    """Which parties installed the rules while the operator waited, and which had not yet
    answered (a party that is down installs them from its inbox when it is back)."""

    attachment_id: SecureHash
    installed: tuple[X500Name, ...]
    refused: tuple[str, ...] = ()
    unanswered: tuple[X500Name, ...] = ()


@flow("energy.PublishMarketRules", initiating=True, rpc=True)
class PublishMarketRulesFlow(FlowLogic[RulesPublication]):
    """The market operator signs `rules`, installs them and sends them, to all at once, to
    `participants` (every other party on the network map when empty: notary replicas never
    read market rules), waiting up to `wait_seconds` for each to confirm."""

    rules: MarketRules
    participants: tuple[X500Name, ...] = ()
    wait_seconds: float = Field(default=10.0, gt=0, le=600)

    async def call(self) -> RulesPublication:
        if self.rules.market_operator != self.our_identity:
            raise FlowException(
                f"only the market operator {self.rules.market_operator.name} can publish "
                "these rules"
            )
        attachment = self.services.keys.sign_attachment(
            self.rules.unsigned_attachment(), self.our_identity.owning_key
        )
        services = self.services
        await self.durable("energy.install", lambda s: install_rules(s, attachment, services))
        waiting = []
        for party in self._recipients():
            session = self.initiate_flow(party)
            await session.send(attachment)
            waiting.append(session)
        self.step(f"Sent market rules to {len(waiting)} parties; waiting for them to install")
        installed: list[X500Name] = []
        refused: list[str] = []
        deadline = self.now() + timedelta(seconds=self.wait_seconds)
        while waiting and (left := (deadline - self.now()).total_seconds()) > 0:
            answer = await self.receive_any(waiting, timeout=left)
            if answer is None:
                break
            session, value = answer
            waiting.remove(session)
            name = session.counterparty.name
            if value is True:
                installed.append(name)
            else:
                refused.append(f"{name}: {value}")
        unanswered = tuple(session.counterparty.name for session in waiting)
        if unanswered:
            self.step(f"Not confirmed yet by {', '.join(str(n) for n in unanswered)}")
        return RulesPublication(
            attachment_id=attachment.id,
            installed=tuple(installed),
            refused=tuple(refused),
            unanswered=unanswered,
        )

    def _recipients(self) -> list[Party]:
        identities = self.services.identity
        if self.participants:
            return [identities.require_party(name) for name in self.participants]
        network_map = self.services.network_map
        notaries = {
            party
            for info in network_map.parameters.notaries
            for party in (info.identity, *info.replica_parties)
        }
        return [
            info.legal_identity
            for info in network_map.nodes
            if info.legal_identity != self.our_identity and info.legal_identity not in notaries
        ]


def community_rules(
    operator: Party,
    bank: Party,
    *,
    version: int = 1,
    currency: str = "EUR",
    min_price_per_kwh: int = 5,
    max_price_per_kwh: int = 40,
    mechanism: Mechanism = Mechanism.UNIFORM,
    require_meter_readings: bool = True,
) -> MarketRules:
    """Rules for a community market: solar and wind between a feed-in floor and a retail
    ceiling (5 and 40 ct/kWh by default), trading around the clock in 15-minute windows,
    issuing only against meter readings unless told otherwise."""
    bands = tuple(
        PriceBand(
            energy_type=energy_type,
            min_price_per_kwh=min_price_per_kwh,
            max_price_per_kwh=max_price_per_kwh,
        )
        for energy_type in (EnergyType.SOLAR, EnergyType.WIND)
    )
    return MarketRules(
        version=version,
        market_operator=operator,
        currency=Currency(currency),
        price_bands=bands,
        trading_hours=TradingHours(open_minute=0, close_minute=24 * 60),
        quantity_limits=QuantityLimits(
            min_state_wh=1, max_state_wh=1_000_000, min_order_wh=10, max_order_wh=100_000
        ),
        enrolment=EnrolmentLimits(
            min_consumer_balance=100,
            max_consumer_balance=100_000_000,
            min_producer_energy_wh=10,
            max_producer_energy_wh=10_000_000,
        ),
        payment_issuers=(bank,),
        mechanism=mechanism,
        require_meter_readings=require_meter_readings,
    )


@flow("energy.PublishCommunityRules", initiating=True, rpc=True)
class PublishCommunityRulesFlow(FlowLogic[RulesPublication]):
    """The operator publishes `community_rules` to every node: the rules in a few arguments,
    for operators starting a market from the command line."""

    payment_issuer: X500Name
    version: int = Field(default=1, ge=1)
    currency: str = "EUR"
    min_price_per_kwh: int = Field(default=5, ge=0)
    max_price_per_kwh: int = Field(default=40, ge=0)
    mechanism: Mechanism = Mechanism.UNIFORM
    require_meter_readings: bool = True
    wait_seconds: float = Field(default=10.0, gt=0, le=600)

    async def call(self) -> RulesPublication:
        bank = self.services.identity.require_party(self.payment_issuer)
        rules = community_rules(
            self.our_identity,
            bank,
            version=self.version,
            currency=self.currency,
            min_price_per_kwh=self.min_price_per_kwh,
            max_price_per_kwh=self.max_price_per_kwh,
            mechanism=self.mechanism,
            require_meter_readings=self.require_meter_readings,
        )
        return await self.sub_flow(
            PublishMarketRulesFlow(rules=rules, wait_seconds=self.wait_seconds)
        )


@responder(PublishMarketRulesFlow)
class ReceiveMarketRulesFlow(FlowLogic[None]):
    session: FlowSession

    async def call(self) -> None:
        attachment = await self.session.receive(Attachment)
        rules = MarketRules.from_attachment(attachment)
        if rules.market_operator != self.session.counterparty:
            raise FlowException(
                f"{self.session.counterparty.name} sent the rules of another operator, "
                f"{rules.market_operator.name}"
            )
        services = self.services
        await self.durable("energy.install", lambda s: install_rules(s, attachment, services))
        await self.session.send(True)

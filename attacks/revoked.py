"""A member the attacker controls, admitted like any node and then revoked by the operator.

The attacker registers one more node of its own with the running network's doorman (dev mode
admits it at once), certifies its TLS and identity keys with the node CA it was issued,
publishes its NodeInfo and gets a broker user: a full member, which the controls prove. The
operator then revokes it (`Localnet.revoke`). Its certificates stay unexpired; what it still
holds is a connection opened before the revocation, its keys and its certificates.

A fresh member, not ATTACKER itself, is revoked: revocation is permanent (the name and key stay
held), and the scenarios after this one, and later runs on the same network, attack as ATTACKER.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aio_pika

from attacks.network import HONEST_PAYEE
from attacks.scenario import AttackContext
from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import NodeCertificates, X500Name, certs_from_pem, create_csr, csr_to_pem
from dlt.identity.hierarchy import issue_node_identities
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.messaging.tls import TlsMaterial
from dlt.node.certificate_store import load_node_certificates
from dlt.node.network_map_client import NetworkMapClient, NetworkMapRequestError
from dlt.node.network_map_types import SignedNodeInfo
from dlt.node.node_info import NodeInfo

REASON = "attack suite: the revoked-cert impersonation kind"


class RevokedMemberSetupError(Exception):
    """The member could not be admitted before its revocation, so the refusals prove nothing."""


@dataclass
class RevokedMember:
    name: X500Name
    certificates: NodeCertificates
    tls: TlsMaterial
    map_client: NetworkMapClient
    serial: int = 1
    held: aio_pika.abc.AbstractConnection | None = None
    """A connection opened while the member was admitted, kept across its revocation."""

    def next_node_info(self) -> SignedNodeInfo:
        self.serial += 1
        info = NodeInfo(legal_identity=self.certificates.party, serial=self.serial)
        return SignedNodeInfo.sign(
            info, self.certificates.legal_identity_key, self.certificates.legal_identity_chain
        )


def broker_url(context: AttackContext) -> str:
    raw = json.loads(context.localnet.state_file.read_text())
    return f"amqps://127.0.0.1:{raw['ports']['broker']}/%2F?auth=external"


def _map_url(context: AttackContext) -> str:
    raw = json.loads(context.localnet.state_file.read_text())
    return f"https://127.0.0.1:{raw['ports']['network_map']}"


def payee_inbox(context: AttackContext) -> str:
    member = context.network.member(HONEST_PAYEE)
    certs = load_node_certificates(context.localnet.node_dir(member))
    return inbox_queue_name(certs.party.owning_key)


async def admit_then_revoke(context: AttackContext) -> RevokedMember:
    """Admit a fresh attacker-controlled member, prove it is in, then have it revoked."""
    name = X500Name(f"Consumer 2 Spare {secrets.token_hex(3)}", "York", "GB")
    truststore = (context.home / "truststore.pem").read_bytes()
    client = NetworkMapClient(_map_url(context), truststore)
    key = EcdsaP256PrivateKey.generate()
    ticket = await asyncio.to_thread(
        client.register, csr_to_pem(create_csr(subject=name, key=key)), name
    )
    chain_pem = await asyncio.to_thread(client.poll_registration, ticket)
    if chain_pem is None:
        raise RevokedMemberSetupError(f"the doorman did not admit {name} at once (not dev mode)")
    node_ca, doorman, root = certs_from_pem(chain_pem)
    certificates = issue_node_identities(
        node_ca_cert=node_ca, node_ca_key=key, doorman_cert=doorman, root_cert=root
    )
    tls = TlsMaterial.for_node(certificates)
    member = RevokedMember(name, certificates, tls, client)
    await asyncio.to_thread(client.publish, member.next_node_info())
    inbox = inbox_queue_name(certificates.party.owning_key)
    await asyncio.to_thread(context.localnet.add_broker_user, name, inbox)
    member.held = await aio_pika.connect(broker_url(context), ssl_context=tls.ssl_context())
    # The broker closing the held connection is the expected outcome, not an error to print.
    with _quiet("aiormq.connection"):
        await asyncio.to_thread(context.localnet.revoke, name, REASON, context.progress.step)
    return member


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


async def logs_in(context: AttackContext, member: RevokedMember) -> bool:
    try:
        connection = await aio_pika.connect(
            broker_url(context), ssl_context=member.tls.ssl_context(), timeout=10
        )
    except Exception:  # the refusal under test: a TLS alert, a refused login, a closed socket
        return False
    await connection.close()
    return True


async def publishes_on_held_connection(context: AttackContext, member: RevokedMember) -> bool:
    """Whether the connection opened before the revocation still carries a message, as the
    member, into the honest payee's inbox."""
    assert member.held is not None
    try:
        channel = await member.held.channel(publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"revoked but still talking", user_id=broker_user_name(member.name)),
            routing_key=payee_inbox(context),
            timeout=10,
        )
    except Exception:  # the refusal under test: the broker closed the connection
        return False
    finally:
        await member.held.close()
    return True


async def publishes_node_info(member: RevokedMember) -> bool:
    try:
        await asyncio.to_thread(member.map_client.publish, member.next_node_info())
    except NetworkMapRequestError as exc:
        if exc.status == 403 and "revoked" in exc.reason:
            return False
        raise
    return True

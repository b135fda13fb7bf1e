"""A revoked node is shut out of the real broker: its open connection is closed and its
still unexpired certificate no longer logs in, while other nodes carry on (see conftest.py)."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from dlt.identity import X500Name
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.messaging.tls import TlsMaterial

pytestmark = pytest.mark.broker

MALLORY = X500Name("Mallory Grid", "Hull", "GB")


async def _disconnected(net, user: str, timeout: float = 10.0) -> bool:
    """Whether the broker holds no connection of `user`, polled until `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if user not in await asyncio.to_thread(net.broker.connected_users):
            return True
        await asyncio.sleep(0.2)
    return False


async def test_a_revoked_user_is_disconnected_and_cannot_log_in_again(net) -> None:
    certificates = net.ca.enrol_node(MALLORY)
    tls = TlsMaterial.for_node(certificates)
    user = broker_user_name(MALLORY)
    await asyncio.to_thread(
        net.broker.add_node_user, user, inbox_queue_name(certificates.party.owning_key)
    )
    connection = await net.connect(tls)
    try:
        assert user in await asyncio.to_thread(net.broker.connected_users)

        await asyncio.to_thread(net.broker.revoke_user, user, "key compromised")

        assert await _disconnected(net, user)
        with pytest.raises(RuntimeError, match="closed"):  # aiormq: the connection is gone
            channel = await connection.channel()
            await channel.default_exchange.publish(
                aio_pika.Message(b"still here", user_id=user), routing_key=net.bob.queue
            )
        assert user not in await asyncio.to_thread(net.broker.list_users)
        with pytest.raises(aio_pika.exceptions.AMQPConnectionError):  # EXTERNAL login refused
            await net.connect(tls)
    finally:
        await connection.close()
    honest = await net.connect(net.alice.tls)
    await honest.close()


async def test_revoking_a_user_twice_is_harmless(net) -> None:
    user = broker_user_name(X500Name("Nobody Here", "Hull", "GB"))
    await asyncio.to_thread(net.broker.revoke_user, user, "never admitted")
    await asyncio.to_thread(net.broker.revoke_user, user, "never admitted")

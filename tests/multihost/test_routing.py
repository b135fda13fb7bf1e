"""RoutingTransport: the home broker for peers on it, one publisher per remote broker.

Unit tests with recording stand-ins for the AMQP transports (the real ones run in
test_across_hosts.py, on four brokers)."""

from __future__ import annotations

import pytest

from dlt.identity import X500Name
from dlt.messaging.routing import RoutingTransport, same_broker
from dlt.messaging.transport import OutboundMessage, TransportError

HOME = "amqps://10.0.0.1:5671/%2F"
ALICE = X500Name.parse("O=Alice, L=Leeds, C=GB")
BOB = X500Name.parse("O=Bob, L=York, C=GB")
CAROL = X500Name.parse("O=Carol, L=Hull, C=GB")
DAVE = X500Name.parse("O=Dave, L=Bath, C=GB")
BROKERS = {ALICE: HOME, BOB: "amqps://10.0.0.2:5671/%2F", CAROL: "amqps://10.0.0.2:5671/%2F"}


class Recording:
    def __init__(self, url: str, *, refuse: bool = False) -> None:
        self.url = url
        self.refuse = refuse
        self.sent: list[OutboundMessage] = []
        self.started = 0
        self.stopped = 0

    async def start(self, handler: object) -> None:
        if self.refuse:
            raise TransportError(f"cannot connect to {self.url}")
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1

    async def send(self, message: OutboundMessage) -> None:
        self.sent.append(message)


def _resolve(name: X500Name) -> str:
    try:
        return BROKERS[name]
    except KeyError:
        raise LookupError(f"{name} is not on the network map") from None


async def _started(
    remotes: dict[str, Recording], refuse: bool = False
) -> tuple[RoutingTransport, Recording]:
    home = Recording(HOME)

    def factory(url: str) -> Recording:
        remotes[url] = Recording(url, refuse=refuse)
        return remotes[url]

    transport = RoutingTransport(home, HOME, _resolve, factory)  # type: ignore[arg-type]

    async def handler(message: object) -> None:
        return None

    await transport.start(handler)
    return transport, home


def _message(recipient: X500Name, number: int = 1) -> OutboundMessage:
    return OutboundMessage(recipient, f"m-{number}", b"payload")


def test_two_urls_name_one_broker_regardless_of_the_query_and_host_case():
    assert same_broker(
        "amqps://Broker.example:5671/%2F?auth=external", "amqps://broker.example:5671/%2F"
    )
    assert not same_broker("amqps://broker.example:5671/%2F", "amqps://broker.example:5672/%2F")
    assert not same_broker("amqps://broker.example:5671/a", "amqps://broker.example:5671/b")


async def test_a_peer_on_the_home_broker_is_reached_through_the_home_connection():
    remotes: dict[str, Recording] = {}
    transport, home = await _started(remotes)

    await transport.send(_message(ALICE))

    assert [m.recipient for m in home.sent] == [ALICE]
    assert remotes == {}


async def test_peers_on_another_broker_share_one_publisher_opened_on_first_use():
    remotes: dict[str, Recording] = {}
    transport, home = await _started(remotes)

    await transport.send(_message(BOB, 1))
    await transport.send(_message(CAROL, 2))

    (remote,) = remotes.values()
    assert remote.started == 1
    assert [m.recipient for m in remote.sent] == [BOB, CAROL]
    assert home.sent == []
    assert transport.remote_brokers == ["amqps://10.0.0.2:5671/%2F"]


async def test_an_unreachable_remote_broker_fails_the_send_retryably_and_is_tried_again():
    remotes: dict[str, Recording] = {}
    transport, _ = await _started(remotes, refuse=True)

    with pytest.raises(TransportError, match="cannot connect"):
        await transport.send(_message(BOB))
    with pytest.raises(TransportError):
        await transport.send(_message(BOB, 2))

    assert transport.remote_brokers == []


async def test_a_peer_missing_from_the_network_map_is_a_transport_error():
    transport, _ = await _started({})

    with pytest.raises(TransportError, match="no broker is known"):
        await transport.send(_message(DAVE))


async def test_stopping_closes_the_home_and_every_remote_connection():
    remotes: dict[str, Recording] = {}
    transport, home = await _started(remotes)
    await transport.send(_message(BOB))

    await transport.stop()

    assert home.stopped == 1
    assert all(remote.stopped == 1 for remote in remotes.values())
    with pytest.raises(TransportError):
        await transport.send(_message(ALICE))

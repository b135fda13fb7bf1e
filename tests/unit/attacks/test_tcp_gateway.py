"""The TCP gateway relays TLS records it cannot read, and acts on their sizes only."""

from __future__ import annotations

import asyncio
import time

import pytest

from attacks.gateway.tcp_gateway import FROM_BROKER, TO_BROKER, TcpGateway, Trigger


def record(size: int, content_type: int = 23) -> bytes:
    return bytes([content_type, 3, 3]) + size.to_bytes(2, "big") + bytes(size)


@pytest.fixture
async def echo():
    async def serve(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture
async def gateway(echo):
    gateway = TcpGateway("127.0.0.1", echo)
    await gateway.start()
    yield gateway
    await gateway.stop()


async def test_records_pass_unchanged_and_their_sizes_are_all_it_learns(gateway):
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    sent = record(40) + record(700) + record(5, content_type=22)
    writer.write(sent)
    assert await asyncio.wait_for(reader.readexactly(len(sent)), 5) == sent
    writer.close()

    seen = [(direction, size) for _, direction, size in gateway.log.records]
    assert seen.count((TO_BROKER, 40)) == seen.count((FROM_BROKER, 700)) == 1
    assert (TO_BROKER, 5) not in seen  # handshake records are not application data


async def test_a_record_of_the_chosen_size_cuts_the_connection_and_keeps_it_out(gateway):
    gateway.arm(Trigger(FROM_BROKER, 500, 1000), blackout=30)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(record(40))
    assert len(await asyncio.wait_for(reader.readexactly(45), 5)) == 45  # small ones pass
    writer.write(record(700))
    assert await asyncio.wait_for(reader.read(), 5) == b""  # cut before it came back
    assert gateway.log.cut_connections == 1

    reader, _ = await asyncio.open_connection("127.0.0.1", gateway.port)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # refused during the blackout
    assert gateway.log.refused_connections == 1

    gateway.disarm()
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(record(700))
    assert len(await asyncio.wait_for(reader.readexactly(705), 5)) == 705


async def test_a_delay_holds_the_stream_behind_the_chosen_record(gateway):
    gateway.arm(Trigger(TO_BROKER, 600, 800), delay=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    started = time.monotonic()
    writer.write(record(700) + record(10))
    await asyncio.wait_for(reader.readexactly(705 + 15), 5)
    assert time.monotonic() - started >= 0.5
    writer.close()

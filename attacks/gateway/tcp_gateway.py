"""The TCP-path gateway: an asyncio proxy in front of chosen nodes' broker connections.

It relays bytes both ways and reads only what TLS leaves visible: the 5-byte record headers
(content type, version, length) and when each record passes. It cannot drop one record
without breaking the TLS stream, so its actions are the ones a real on-path attacker has:
hold the stream (delay), or cut the connection and refuse new ones for a while (blackout),
when a record of a chosen size passes in a chosen direction while the gateway is armed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

RECORD_HEADER = 5
TO_BROKER = "to-broker"
FROM_BROKER = "from-broker"


@dataclass(frozen=True)
class Trigger:
    """Records of application data between `min_size` and `max_size` bytes in `direction`."""

    direction: str = FROM_BROKER
    min_size: int = 0
    max_size: int = 1 << 16

    def matches(self, direction: str, content_type: int, size: int) -> bool:
        return (
            content_type == 23
            and direction == self.direction
            and self.min_size <= size <= self.max_size
        )


@dataclass
class GatewayLog:
    records: list[tuple[float, str, int]] = field(default_factory=list)
    """(monotonic time, direction, record length) of every application-data record."""
    triggered: int = 0
    cut_connections: int = 0
    refused_connections: int = 0


class TcpGateway:
    """Listens on 127.0.0.1 and relays to `upstream`; `arm` makes it attack."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.log = GatewayLog()
        self._server: asyncio.Server | None = None
        self._trigger: Trigger | None = None
        self._blackout_seconds = 0.0
        self._delay_seconds = 0.0
        self._blackout_until = 0.0
        self._connections: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    def arm(self, trigger: Trigger, *, blackout: float = 0.0, delay: float = 0.0) -> None:
        """On a matching record: hold the stream `delay` seconds, or cut every connection
        and refuse new ones for `blackout` seconds."""
        self._trigger, self._blackout_seconds, self._delay_seconds = trigger, blackout, delay

    def disarm(self) -> None:
        self._trigger = None
        self._blackout_until = 0.0

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if time.monotonic() < self._blackout_until:
            self.log.refused_connections += 1
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._connections.update((writer, up_writer))
        pumps = [
            asyncio.ensure_future(self._pump(reader, up_writer, TO_BROKER, (writer, up_writer))),
            asyncio.ensure_future(self._pump(up_reader, writer, FROM_BROKER, (writer, up_writer))),
        ]
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
        for end in (writer, up_writer):
            end.close()
            self._connections.discard(end)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: str,
        ends: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        """Relay whole TLS records, looking at each header."""
        while True:
            try:
                header = await reader.readexactly(RECORD_HEADER)
                body = await reader.readexactly(int.from_bytes(header[3:5], "big"))
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            size = len(body)
            if header[0] == 23:
                self.log.records.append((time.monotonic(), direction, size))
            trigger = self._trigger
            if trigger is not None and trigger.matches(direction, header[0], size):
                self.log.triggered += 1
                if self._blackout_seconds > 0:
                    self._blackout_until = time.monotonic() + self._blackout_seconds
                    self.log.cut_connections += 1
                    for end in list(self._connections):
                        end.close()
                    return
                await asyncio.sleep(self._delay_seconds)
            writer.write(header + body)
            try:
                await writer.drain()
            except ConnectionError:
                return

"""Reconfiguring a running local network's nodes for the gateway attack: sealing on or off,
and a node's broker connection through the TCP gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from deploy.localnet import Localnet, Member, Shape
from deploy.localnet.files import write_private
from deploy.localnet.processes import stop


def _say(_: str) -> None:
    """Localnet's progress lines are not this scenario's."""


async def reconfigure(
    localnet: Localnet, members: list[Member], change: Callable[[dict[str, Any]], bool]
) -> None:
    """Apply `change` to each member's config; stop those it changed and bring the network
    up again (which starts them and waits until every node sees every other)."""
    changed = []
    for member in members:
        path = localnet.node_dir(member) / "config.json"
        config = json.loads(path.read_text())
        if change(config):
            changed.append((member, path, config))
    if not changed:
        return
    for member, path, config in changed:
        pid = localnet.processes.pid(member.slug)
        if pid is not None and localnet.processes.alive(member.slug):
            await asyncio.to_thread(stop, pid, 20.0)
        write_private(path, config)
    await asyncio.to_thread(localnet.up, Shape(), _say, 180.0)


async def set_sealing(localnet: Localnet, on: bool) -> None:
    def change(config: dict[str, Any]) -> bool:
        if config["messaging"].get("seal", True) == on:
            return False
        config["messaging"]["seal"] = on
        return True

    await reconfigure(localnet, localnet.members, change)


def broker_port(localnet: Localnet) -> int:
    return json.loads(localnet.state_file.read_text())["ports"]["broker"]


async def route_broker(localnet: Localnet, member: Member, port: int) -> None:
    """Point `member`'s broker connection at 127.0.0.1:`port` (the gateway, or the broker)."""
    url = f"amqps://127.0.0.1:{port}/%2F"

    def change(config: dict[str, Any]) -> bool:
        if config["messaging"]["broker_url"] == url:
            return False
        config["messaging"]["broker_url"] = url
        return True

    await reconfigure(localnet, [member], change)

"""Driving the multi-host network from outside: the `dlt` CLI, flows, vault queries and RPC
clients against each organisation's node or notary replica."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from deploy.multihost.layout import NetworkLayout
from dlt.identity import X500Name
from dlt.rpc.client import RpcClient, RpcError

DLT = str(Path(sys.executable).with_name("dlt"))


class NetworkClients(NetworkLayout):
    """What a test or demo does with the running network."""

    def dlt(
        self, host: str, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """The `dlt` CLI run from the driver against `host`'s organisation home."""
        env = {**os.environ, "DLT_HOME": str(self.org_home(host))}
        result = subprocess.run(
            [DLT, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"dlt {' '.join(args)} on {host} failed ({result.returncode}):\n"
                f"{result.stderr}{result.stdout}"
            )
        return result

    def flow(self, host: str, name: str, *, timeout: float = 180, **arguments: object) -> dict:
        """Start flow `name` on `host`'s node and wait for its result."""
        org = self.organisation(host)
        pairs = [f"{key}={value}" for key, value in arguments.items()]
        result = self.dlt(
            host, "flow", "start", "--node", org.slug, "--json", name, *pairs, timeout=timeout
        )
        return json.loads(result.stdout)

    def states(self, host: str, state_type: str, status: str = "unconsumed") -> list[dict]:
        org = self.organisation(host)
        result = self.dlt(
            host,
            *("vault", "query", "--node", org.slug, "--type", state_type),
            *("--status", status, "--page-size", "1000", "--json"),
        )
        return [entry["state"]["value"]["data"] for entry in json.loads(result.stdout)["states"]]

    def rpc(self, host: str, *, replica: bool = False) -> RpcClient:
        """An RPC client (use `async with`) for `host`'s node, or its notary replica."""
        org = self.organisation(host)
        directory = self.replica_dir(org) if replica else self.node_dir(org)
        rpc = json.loads((directory / "rpc.json").read_text())
        return RpcClient(
            rpc["address"],
            rpc["username"],
            rpc["password"],
            (directory / rpc["ca"]).read_bytes(),
            node_name=X500Name.parse(rpc["name"]),
            timeout=60.0,
        )

    def timed_flow(self, host: str, name: str, **arguments: object) -> tuple[object, float]:
        """Run a flow over RPC from the driver: its result and its wall time in seconds
        (from the start request to the result, without any CLI start-up)."""

        async def run() -> tuple[object, float]:
            async with self.rpc(host) as client:
                began = time.perf_counter()
                result = await client.run_flow(name, arguments)
                return result, time.perf_counter() - began

        return asyncio.run(run())


async def peers_of(directory: Path) -> set[str] | None:
    rpc = json.loads((directory / "rpc.json").read_text())
    ca = (directory / rpc["ca"]).read_bytes()
    try:
        async with RpcClient(
            rpc["address"],
            rpc["username"],
            rpc["password"],
            ca,
            node_name=X500Name.parse(rpc["name"]),
        ) as client:
            peers = (await client.network_map()).peers
    except RpcError:
        return None
    return {str(X500Name.parse(peer.name)) for peer in peers}

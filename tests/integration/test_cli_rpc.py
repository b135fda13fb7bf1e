"""The `dlt` console script, run as a subprocess, against a node's RPC server in this process."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

import fixtures.token_schema  # noqa: F401 - registers TokenState's custom columns
from dlt.identity import X500Name
from dlt.identity.certificates import cert_to_pem
from dlt.identity.hierarchy import DevCertificateAuthority
from dlt.rpc.server import RpcServer, RpcTls
from dlt.rpc.users import RpcUser, RpcUsers, hash_password

DLT = Path(sys.executable).parent / "dlt"
ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Home, L=York, C=GB"
PASSWORD = "operator-secret"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    address: str
    ca_path: Path

    async def run(self, *args: str, env: dict[str, str] | None = None, creds: bool = True):
        """Run `dlt ARGS` without blocking the event loop the node and server run on."""
        connection = (
            ["--address", self.address, "--ca", str(self.ca_path), "--user", "operator"]
            if creds
            else []
        )
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DLT_RPC_", "DLT_HOME"))
        }
        if creds:
            environment["DLT_RPC_PASSWORD"] = PASSWORD
        environment.update(env or {})
        process = await asyncio.create_subprocess_exec(
            str(DLT),
            *args,
            *connection,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            env=environment,
        )
        async with asyncio.timeout(30):
            stdout, stderr = await process.communicate()
        return Result(process.returncode or 0, stdout.decode(), stderr.decode())


@pytest.fixture
async def cli(network, tmp_path):
    if not DLT.exists():
        pytest.fail(f"{DLT} is missing; install the project with `pip install -e .`")
    ca = DevCertificateAuthority.create()
    certs = ca.enrol_node(
        X500Name.parse(ALICE),
        tls_subject_alt_names=[x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))],
    )
    ca_path = tmp_path / "root.pem"
    ca_path.write_bytes(cert_to_pem(ca.root_cert))
    network.create_notary()
    alice = network.create_node(ALICE)
    network.create_node(BOB)
    await network.start()
    users = RpcUsers(
        users=(
            RpcUser(
                username="operator",
                password_hash=hash_password(PASSWORD, n=2**12),
                permissions={"ALL"},
            ),
        )
    )
    server = RpcServer(alice.node, users, "127.0.0.1:0", RpcTls.from_node_certificates(certs))
    await server.start()
    yield Cli(server.address, ca_path)
    await server.stop(grace=0)


async def test_flow_start_shows_progress_and_the_transaction_as_a_table(cli):
    result = await cli.run("flow", "start", "test.IssueTokens", f"owner={BOB}", "amount=7")

    assert result.returncode == 0, result.stderr
    assert "started test.IssueTokens as flow" in result.stderr
    assert "  - Verifying the transaction" in result.stderr
    assert f"  - Sending to {BOB}" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("transaction:")
    assert "notary:" in result.stdout
    header = lines.index("outputs:") + 1
    assert lines[header].split() == ["INDEX", "TYPE", "CONTRACT", "FIELDS"]
    output_row = lines[header + 2].split(maxsplit=3)
    assert output_row[:3] == ["0", "test.TokenState", "test.TokenContract"]
    fields_at = lines[header + 2].index(output_row[3])
    wrapped = lines[header + 2 : lines.index("", header)]
    fields = " ".join(line[fields_at:].strip() for line in wrapped)
    assert f"owner={BOB}" in fields and "amount=7" in fields


async def test_flow_start_json_and_vault_query_json_for_scripts(cli):
    issued = []
    for amount in (3, 12, 30):
        result = await cli.run(
            "flow", "start", "test.IssueTokens", f"owner={ALICE}", f"amount={amount}", "--json"
        )
        assert result.returncode == 0, result.stderr
        issued.append(json.loads(result.stdout))

    query = await cli.run(
        "vault",
        "query",
        "--type",
        "test.TokenState",
        "--where",
        "amount",
        ">=",
        "10",
        "--sort",
        "amount:desc",
        "--json",
    )

    assert issued[0]["result"]["type"] == "SignedTransaction"
    assert issued[0]["result"]["value"]["outputs"][0]["data"]["amount"] == 3
    assert len(issued[0]["flow_id"]) == 32
    assert query.returncode == 0, query.stderr
    page = json.loads(query.stdout)
    assert page["total_states_available"] == 2
    assert [state["state"]["value"]["data"]["amount"] for state in page["states"]] == [30, 12]
    assert page["states"][0]["ref"] == f"{issued[2]['result']['value']['id']}:0"


async def test_a_bad_flow_argument_is_one_line_on_stderr_with_exit_status_1(cli):
    result = await cli.run("flow", "start", "test.IssueTokens", f"owner={BOB}", "amount=-1")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("dlt: error: invalid arguments for test.IssueTokens:")
    assert "amount: Input should be greater than 0 (got -1)" in result.stderr


async def test_credentials_come_from_the_environment_and_a_wrong_one_is_refused(cli):
    env = {"DLT_RPC_USER": "operator", "DLT_RPC_PASSWORD": PASSWORD, "DLT_RPC_CA": str(cli.ca_path)}

    peers = await cli.run("network", "peers", "--address", cli.address, env=env, creds=False)
    wrong = await cli.run(
        "network",
        "peers",
        "--address",
        cli.address,
        env={**env, "DLT_RPC_PASSWORD": "guess"},
        creds=False,
    )

    assert peers.returncode == 0, peers.stderr
    assert ALICE in peers.stdout and BOB in peers.stdout
    assert peers.stdout.splitlines()[0].split() == ["NAME", "KEY", "ADDRESSES", "RPC", "PLATFORM"]
    assert wrong.returncode == 1
    assert wrong.stderr == "dlt: error: wrong username or password\n"


async def test_a_node_is_found_by_name_in_the_local_network_directory(cli, tmp_path):
    home = tmp_path / "localnet"
    node_dir = home / "nodes" / "alice-solar"
    node_dir.mkdir(parents=True)
    (node_dir / "rpc.json").write_text(
        json.dumps(
            {
                "address": cli.address,
                "ca": os.path.relpath(cli.ca_path, node_dir),
                "username": "operator",
                "password": PASSWORD,
            }
        )
    )

    by_slug = await cli.run(
        "network", "notaries", "--node", "alice-solar", creds=False, env={"DLT_HOME": str(home)}
    )
    by_name = await cli.run("network", "info", "--node", ALICE, "--home", str(home), creds=False)
    unknown = await cli.run("network", "info", "--node", "carol", "--home", str(home), creds=False)

    assert by_slug.returncode == 0, by_slug.stderr
    assert "O=Notary Service, L=Zurich, C=CH" in by_slug.stdout
    assert by_name.returncode == 0, by_name.stderr
    assert f"name:        {ALICE}" in by_name.stdout
    assert unknown.returncode == 1
    assert "no node 'carol'" in unknown.stderr and "nodes there: alice-solar" in unknown.stderr


async def test_usage_errors_exit_with_status_2(cli):
    bad_pair = await cli.run("flow", "start", "test.IssueTokens", "amount")
    both = await cli.run("vault", "query", "--node", "x", creds=True)

    assert bad_pair.returncode == 2
    assert "expected KEY=VALUE, got 'amount'" in bad_pair.stderr
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


async def test_a_unique_prefix_of_a_flow_or_transaction_id_stands_for_it(cli):
    started = await cli.run(
        "flow", "start", "test.IssueTokens", f"owner={BOB}", "amount=5", "--json"
    )
    flow_id = json.loads(started.stdout)["flow_id"]
    tx_id = json.loads(started.stdout)["result"]["value"]["id"]

    status = await cli.run("flow", "status", flow_id[:8], "--json")
    shown = await cli.run("tx", "show", tx_id[:8], "--json")
    unknown = await cli.run("tx", "show", "0000")

    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["flow_id"] == flow_id
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == tx_id
    assert unknown.returncode == 1
    assert unknown.stderr == "dlt: error: no transaction starts with 0000\n"

"""The node's gRPC RPC over TLS, driven through RpcClient against a MockNetwork node."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from dataclasses import dataclass

import grpc
import pytest
from cryptography import x509

import fixtures.token_schema  # noqa: F401 - registers TokenState's custom columns
from dlt.flows import FlowLogic, flow
from dlt.identity import X500Name, identity_host_name
from dlt.identity.certificates import cert_to_pem
from dlt.identity.hierarchy import DevCertificateAuthority
from dlt.ledger import SignedTransaction
from dlt.rpc.client import (
    ColumnCondition,
    FlowFailedError,
    FlowStatus,
    RpcAuthError,
    RpcClient,
    RpcInvalidArgument,
    RpcNotFoundError,
    RpcPermissionError,
    RpcUnavailable,
    SortBy,
    StateStatus,
    VaultQuery,
)
from dlt.rpc.generated import node_pb2, node_pb2_grpc
from dlt.rpc.server import RpcServer, RpcServerError, RpcTls
from dlt.rpc.users import RpcUser, RpcUsers, hash_password, verify_password
from fixtures.impostors import LOOPBACK, mint_tls

ALICE = "O=Alice Solar, L=Leeds, C=GB"
BOB = "O=Bob Home, L=York, C=GB"
NOTARY = "O=Notary Service, L=Zurich, C=CH"
ISSUE = "test.IssueTokens"
TOKEN = "test.TokenState"

PASSWORDS = {"admin": "admin-secret", "issuer": "issuer-secret", "reader": "reader-secret"}


@flow("test.rpc.Sleepy", rpc=True)
class SleepyFlow(FlowLogic[int]):
    """Runs until killed (or `seconds` pass): something to list, inspect and kill."""

    seconds: int = 60

    async def call(self) -> int:
        self.step("Dozing off")
        await self.sleep(self.seconds)
        return self.seconds


@dataclass
class Rig:
    server: RpcServer
    ca_pem: bytes
    alice: object
    bob: object
    clients: list[RpcClient]

    def client(self, username: str = "admin", password: str | None = None, **kwargs):
        client = RpcClient(
            self.server.address,
            username,
            PASSWORDS.get(username, "") if password is None else password,
            self.ca_pem,
            **kwargs,
        )
        self.clients.append(client)
        return client


@pytest.fixture(scope="session")
def pki():
    ca = DevCertificateAuthority.create()
    certs = ca.enrol_node(X500Name.parse(ALICE))  # SANs: Alice's identity host name, 127.0.0.1
    return ca, certs


@pytest.fixture(scope="session")
def users():
    return RpcUsers(
        users=(
            RpcUser(
                username="admin",
                password_hash=hash_password(PASSWORDS["admin"]),
                permissions={"ALL"},
            ),
            RpcUser(
                username="issuer",
                password_hash=hash_password(PASSWORDS["issuer"]),
                permissions={f"StartFlow.{ISSUE}"},
            ),
            RpcUser(
                username="reader",
                password_hash=hash_password(PASSWORDS["reader"]),
                permissions={"InvokeRpc.VaultQuery", "InvokeRpc.NetworkMap"},
            ),
        )
    )


@pytest.fixture
async def rig(network, pki, users):
    ca, certs = pki
    network.create_notary(NOTARY)
    alice = network.create_node(ALICE)
    bob = network.create_node(BOB)
    await network.start()
    server = RpcServer(
        alice.node,
        users,
        "127.0.0.1:0",
        RpcTls.from_node_certificates(certs),
        chunk_size=16 * 1024,
    )
    await server.start()
    setup = Rig(server, cert_to_pem(ca.root_cert), alice, bob, [])
    yield setup
    for client in setup.clients:
        await client.close()
    await server.stop(grace=0)


async def issue(client, owner, amount):
    return await client.run_flow(ISSUE, {"owner": owner, "amount": amount})


# -- flows ------------------------------------------------------------------------------------


async def test_start_flow_streams_progress_then_returns_the_transaction(rig):
    client = rig.client()

    run = await client.start_flow(ISSUE, {"owner": BOB, "amount": 25})
    steps = [step async for step in run.progress()]
    result = await run.result()

    assert run.flow_name == ISSUE and len(run.flow_id) == 32
    assert steps[0] == "Verifying the transaction"
    assert f"Sending to {BOB}" in steps
    assert result.type_name == "SignedTransaction"
    stx = result.decode()
    assert isinstance(stx, SignedTransaction)
    assert result.data["id"] == str(stx.id)
    output = result.data["outputs"][0]
    assert output["type"] == TOKEN
    assert output["data"]["amount"] == 25
    assert output["data"]["owner"]["name"] == BOB


async def test_bad_flow_arguments_are_refused_naming_the_field(rig):
    client = rig.client()

    with pytest.raises(RpcInvalidArgument) as negative:
        await client.start_flow(ISSUE, {"owner": BOB, "amount": -5})
    with pytest.raises(RpcInvalidArgument) as missing:
        await client.start_flow(ISSUE, {"amount": 5, "colour": "red"})

    assert "invalid arguments for test.IssueTokens" in str(negative.value)
    assert "amount: Input should be greater than 0 (got -5)" in str(negative.value)
    assert "owner: Field required" in str(missing.value)
    assert "colour: Extra inputs are not permitted" in str(missing.value)
    assert "it takes: owner, amount" in str(missing.value)
    assert (await client.list_flows()) == []


async def test_an_unknown_flow_is_reported_with_the_flows_that_can_be_started(rig):
    with pytest.raises(RpcNotFoundError) as refused:
        await rig.client().start_flow("test.Teleport", {})

    assert "no flow is registered as 'test.Teleport'" in str(refused.value)
    assert ISSUE in str(refused.value)
    assert refused.value.code == "NOT_FOUND"


async def test_a_flow_not_registered_for_rpc_cannot_be_started_by_anyone(rig):
    with pytest.raises(RpcPermissionError) as refused:
        await rig.client().start_flow("test.DoubleSpend", {})

    assert "cannot be started by RPC" in str(refused.value)


async def test_permissions_are_per_flow_and_per_method(rig):
    reader, issuer = rig.client("reader"), rig.client("issuer")

    with pytest.raises(RpcPermissionError) as no_flow:
        await reader.start_flow(ISSUE, {"owner": ALICE, "amount": 1})
    result = await issuer.run_flow(ISSUE, {"owner": ALICE, "amount": 1})
    with pytest.raises(RpcPermissionError) as no_query:
        await issuer.vault_query()
    with pytest.raises(RpcPermissionError) as no_other_flow:
        await issuer.start_flow("test.rpc.Sleepy", {})

    assert "needs permission StartFlow.test.IssueTokens" in str(no_flow.value)
    assert result.type_name == "SignedTransaction"
    assert "needs permission InvokeRpc.VaultQuery" in str(no_query.value)
    assert "StartFlow.test.rpc.Sleepy" in str(no_other_flow.value)
    assert (await reader.vault_query()).total_states_available == 1


async def test_wrong_or_missing_credentials_are_refused(rig):
    with pytest.raises(RpcAuthError, match="wrong username or password"):
        await rig.client("admin", "not-the-password").network_map()
    with pytest.raises(RpcAuthError, match="wrong username or password"):
        await rig.client("mallory", "admin-secret").network_map()

    credentials = grpc.ssl_channel_credentials(root_certificates=rig.ca_pem)
    async with grpc.aio.secure_channel(rig.server.address, credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await node_pb2_grpc.NodeRpcStub(channel).NetworkMap(node_pb2.NetworkMapRequest())
    assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Basic" in anonymous.value.details()


async def test_tls_is_required_and_the_server_certificate_checked(rig):
    stranger = DevCertificateAuthority.create()

    wrong_ca = RpcClient(
        rig.server.address, "admin", PASSWORDS["admin"], cert_to_pem(stranger.root_cert), timeout=5
    )
    rig.clients.append(wrong_ca)
    with pytest.raises(RpcUnavailable, match="cannot reach the node's RPC"):
        await wrong_ca.network_map()

    plain = grpc.aio.insecure_channel(rig.server.address)
    with pytest.raises(grpc.aio.AioRpcError) as cleartext:
        await node_pb2_grpc.NodeRpcStub(plain).NetworkMap(node_pb2.NetworkMapRequest(), timeout=5)
    await plain.close()
    assert cleartext.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_a_client_expecting_the_node_by_name_reaches_it(rig):
    client = rig.client(node_name=X500Name.parse(ALICE))
    assert ALICE in {peer.name for peer in (await client.network_map()).peers}


async def test_a_client_expecting_another_node_refuses_this_one(rig):
    """Any node's certificate names 127.0.0.1; only Bob's can carry Bob's identity host name."""
    client = rig.client(node_name=X500Name.parse(BOB), timeout=5)
    with pytest.raises(RpcUnavailable, match=r"expecting O=Bob Home.*it is not that node"):
        await client.network_map()


@pytest.mark.parametrize("minted_for", [BOB, ALICE], ids=["bob-refused", "alice-control"])
async def test_a_certificate_alices_ca_mints_for_bob_is_refused_by_a_client_expecting_bob(
    rig, pki, users, minted_for
):
    """Alice serves RPC with a certificate her own node CA minted for Bob's name and identity
    host name; the control, minted the same way for Alice herself, is accepted."""
    _, alice = pki
    name = X500Name.parse(minted_for)
    cert, key = mint_tls(
        alice.node_ca_cert,
        alice.node_ca_key,
        name.to_x509(),
        [x509.DNSName(identity_host_name(name)), LOOPBACK],
    )
    chain = b"".join(cert_to_pem(c) for c in (cert, *alice.node_ca_chain))
    server = RpcServer(rig.alice.node, users, "127.0.0.1:0", RpcTls(chain, key.to_pem()))
    await server.start()
    client = RpcClient(
        server.address, "admin", PASSWORDS["admin"], rig.ca_pem, node_name=name, timeout=5
    )
    rig.clients.append(client)
    try:
        if minted_for == ALICE:
            assert (await client.network_map()).peers
        else:
            with pytest.raises(RpcUnavailable, match="cannot reach the node's RPC"):
                await client.network_map()
    finally:
        await server.stop(grace=0)


async def test_a_second_server_on_a_taken_port_fails_instead_of_sharing_it(rig, pki, users):
    _, certs = pki
    second = RpcServer(
        rig.alice.node, users, rig.server.address, RpcTls.from_node_certificates(certs)
    )

    with pytest.raises(RpcServerError, match=f"cannot listen on {rig.server.address}"):
        await second.start()


async def test_flows_can_be_listed_inspected_and_killed(rig):
    client = rig.client()
    issued = await issue(client, ALICE, 3)

    run = await client.start_flow("test.rpc.Sleepy", {"seconds": 60})
    async for step in run.progress():
        assert step == "Dozing off"
        break
    running = await client.list_flows([FlowStatus.RUNNABLE])
    killed = await client.kill_flow(run.flow_id)
    with pytest.raises(FlowFailedError) as outcome:
        await run.result()
    completed = await client.list_flows([FlowStatus.COMPLETED])
    status = await client.flow_status(completed[0].flow_id)

    assert [info.flow_id for info in running] == [run.flow_id]
    assert running[0].arguments == {"seconds": 60}
    assert killed.status is FlowStatus.KILLED
    assert killed.error_type == "FlowKilledError"
    assert outcome.value.error_type == "FlowKilledError"
    assert outcome.value.status is FlowStatus.KILLED
    assert [info.flow_name for info in completed] == [ISSUE]
    assert status.result is not None
    assert status.result.data["id"] == issued.data["id"]
    assert status.result.decode().id == issued.decode().id
    with pytest.raises(RpcNotFoundError, match="no flow nope"):
        await client.flow_status("nope")


# -- vault and transactions -------------------------------------------------------------------


async def test_a_running_flow_can_be_followed_without_changing_it(rig):
    client = rig.client()
    run = await client.start_flow("test.rpc.Sleepy", {"seconds": 60})
    run.detach()
    while (await client.flow_status(run.flow_id)).status is not FlowStatus.RUNNABLE:
        await asyncio.sleep(0.01)

    steps = client.track_flow(run.flow_id)
    first = await asyncio.wait_for(anext(steps), timeout=10)
    await steps.aclose()

    assert first == "Dozing off"
    assert (await client.flow_status(run.flow_id)).status is FlowStatus.RUNNABLE
    await client.kill_flow(run.flow_id)
    assert [step async for step in client.track_flow(run.flow_id)] == []
    with pytest.raises(RpcPermissionError, match=r"InvokeRpc\.TrackFlow"):
        await anext(rig.client("reader").track_flow(run.flow_id))


async def test_vault_query_filters_pages_and_sorts(rig):
    client = rig.client()
    for amount in (5, 40, 10, 20):
        await issue(client, ALICE, amount)
    await issue(client, BOB, 99)

    def query(**changes):
        base = {
            "state_types": [TOKEN],
            "conditions": [ColumnCondition("amount", ">=", "10")],
            "sort": [SortBy("amount", descending=True)],
            "page_size": 2,
        }
        return client.vault_query(VaultQuery(**{**base, **changes}))

    first, second = await query(), await query(page_number=2)
    everything = await client.vault_query(
        VaultQuery(sort=[SortBy("recorded_at")], participants=[ALICE])
    )
    between = await query(conditions=[ColumnCondition("amount", "between", "6,25")], sort=[])
    consumed = await client.vault_query(VaultQuery(status=StateStatus.CONSUMED))

    assert [s.data["amount"] for s in first.states] == [40, 20]
    assert first.total_states_available == 3 and first.has_next
    assert [s.data["amount"] for s in second.states] == [10]
    assert not second.has_next
    assert [s.data["amount"] for s in everything.states] == [5, 40, 10, 20]
    assert {s.state_type for s in everything.states} == {TOKEN}
    assert sorted(s.data["amount"] for s in between.states) == [10, 20]
    assert consumed.states == ()
    state = first.states[0]
    assert state.status is StateStatus.UNCONSUMED
    assert state.notary == NOTARY
    assert state.state.decode().state.data.amount == 40
    assert state.ref == str(state.state.decode().ref)


async def test_vault_query_refuses_unknown_names_and_bad_values(rig):
    client = rig.client()

    cases = {
        "unknown type": VaultQuery(state_types=["test.Nothing"]),
        "unknown column": VaultQuery(
            state_types=[TOKEN], conditions=[ColumnCondition("colour", "==", "red")]
        ),
        "bad value": VaultQuery(
            state_types=[TOKEN], conditions=[ColumnCondition("amount", ">", "lots")]
        ),
        "bad operator": VaultQuery(
            state_types=[TOKEN], conditions=[ColumnCondition("amount", "~", "1")]
        ),
        "unknown party": VaultQuery(participants=["O=Nobody, L=Nowhere, C=GB"]),
        "no state type": VaultQuery(conditions=[ColumnCondition("amount", ">", "1")]),
    }
    messages = {}
    for name, query in cases.items():
        with pytest.raises(RpcInvalidArgument) as refused:
            await client.vault_query(query)
        messages[name] = str(refused.value)

    assert "unknown type 'test.Nothing'" in messages["unknown type"]
    assert "no custom column 'colour'" in messages["unknown column"]
    assert "'lots' is not one" in messages["bad value"]
    assert "'~' is not one of" in messages["bad operator"]
    assert "is not known to" in messages["unknown party"]
    assert "query exactly one state type" in messages["no state type"]


async def test_transactions_can_be_fetched_by_id_and_listed(rig):
    client = rig.client()
    first = await issue(client, ALICE, 1)
    second = await issue(client, BOB, 2)

    fetched = await client.get_transaction(first.data["id"])
    listed = await client.list_transactions(page_size=1)
    rest = await client.list_transactions(page_number=2, page_size=1)

    assert fetched.id == first.data["id"]
    assert fetched.transaction.encoded == first.encoded
    assert fetched.transaction.decode().id == first.decode().id
    assert fetched.transaction.data["signatures"][0]["party"] == ALICE
    assert listed.total == 2
    assert [tx.id for tx in (*listed.transactions, *rest.transactions)] == [
        first.data["id"],
        second.data["id"],
    ]
    with pytest.raises(RpcNotFoundError, match="has no transaction"):
        await client.get_transaction("ab" * 32)
    with pytest.raises(RpcInvalidArgument, match="bad transaction id"):
        await client.get_transaction("not-a-hash")


# -- attachments and the network --------------------------------------------------------------


async def test_attachments_round_trip_byte_for_byte_in_chunks(rig, tmp_path):
    client = rig.client()
    content = os.urandom(200 * 1024 + 123)
    path = tmp_path / "market-rules.bin"
    path.write_bytes(content)

    uploaded = await client.upload_attachment(path, chunk_size=10 * 1024)
    chunks = [chunk async for chunk in client.attachment_chunks(uploaded.id)]
    again = await client.upload_attachment(content, filename="copy.bin")

    assert uploaded.id == hashlib.sha256(content).hexdigest()
    assert uploaded.size == len(content)
    assert uploaded.filename == "market-rules.bin"
    assert uploaded.uploader == "admin"
    assert len(chunks) == 13
    assert b"".join(chunks) == content
    assert await client.download_attachment(uploaded.id) == content
    assert again.id == uploaded.id
    with pytest.raises(RpcNotFoundError, match="has no attachment"):
        await client.download_attachment("cd" * 32)
    with pytest.raises(RpcInvalidArgument, match="empty"):
        await client.upload_attachment(b"")


async def test_network_map_and_node_info(rig):
    client = rig.client("reader")

    network_map = await client.network_map()
    with pytest.raises(RpcPermissionError, match=r"InvokeRpc\.NodeInfo"):
        await client.node_info()
    me = await rig.client().node_info()

    assert [peer.name for peer in network_map.peers] == sorted([ALICE, BOB, NOTARY])
    assert [(n.name, n.validating) for n in network_map.notaries] == [(NOTARY, False)]
    assert len(network_map.parameters_hash) == 64
    assert me.name == ALICE
    assert me.fingerprint == str(rig.alice.party.owning_key.fingerprint)


async def test_a_caller_going_away_leaves_the_flow_running(rig):
    client = rig.client()

    run = await client.start_flow(ISSUE, {"owner": BOB, "amount": 4})
    run.detach()
    for _ in range(200):
        status = await client.flow_status(run.flow_id)
        if status.status is FlowStatus.COMPLETED:
            break
        await asyncio.sleep(0.01)

    assert status.status is FlowStatus.COMPLETED
    assert status.result.data["outputs"][0]["data"]["amount"] == 4


# -- users ------------------------------------------------------------------------------------


def test_password_hashes_are_salted_and_verified():
    first, second = hash_password("pw", n=2**10), hash_password("pw", n=2**10)

    assert first != second
    assert first.startswith("scrypt$1024$8$1$")
    assert verify_password("pw", first) and not verify_password("pW", first)


@pytest.mark.parametrize(
    ("permission", "message"),
    [
        ("InvokeRpc.vaultQuery", "did you mean InvokeRpc.VaultQuery?"),
        ("InvokeRpc.StartFlow", "use StartFlow.<flow name>"),
        ("Everything", "use ALL, StartFlow.<flow name> or InvokeRpc.<method>"),
    ],
)
def test_malformed_permissions_are_refused_when_users_are_configured(permission, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RpcUser(
            username="ops",
            password_hash=hash_password("pw", n=2**10),
            permissions={permission},
        )


def test_usernames_must_be_unique():
    user = RpcUser(username="ops", password_hash=hash_password("pw", n=2**10))

    with pytest.raises(ValueError, match="repeated: ops"):
        RpcUsers(users=(user, user))

"""A dishonest node cannot pass as another at the real broker (see conftest.py).

Alice holds her own node CA key, legitimately issued by the doorman, and mints TLS client
certificates with plain `cryptography` (none of our issuing checks) to log in as Bob: with Bob's
exact TLS subject, or with Bob's old-style broker common name. The broker (Erlang/OTP path
validation) must refuse both, so she can neither read Bob's inbox nor publish as Bob, while her
honest certificate keeps working and Bob still gets her messages attributed to her.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess

import aio_pika
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import X500Name, cert_to_pem
from dlt.messaging import OutboundMessage
from dlt.messaging.broker_identity import broker_user_name
from dlt.messaging.tls import TlsMaterial
from fixtures.impostors import mint_node_ca, mint_tls

pytestmark = pytest.mark.broker


def _material(
    cert: x509.Certificate,
    key: EcdsaP256PrivateKey,
    chain_above: tuple[x509.Certificate, ...],
    ca_pem: bytes,
) -> TlsMaterial:
    chain = b"".join(cert_to_pem(c) for c in (cert, *chain_above))
    return TlsMaterial(ca_pem, chain, key.to_pem())


def _minted_by_alice(net, subject: x509.Name) -> TlsMaterial:
    alice = net.alice.certificates
    cert, key = mint_tls(alice.node_ca_cert, alice.node_ca_key, subject)
    return _material(cert, key, (alice.node_ca_cert, alice.doorman_cert), net.alice.tls.ca_pem)


def _old_style_subject(own: X500Name, victim: X500Name) -> x509.Name:
    """The broker identity before name constraints: CN = node- and 32 hex digits of SHA-256 of
    the victim's name, in front of the minting node's own name."""
    common_name = "node-" + hashlib.sha256(str(victim).encode()).hexdigest()[:32]
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), *own.to_x509()])


async def _refused(net, tls: TlsMaterial) -> BaseException | None:
    """Try, as `tls`, to drain Bob's inbox and to publish into it as Bob; the failure to log in,
    or None when the broker let the certificate in."""
    try:
        connection = await aio_pika.connect(
            net.broker.url(), ssl_context=tls.ssl_context(), timeout=10
        )
    except Exception as exc:  # the refusal under test: TLS alert or closed connection
        return exc
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(net.bob.queue, ensure=False)
        while (message := await queue.get(fail=False, timeout=5)) is not None:
            await message.ack()
        await channel.default_exchange.publish(
            aio_pika.Message(b"as bob", message_id="forged", user_id=net.bob.user_id),
            routing_key=net.bob.queue,
        )
    finally:
        await connection.close()
    return None


async def _alice_sends_bob_a_message(net, make_inbox) -> None:
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    await alice.send(OutboundMessage(net.bob.name, "before-attack", b"from alice"))
    await _await_depth(net, net.bob.queue, 1)


def _certificate_refusals(net) -> int:
    """How many client certificates the broker has refused with a bad_certificate alert (the
    alert Erlang/OTP sends for {bad_cert, name_not_permitted}, among others)."""
    try:
        return net.broker.log_file.read_text(errors="replace").count("Fatal - Bad Certificate")
    except OSError:
        return 0


async def _await_certificate_refusal(net, before: int) -> None:
    async with asyncio.timeout(10):
        while _certificate_refusals(net) <= before:
            await asyncio.sleep(0.1)


_OTP_PATH_VALIDATION = r"""
main([Root, Chain]) ->
    {ok, RootPem} = file:read_file(Root),
    [{'Certificate', RootDer, _}] = public_key:pem_decode(RootPem),
    {ok, ChainPem} = file:read_file(Chain),
    Path = lists:reverse([Der || {'Certificate', Der, _} <- public_key:pem_decode(ChainPem)]),
    case public_key:pkix_path_validation(RootDer, Path, []) of
        {ok, _} -> io:format("ok~n");
        {error, {bad_cert, Reason}} -> io:format("~p~n", [Reason])
    end.
"""


def _otp_verdict(tmp_path, root: x509.Certificate, tls: TlsMaterial) -> str:
    """What Erlang/OTP's own path validation (the broker's) says of a client chain."""
    script, root_file, chain_file = (tmp_path / n for n in ("check.escript", "root", "chain"))
    script.write_text(_OTP_PATH_VALIDATION)
    root_file.write_bytes(cert_to_pem(root))
    chain_file.write_bytes(tls.cert_chain_pem)
    escript = shutil.which("escript")
    if escript is None:
        pytest.skip("escript (Erlang) is not installed")
    result = subprocess.run(
        [escript, str(script), str(root_file), str(chain_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


async def _await_depth(net, queue: str, depth: int) -> None:
    async with asyncio.timeout(10):
        while (await asyncio.to_thread(net.broker.queue_depths)).get(queue) != depth:
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("variant", ["bobs-subject", "bobs-old-common-name"])
async def test_a_certificate_alices_ca_mints_for_bob_cannot_log_in_read_or_publish_as_bob(
    net, make_inbox, variant: str
) -> None:
    if variant == "bobs-subject":
        subject = net.bob.certificates.tls_cert.subject
    else:
        subject = _old_style_subject(net.alice.name, net.bob.name)
    await _alice_sends_bob_a_message(net, make_inbox)
    before = _certificate_refusals(net)

    refusal = await _refused(net, _minted_by_alice(net, subject))

    assert refusal is not None, "the broker let Alice's minted certificate log in"
    await _await_certificate_refusal(net, before)  # in the TLS handshake, before any login
    assert (await asyncio.to_thread(net.broker.queue_depths))[net.bob.queue] == 1
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    [message] = await inbox.take(1)
    assert (message.message_id, message.sender, message.payload) == (
        "before-attack",
        net.alice.name,
        b"from alice",
    )
    assert await inbox.nothing_more()


def test_erlang_path_validation_refuses_the_minted_chain_for_its_name_constraint(
    net, tmp_path
) -> None:
    """The broker's refusal, from the library it runs on: public_key:pkix_path_validation."""
    root = net.ca.root_cert
    minted = _minted_by_alice(net, net.bob.certificates.tls_cert.subject)
    old_style = _minted_by_alice(net, _old_style_subject(net.alice.name, net.bob.name))
    assert _otp_verdict(tmp_path, root, minted) == "name_not_permitted"
    assert _otp_verdict(tmp_path, root, old_style) == "name_not_permitted"
    assert _otp_verdict(tmp_path, root, net.alice.tls) == "ok"


async def test_alices_honest_certificate_still_logs_in_as_alice(net, make_inbox) -> None:
    inbox = make_inbox(auto_ack=True)
    await net.transport(net.bob).start(inbox)
    alice = net.transport(net.alice)
    await alice.start(make_inbox())
    await alice.send(OutboundMessage(net.bob.name, "honest", b"hello bob"))
    [message] = await inbox.take(1)
    assert message.sender == net.alice.name
    assert alice.user_id == broker_user_name(net.alice.name)


async def test_without_name_constraints_the_same_certificate_gets_in(net) -> None:
    """The control experiment: a node CA issued the old way (no name constraints) minting Bob's
    subject is let in as Bob. So the refusal above is Erlang/OTP enforcing the constraint, and a
    node CA without one must never be issued (the doorman never does)."""
    ca = net.ca
    unconstrained, key = mint_node_ca(ca.doorman_cert, ca.doorman_key, net.alice.name.to_x509())
    cert, tls_key = mint_tls(unconstrained, key, net.bob.certificates.tls_cert.subject)
    tls = _material(cert, tls_key, (unconstrained, ca.doorman_cert), net.alice.tls.ca_pem)
    assert tls.user_name == net.bob.user_id
    assert await _refused(net, tls) is None
    await _await_depth(net, net.bob.queue, 1)  # it published into Bob's inbox as Bob


@pytest.mark.parametrize(
    "name",
    [
        X500Name("Énergie Coopérative", "Zürich", "CH"),
        X500Name("O'Brien & Sons ~ Wind", "St. Ives", "GB", organisation_unit="Grid/East"),
        X500Name("Bob Wind", "York", "GB", common_name="Unit 7", state="North Yorkshire"),
    ],
    ids=["non-ascii", "punctuation", "all-attributes"],
)
async def test_the_broker_renders_a_subject_exactly_as_broker_user_name(net, name) -> None:
    node = net.ca.enrol_node(name)
    tls = TlsMaterial.for_node(node)
    user = broker_user_name(name)
    assert tls.user_name == user
    queue = f"p2p.inbound.rendering-{hashlib.sha256(user.encode()).hexdigest()[:12]}"
    await asyncio.to_thread(net.broker.add_node_user, user, queue)
    try:
        connection = await aio_pika.connect(
            net.broker.url(), ssl_context=tls.ssl_context(), timeout=10
        )
        try:
            channel = await connection.channel(publisher_confirms=True)
            await channel.default_exchange.publish(
                aio_pika.Message(b"me", message_id="self", user_id=user), routing_key=queue
            )
            message = await (await channel.get_queue(queue, ensure=False)).get(timeout=5)
            assert message.user_id == user
            await message.ack()
        finally:
            await connection.close()
    finally:
        await asyncio.to_thread(net.broker.delete_node_user, user)

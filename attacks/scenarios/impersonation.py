"""Impersonation: certificates a node mints for another name, a node the network never
admitted, an expired certificate, a revoked one, an RPC user without the permission it needs,
and repeated bad passwords. Every attempt is made against the running network's own broker,
network map and RPC.

The revoked certificate belongs to a member the attacker admitted and the operator then
revoked (see attacks.revoked): with its unexpired certificate it tries to log in to the broker,
to publish into the honest payee's inbox on a connection it opened before the revocation, and to
publish a NodeInfo.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aio_pika

from attacks.impostors import mint_tls
from attacks.network import ATTACKER, BANK, CURRENCY, HONEST_PAYEE
from attacks.observe import ledger
from attacks.revoked import (
    RevokedMember,
    admit_then_revoke,
    logs_in,
    publishes_node_info,
    publishes_on_held_connection,
)
from attacks.scenario import AttackContext, Latency, Row
from dlt.identity import DevCertificateAuthority, cert_to_pem
from dlt.messaging.tls import TlsMaterial
from dlt.node.certificate_store import load_node_certificates
from dlt.rpc.client import RpcAuthError, RpcClient, RpcPermissionError

AUDITOR = "auditor"
AUDITOR_PERMISSIONS = ["InvokeRpc.NodeInfo"]
"""The limited user the scenario gives the bank: it may read the node's identity, no more."""


class ImpersonationScenario:
    name = "impersonation"
    summary = (
        "minted, foreign and revoked certificates at the broker, RPC without permission or password"
    )
    default_count = 30
    full_count = 500

    async def run(self, context: AttackContext) -> list[Row]:
        password = secrets.token_urlsafe(12)
        kinds: list[tuple[str, Callable[[AttackContext], Awaitable[str | None]], str]] = [
            ("cert-for-another-name", _minted_for_victim, "broker refused the TLS handshake"),
            ("not-admitted (foreign CA)", _foreign_ca, "broker refused the TLS handshake"),
            ("expired-cert", _expired, "broker refused the TLS handshake"),
            (
                "revoked-cert",
                _Revoked(),
                "refused: held connection, broker login, NodeInfo publication",
            ),
            ("rpc-without-permission", _unpermitted(password), "refused: permission denied"),
            ("bad-passwords", _bad_password, "refused: unauthenticated"),
        ]
        per_kind = max(1, -(-context.count(self) // len(kinds)))
        await _add_auditor(context, password)
        control = await _control(context)
        rows = []
        async with context.rpc(BANK) as bank:
            for label, attempt, expected in kinds:
                before = await ledger(bank)
                accepted: list[str] = []
                with context.progress.counting(f"impersonation, {label}", total=per_kind) as c:
                    async with context.honest_load() as measured:
                        for _ in range(per_kind):
                            got_in = await attempt(context)
                            if got_in is not None:
                                accepted.append(got_in)
                            c.advance(note=f"{len(accepted)} let in")
                after = await ledger(bank)
                if after != before:
                    accepted.append(f"the bank's ledger changed: {before} -> {after}")
                honest: Latency = measured()
                notes = f"every attempt {expected}" if not accepted else "LET IN"
                if isinstance(attempt, _Revoked):
                    notes += f"; control: {attempt.control}"
                elif label.endswith("-cert") or "name" in label or "CA" in label:
                    notes += f"; control: {control}"
                rows.append(
                    Row(
                        scenario=self.name,
                        mode=label,
                        attempts=per_kind,
                        accepted=len(accepted),
                        honest=honest,
                        baseline=context.baseline,
                        notes=notes,
                        accepted_what=tuple(accepted[:5]),
                    )
                )
        return rows


def _broker_url(context: AttackContext) -> str:
    raw = json.loads(context.localnet.state_file.read_text())
    return f"amqps://127.0.0.1:{raw['ports']['broker']}/%2F?auth=external"


def _truststore(context: AttackContext) -> bytes:
    return (context.home / "truststore.pem").read_bytes()


async def _connects(context: AttackContext, tls: TlsMaterial) -> bool:
    """Whether the broker lets `tls` log in at all."""
    try:
        connection = await aio_pika.connect(
            _broker_url(context), ssl_context=tls.ssl_context(), timeout=10
        )
    except Exception:  # the refusal under test: a TLS alert, a reset or a closed connection
        return False
    await connection.close()
    return True


def _attacker_minting(
    context: AttackContext, subject_name: str, **validity: timedelta
) -> TlsMaterial:
    """A TLS certificate the attacker's node CA mints for `subject_name`."""
    attacker = context.network.member(ATTACKER)
    certs = load_node_certificates(context.localnet.node_dir(attacker))
    subject = context.network.member(subject_name).x500.to_x509()
    cert, key = mint_tls(certs.node_ca_cert, certs.node_ca_key, subject, **validity)
    chain = b"".join(cert_to_pem(c) for c in (cert, certs.node_ca_cert, certs.doorman_cert))
    return TlsMaterial(_truststore(context), chain, key.to_pem())


async def _control(context: AttackContext) -> str:
    """The same minting for the attacker's own name and now: the broker must let it in, or the
    refusals above would prove nothing."""
    own = _attacker_minting(context, ATTACKER)
    return (
        "the attacker's CA minting its own name is let in"
        if await _connects(context, own)
        else "even the attacker's own valid minting was refused (the refusals prove little)"
    )


async def _minted_for_victim(context: AttackContext) -> str | None:
    tls = _attacker_minting(context, HONEST_PAYEE)
    if await _connects(context, tls):
        return f"a certificate the attacker minted for {HONEST_PAYEE} logged in to the broker"
    return None


async def _foreign_ca(context: AttackContext) -> str | None:
    """A whole certificate hierarchy of the attacker's own, with the network's root names,
    admitting the victim's name: nothing of it chains to the network's root key."""
    victim = context.network.member(HONEST_PAYEE).x500
    certs = DevCertificateAuthority.create().enrol_node(victim)
    chain = b"".join(cert_to_pem(c) for c in certs.tls_chain[:-1])
    tls = TlsMaterial(_truststore(context), chain, certs.tls_key.to_pem())
    if await _connects(context, tls):
        return f"a foreign CA's certificate for {victim} logged in to the broker"
    return None


async def _expired(context: AttackContext) -> str | None:
    tls = _attacker_minting(
        context, ATTACKER, valid_from=timedelta(days=-2), valid_until=timedelta(days=-1)
    )
    if await _connects(context, tls):
        return "an expired certificate logged in to the broker"
    return None


class _Revoked:
    """The revoked-cert attempts: the member is admitted and revoked at the first one."""

    def __init__(self) -> None:
        self._member: RevokedMember | None = None
        self.control = "not run"

    async def __call__(self, context: AttackContext) -> str | None:
        if self._member is None:
            self._member = await admit_then_revoke(context)
            self.control = (
                f"{self._member.name} logged in and published its NodeInfo before revocation"
            )
            if await publishes_on_held_connection(context, self._member):
                return "a connection opened before the revocation still published to the payee"
        member = self._member
        if await logs_in(context, member):
            return f"the revoked {member.name} logged in to the broker"
        if await publishes_node_info(member):
            return f"the revoked {member.name} published a NodeInfo"
        return None


async def _add_auditor(context: AttackContext, password: str) -> None:
    say = context.progress.step
    await asyncio.to_thread(
        context.localnet.set_rpc_user, BANK, AUDITOR, password, AUDITOR_PERMISSIONS, say
    )
    await asyncio.to_thread(context.localnet.up, context.shape, lambda _: None)


def _bank_client(context: AttackContext, username: str, password: str) -> RpcClient:
    member = context.network.member(BANK)
    directory = context.localnet.node_dir(member)
    raw = json.loads((directory / "rpc.json").read_text())
    ca = (directory / raw["ca"]).read_bytes()
    return RpcClient(raw["address"], username, password, ca, node_name=member.x500)


def _unpermitted(password: str) -> Callable[[AttackContext], Awaitable[str | None]]:
    async def attempt(context: AttackContext) -> str | None:
        async with _bank_client(context, AUDITOR, password) as auditor:
            await auditor.node_info()  # permitted: the user is real and logged in
            try:
                await auditor.start_flow(
                    "energy.IssuePayment",
                    {"owner": ATTACKER, "amount": 1_000_000, "currency": CURRENCY},
                )
            except RpcPermissionError:
                pass
            else:
                return f"{AUDITOR} (only {AUDITOR_PERMISSIONS}) started energy.IssuePayment"
            try:
                await auditor.vault_query()
            except RpcPermissionError:
                return None
            return f"{AUDITOR} (only {AUDITOR_PERMISSIONS}) read the bank's vault"

    return attempt


async def _bad_password(context: AttackContext) -> str | None:
    guess = secrets.token_urlsafe(9)
    username = context.rng.choice(["operator", AUDITOR, "admin"])
    async with _bank_client(context, username, guess) as guesser:
        try:
            await guesser.node_info()
        except RpcAuthError:
            return None
    return f"{username} logged in with the guessed password {guess!r}"


SCENARIO = ImpersonationScenario()

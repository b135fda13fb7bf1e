"""Joining a network: a node without certificates asks the doorman for a node CA certificate,
then issues its own TLS and legal identity certificates under it.

The pending node CA key and the doorman's ticket are kept on disk, so a node restarted while
its request waits for an operator resumes polling rather than asking again.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

from dlt.crypto import EcdsaP256PrivateKey, load_private_key
from dlt.identity import X500Name, certs_from_pem, create_csr, csr_to_pem
from dlt.identity.hierarchy import NodeCertificates, issue_node_identities
from dlt.node.certificate_store import (
    certificates_dir,
    has_certificates,
    load_node_certificates,
    save_node_certificates,
    write_private_key,
)
from dlt.node.network_map_client import NetworkMapClient, RegistrationTicket

PENDING = "pending-registration"


class EnrolmentPendingError(Exception):
    """The doorman has not approved the node's request in time; an operator must approve it."""


async def enrol(
    directory: Path,
    name: X500Name,
    client: NetworkMapClient,
    *,
    timeout: float = 300.0,
    poll_interval: float = 0.5,
    say: Callable[[str], None] = lambda _: None,
) -> NodeCertificates:
    """The node's certificates: from disk, or from the doorman on first start."""
    if has_certificates(directory):
        return load_node_certificates(directory)
    pending = certificates_dir(directory) / PENDING
    resumed = _resume(pending, name)
    if resumed is not None:
        node_ca_key, ticket = resumed
        say(f"still waiting for the doorman (ticket {ticket.id})")
    else:
        node_ca_key, ticket = await asyncio.to_thread(request_registration, directory, name, client)
        say(f"asked the doorman for a certificate (ticket {ticket.id})")
    deadline = time.monotonic() + timeout
    while (chain_pem := await asyncio.to_thread(client.poll_registration, ticket)) is None:
        if time.monotonic() > deadline:
            raise EnrolmentPendingError(
                f"the doorman has not approved {name} (ticket {ticket.id}) within {timeout:.0f} s; "
                f"approve it with: python -m networkmap approve --home <network home> {ticket.id}"
            )
        await asyncio.sleep(poll_interval)
    node_ca, doorman, root = certs_from_pem(chain_pem)
    certs = issue_node_identities(
        node_ca_cert=node_ca,
        node_ca_key=node_ca_key,
        doorman_cert=doorman,
        root_cert=root,
    )
    save_node_certificates(directory, certs)
    for leftover in pending.iterdir():
        leftover.unlink()
    pending.rmdir()
    say(f"registered with the doorman as {name}")
    return certs


def request_registration(
    directory: Path, name: X500Name, client: NetworkMapClient
) -> tuple[EcdsaP256PrivateKey, RegistrationTicket]:
    """Generate the node CA key, send its CSR to the doorman and keep key, CSR and ticket in
    the node directory, so a later start (`enrol`) waits for that very request."""
    pending = certificates_dir(directory) / PENDING
    node_ca_key = EcdsaP256PrivateKey.generate()
    csr = csr_to_pem(create_csr(subject=name, key=node_ca_key))
    ticket = client.register(csr, name)
    _remember(pending, node_ca_key, ticket)
    (pending / "node-ca.csr").write_bytes(csr)
    return node_ca_key, ticket


def pending_ticket(directory: Path) -> str | None:
    """The doorman ticket a node directory waits on, if its request is still pending."""
    ticket_file = certificates_dir(directory) / PENDING / "ticket.json"
    if not ticket_file.exists():
        return None
    return str(json.loads(ticket_file.read_text())["id"])


def _resume(pending: Path, name: X500Name) -> tuple[EcdsaP256PrivateKey, RegistrationTicket] | None:
    """The key and ticket of a request made before a restart, if there is one."""
    ticket_file = pending / "ticket.json"
    if not ticket_file.exists():
        return None
    key = load_private_key((pending / "node-ca.key").read_bytes())
    if not isinstance(key, EcdsaP256PrivateKey):
        raise EnrolmentPendingError(f"the pending node CA key in {pending} is not P-256")
    raw = json.loads(ticket_file.read_text())
    return key, RegistrationTicket(id=raw["id"], name=name, public_key=key.public_key)


def _remember(pending: Path, key: EcdsaP256PrivateKey, ticket: RegistrationTicket) -> None:
    pending.mkdir(parents=True, mode=0o700, exist_ok=True)
    write_private_key(pending / "node-ca.key", key)
    (pending / "ticket.json").write_text(json.dumps({"id": ticket.id}))

"""An organisation's own broker: set up on its host, kept in step with the network map.

    <home>/broker.json      where it listens, the nodes it hosts, the network map to follow
    <home>/tls/             its TLS identity, issued by the organisation's node CA
    <home>/rabbitmq/        the PrivateBroker's data, config and logs
    <home>/ready            while it runs: its amqps URL

`init` issues the broker's TLS certificate from the (enrolled) node CA of the organisation's
first node: subject the organisation's legal name, alternative names its identity host name,
the address it listens on and 127.0.0.1. Peers verify it against the network root. `serve` runs
the broker (TLS only, EXTERNAL only), gives each hosted node its user (its own inbox only) and
declares the inboxes, then follows the network map: every node of another organisation gets a
user that may only publish (`peer_permissions`), so the broker accepts its TLS login and checks
its `user_id`; a peer that leaves the map (the doorman revoked it) loses its user and its open
connections. Nobody copies a certificate or a user list between organisations.

The consortium option (`init` with a `ConsortiumSettings`): the broker is one member of a
RabbitMQ cluster the organisations share (same Erlang cookie, distribution on the host's
address). It joins the seed member, waits until every member runs, and declares the inboxes as
quorum queues (replicated on every member); every node on the network map gets its own-inbox
user there, since the cluster is everyone's broker. `cluster.json` records the members and the
queue types.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509

from deploy.rabbitmq import BrokerError, ClusterMember, PrivateBroker
from dlt.crypto import EcdsaP256PrivateKey
from dlt.identity import CertRole, cert_to_pem, identity_host_name, issue_certificate
from dlt.identity.certificates import LOOPBACK
from dlt.messaging.amqp import inbox_queue_name
from dlt.messaging.broker_identity import broker_user_name
from dlt.node.certificate_store import has_certificates, load_node_certificates
from dlt.node.config import NodeConfig
from dlt.node.network_map_client import NetworkMapClient, NetworkMapClientError
from dlt.node.process import inbox_of

log = logging.getLogger(__name__)

SETTINGS = "broker.json"
BROKER_VALIDITY_DAYS = 365
STARTUP_TIMEOUT = 180.0
"""Generous: several brokers booting at once on a small machine take a minute each."""


class OrgBrokerError(Exception):
    """The organisation's broker cannot be set up or run as asked; the message says why."""


@dataclass(frozen=True)
class ConsortiumSettings:
    """This broker is one member of a consortium's RabbitMQ cluster."""

    cookie_file: Path
    """The cluster's shared Erlang cookie (a secret the consortium's operators share)."""
    size: int
    """How many members the cluster has; inboxes are declared once all have joined."""
    seed: str | None = None
    """The member to join (`dlt-consortium@<address>`); None for the first member."""


@dataclass(frozen=True)
class OrgBrokerSettings:
    host: str
    port: int
    node_configs: tuple[Path, ...]
    """config.json of every node this broker hosts (the organisation's node, a notary replica)."""
    consortium: ConsortiumSettings | None = None

    @property
    def url(self) -> str:
        return f"amqps://{self.host}:{self.port}/%2F"

    @classmethod
    def load(cls, home: Path) -> OrgBrokerSettings:
        path = home / SETTINGS
        try:
            raw = json.loads(path.read_text())
        except OSError as exc:
            raise OrgBrokerError(
                f"no organisation broker in {home} ({exc.strerror}); create it with "
                "`dlt broker init`"
            ) from exc
        cluster = raw.get("consortium")
        return cls(
            raw["host"],
            int(raw["port"]),
            tuple(Path(p) for p in raw["node_configs"]),
            ConsortiumSettings(
                Path(cluster["cookie_file"]), int(cluster["size"]), cluster.get("seed")
            )
            if cluster
            else None,
        )


def init_broker(
    home: Path,
    listen: str,
    node_configs: list[Path],
    consortium: ConsortiumSettings | None = None,
) -> OrgBrokerSettings:
    """Write the broker's settings and TLS identity; its nodes must be enrolled already."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise OrgBrokerError(f"--listen must be HOST:PORT, got {listen!r}")
    if not node_configs:
        raise OrgBrokerError("name at least one node the broker hosts (--node CONFIG)")
    configs = [_node_config(path) for path in node_configs]
    issuer = configs[0]
    certs = load_node_certificates(issuer.directory)
    tls_key = EcdsaP256PrivateKey.generate()
    cert = issue_certificate(
        issuer_cert=certs.node_ca_cert,
        issuer_key=certs.node_ca_key,
        subject=certs.party.name,
        subject_key=tls_key.public_key,
        role=CertRole.TLS,
        validity=timedelta(days=BROKER_VALIDITY_DAYS),
        subject_alt_names=[
            x509.DNSName(identity_host_name(certs.party.name)),
            _host_name(host),
            LOOPBACK,
        ],
    )
    tls = home / "tls"
    tls.mkdir(parents=True, exist_ok=True)
    (tls / "ca.pem").write_bytes(cert_to_pem(certs.root_cert))
    chain = [cert, *certs.node_ca_chain[:-1]]
    (tls / "server.pem").write_bytes(b"".join(cert_to_pem(c) for c in chain))
    key_path = tls / "server.key"
    key_path.unlink(missing_ok=True)
    key_path.write_bytes(tls_key.to_pem())
    key_path.chmod(0o600)
    settings = OrgBrokerSettings(
        host, int(port), tuple(p.resolve() for p in node_configs), consortium
    )
    raw: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "node_configs": [str(p) for p in settings.node_configs],
    }
    if consortium is not None:
        raw["consortium"] = {
            "cookie_file": str(consortium.cookie_file.resolve()),
            "size": consortium.size,
            "seed": consortium.seed,
        }
    (home / SETTINGS).write_text(json.dumps(raw, indent=2))
    return settings


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _node_config(path: Path) -> NodeConfig:
    config = NodeConfig.load(path)
    if not has_certificates(config.directory):
        raise OrgBrokerError(
            f"{config.name} in {config.directory} has no certificates yet; run "
            f"`dlt node enrol --config {path}` once the network operator approved it"
        )
    return config


class OrgBroker:
    """A running organisation broker and the loop that keeps its peer users current."""

    def __init__(self, home: Path, *, poll_seconds: float = 1.0) -> None:
        self.home = home.resolve()
        self.settings = OrgBrokerSettings.load(self.home)
        self.poll_seconds = poll_seconds
        tls = self.home / "tls"
        self.broker = PrivateBroker(
            self.home / "rabbitmq",
            self.settings.port,
            None,
            None,
            (tls / "ca.pem").read_bytes(),
            (tls / "server.pem").read_bytes(),
            (tls / "server.key").read_bytes(),
            host=self.settings.host,
            startup_timeout=STARTUP_TIMEOUT,
            cluster=self._cluster_member(),
        )
        self.local_users: dict[str, str] = {}
        self.peer_users: set[str] = set()
        configs = [_node_config(path) for path in self.settings.node_configs]
        for config in configs:
            certs = load_node_certificates(config.directory)
            self.local_users[broker_user_name(config.name)] = inbox_queue_name(
                certs.party.owning_key
            )
        first = configs[0]
        self._map = NetworkMapClient(
            first.network_map.url, (first.directory / "truststore.pem").read_bytes()
        )

    def _cluster_member(self) -> ClusterMember | None:
        consortium = self.settings.consortium
        if consortium is None:
            return None
        cookie = consortium.cookie_file.read_text().strip()
        return ClusterMember(address=self.settings.host, cookie=cookie)

    @property
    def ready_file(self) -> Path:
        return self.home / "ready"

    def start(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        self.broker.start()
        quorum = self.settings.consortium is not None
        if quorum:
            self._form_cluster()
        self.broker.provision(self.local_users, quorum=quorum)
        self.sync_peers()
        if quorum:
            self._record_cluster()
        self.ready_file.write_text(self.settings.url)

    def _record_cluster(self) -> None:
        """`cluster.json`: the running members and each queue's type, for operators and tests."""
        _write_atomically(
            self.home / "cluster.json",
            json.dumps(
                {
                    "members": self.broker.running_members(),
                    "queues": self.broker.queue_types(),
                },
                indent=2,
            ),
        )

    def _form_cluster(self) -> None:
        """Join the seed member (unless this one is the seed, or rejoined on its own after a
        restart), then wait until every member runs, so quorum inboxes get a replica on each."""
        consortium = self.settings.consortium
        assert consortium is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        if consortium.seed is not None and len(self.broker.running_members()) < 2:
            while True:
                try:
                    self.broker.join_cluster(consortium.seed)
                    break
                except BrokerError as exc:
                    if time.monotonic() > deadline:
                        raise
                    log.info("cannot join %s yet: %s", consortium.seed, exc)
                    time.sleep(2)
        while len(members := self.broker.running_members()) < consortium.size:
            if time.monotonic() > deadline:
                raise OrgBrokerError(
                    f"only {len(members)} of {consortium.size} cluster members run: {members}"
                )
            time.sleep(1)
        log.info("cluster members running: %s", ", ".join(members))

    def sync_peers(self) -> list[str]:
        """Give every node on the network map that this broker does not host a publish-only
        user (a consortium member: its own-inbox user and quorum inbox), and shut out the peer
        users of nodes no longer on it (revoked); returns the users added."""
        try:
            _, infos = asyncio.run(self._map.fetch_all())
        except NetworkMapClientError as exc:
            log.warning("cannot read the network map: %s", exc)
            return []
        inboxes = {broker_user_name(info.name): inbox_of(info) for info in infos}
        new = sorted(set(inboxes) - set(self.local_users) - self.peer_users)
        if new and self.settings.consortium is not None:
            # One cluster for everyone: every node gets its own-inbox user and quorum inbox,
            # the same definitions whichever member imports them.
            self.broker.provision(
                {user: inbox for user in new if (inbox := inboxes[user]) is not None},
                quorum=True,
            )
        elif new:
            self.broker.provision_peers(new)
        if new:
            self.peer_users.update(new)
            log.info("added %d peer user(s): %s", len(new), "; ".join(new))
        # A peer gone from the map (the map and our client both leave revoked nodes out) may
        # neither log in again nor keep publishing on a connection it already has.
        gone = sorted(self.peer_users - set(inboxes))
        for user in gone:
            self.broker.revoke_user(user, "left the network map (revoked)")
            self.peer_users.discard(user)
        if gone:
            log.warning(
                "shut out %d peer user(s) gone from the map: %s", len(gone), "; ".join(gone)
            )
        if new or gone or not self.peers_file.exists():
            _write_atomically(self.peers_file, json.dumps(sorted(self.peer_users), indent=2))
        return new

    @property
    def peers_file(self) -> Path:
        """The publish-only users this broker has, for operators and the test tooling."""
        return self.home / "peers.json"

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.poll_seconds):
            try:
                self.sync_peers()
            except BrokerError as exc:
                log.error("cannot add peer users: %s", exc)

    def stop(self) -> None:
        self.ready_file.unlink(missing_ok=True)
        self._map.close()
        self.broker.stop()


def _write_atomically(path: Path, text: str) -> None:
    """Readers (operators, the test tooling) see the old file or the new one, never half."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


def serve(home: Path) -> int:
    """Run the organisation's broker until SIGTERM or SIGINT."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    org = OrgBroker(home)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    began = time.monotonic()
    try:
        org.start()
        print(
            f"broker ready at {org.settings.url} in {time.monotonic() - began:.1f} s, hosting "
            f"{len(org.local_users)} node(s)",
            flush=True,
        )
        org.run(stop)
    finally:
        org.stop()
    return 0

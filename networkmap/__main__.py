"""`python -m networkmap`: bootstrap a network, serve it, and decide on registrations.

    bootstrap --home DIR [--notary NAME [--validating]]... [--node NAME]... [--production]
    serve     --home DIR --address HOST:PORT [--dev]
    pending   --home DIR
    approve   --home DIR TICKET
    reject    --home DIR TICKET --reason TEXT
    revoke    --home DIR NAME --reason TEXT
    crl       --home DIR
    notary-cluster --home DIR --service NAME --replica NAME [--replica NAME]... [--validating]

A non-dev (`--production`) network's CA keys are encrypted with the password in
NETWORKMAP_KEY_PASSWORD, which `serve`, `approve`, `revoke` and `crl` then need too. `revoke`
puts every certificate the doorman issued the node on a new CRL, drops it from the map and
refuses its publications; `crl` re-signs the CRL before its next update (a `--dev` server does
that itself). `notary-cluster` names a BFT notary service made of admitted replicas (each
enrolled with `dlt node init --notary-replica-of NAME` and `dlt node enrol`) in network
parameters of a new epoch; its composite key is built from the keys the replicas published.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from dlt.identity import InvalidX500NameError, X500Name
from networkmap.bootstrap import (
    DEFAULT_SERVICE_HOSTS,
    KEY_PASSWORD_ENV,
    BootstrapError,
    NetworkHome,
    NetworkHomeError,
    bootstrap_network,
)
from networkmap.doorman import Doorman, DoormanError
from networkmap.network_map import NetworkMapService, NetworkMapServiceError
from networkmap.notary_cluster import NotaryClusterError, form_notary_cluster
from networkmap.server import NetworkMapServer, server_ssl_context


class CliError(Exception):
    """A command that cannot run as given; printed as one line, exit status 1."""


class _MarkValidating(argparse.Action):
    """`--validating` marks the notary named just before it as a validating notary."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        notaries: list[list[Any]] = namespace.notaries
        if not notaries:
            parser.error("--validating applies to the --notary before it; give --notary first")
        notaries[-1][1] = True


class _AddNotary(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        namespace.notaries.append([values, False])


def _x500(text: str) -> X500Name:
    try:
        return X500Name.parse(text)
    except InvalidX500NameError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an X.500 name ({exc}); write e.g. 'O=Alice, L=Leeds, C=GB'"
        ) from exc


def _trusted(text: str) -> tuple[str, X500Name]:
    purpose, sep, name = text.partition("=")
    if not sep or not purpose.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not PURPOSE=NAME; write e.g. "
            "'energy.market-rules=O=Market, L=Leeds, C=GB'"
        )
    return purpose.strip(), _x500(name)


def _trusted_names(pairs: list[tuple[str, X500Name]]) -> dict[str, list[X500Name]]:
    names: dict[str, list[X500Name]] = {}
    for purpose, name in pairs:
        names.setdefault(purpose, []).append(name)
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m networkmap", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    boot = commands.add_parser("bootstrap", help="build a network offline")
    boot.add_argument("--home", type=Path, required=True)
    boot.add_argument(
        "--notary", action=_AddNotary, type=_x500, dest="notaries", default=[], metavar="NAME"
    )
    boot.add_argument(
        "--validating",
        action=_MarkValidating,
        nargs=0,
        dest="notaries",
        default=argparse.SUPPRESS,
        help="the --notary just before this one validates transactions",
    )
    boot.add_argument(
        "--node", action="append", type=_x500, dest="nodes", default=[], metavar="NAME"
    )
    boot.add_argument(
        "--production",
        action="store_true",
        help=f"not a dev network: encrypt CA keys with ${KEY_PASSWORD_ENV}",
    )
    boot.add_argument(
        "--service-host",
        action="append",
        dest="service_hosts",
        metavar="HOST",
        help="host name or IP the service's TLS certificate is valid for "
        f"(repeatable; default {', '.join(DEFAULT_SERVICE_HOSTS)})",
    )

    serve = commands.add_parser("serve", help="run the doorman and network map over HTTPS")
    serve.add_argument("--home", type=Path, required=True)
    serve.add_argument("--address", required=True, metavar="HOST:PORT")
    serve.add_argument("--dev", action="store_true", help="approve every valid CSR at once")
    serve.add_argument(
        "--trust",
        action="append",
        type=_trusted,
        default=[],
        metavar="PURPOSE=NAME",
        help="trust the legal key of admitted node NAME for PURPOSE in the network parameters "
        "(e.g. energy.market-rules=<market operator>); repeatable",
    )

    pending = commands.add_parser("pending", help="list registrations awaiting approval")
    pending.add_argument("--home", type=Path, required=True)

    approve = commands.add_parser(
        "approve", help="issue the certificates for one or more registrations"
    )
    approve.add_argument("--home", type=Path, required=True)
    approve.add_argument("tickets", nargs="+", metavar="ticket")

    reject = commands.add_parser("reject", help="refuse a registration")
    reject.add_argument("--home", type=Path, required=True)
    reject.add_argument("ticket")
    reject.add_argument("--reason", required=True, help="shown to the node operator")

    revoke = commands.add_parser(
        "revoke", help="revoke an admitted node: its certificates go on the doorman's CRL"
    )
    revoke.add_argument("--home", type=Path, required=True)
    revoke.add_argument("name", type=_x500, help="the node's X.500 name")
    revoke.add_argument("--reason", required=True, help="recorded with the revocation")

    crl = commands.add_parser("crl", help="sign a fresh CRL (before the current one lapses)")
    crl.add_argument("--home", type=Path, required=True)

    cluster = commands.add_parser(
        "notary-cluster", help="name a notary service of admitted replicas in the parameters"
    )
    cluster.add_argument("--home", type=Path, required=True)
    cluster.add_argument("--service", type=_x500, required=True, metavar="NAME")
    cluster.add_argument(
        "--replica",
        action="append",
        type=_x500,
        dest="replicas",
        required=True,
        metavar="NAME",
        help="an admitted node that published its NodeInfo (repeatable; n = 3f + 1)",
    )
    cluster.add_argument(
        "--validating", action="store_true", help="the service validates transactions"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands = {
        "bootstrap": _bootstrap,
        "serve": _serve,
        "pending": _pending,
        "approve": _approve,
        "reject": _reject,
        "revoke": _revoke,
        "crl": _crl,
        "notary-cluster": _notary_cluster,
    }
    try:
        return commands[args.command](args)
    except (
        CliError,
        BootstrapError,
        NetworkHomeError,
        DoormanError,
        NetworkMapServiceError,
        NotaryClusterError,
        OSError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _bootstrap(args: argparse.Namespace) -> int:
    password = os.environ.get(KEY_PASSWORD_ENV, "").encode() or None
    result = bootstrap_network(
        args.home,
        notaries=[(name, validating) for name, validating in args.notaries],
        nodes=args.nodes,
        dev=not args.production,
        key_password=password,
        service_hosts=args.service_hosts or DEFAULT_SERVICE_HOSTS,
    )
    print(f"bootstrapped {len(result.nodes)} node(s) under {result.home.root}")
    for node in result.nodes:
        role = (
            ""
            if node.notary is None
            else (" (validating notary)" if node.notary.validating else " (notary)")
        )
        print(f"  {node.directory}  {node.name}  broker user {node.broker_user}{role}")
    return 0


def _doorman(home: NetworkHome, *, with_key: bool, dev_mode: bool = False) -> Doorman:
    return Doorman(
        home.database,
        root_cert=home.load_cert(home.root_cert),
        doorman_cert=home.load_cert(home.doorman_cert),
        doorman_key=home.load_key(home.doorman_key) if with_key else None,
        dev_mode=dev_mode,
    )


def _serve(args: argparse.Namespace) -> int:
    home = NetworkHome(args.home)
    host, port = _address(args.address)
    # Only dev mode signs inside the server; otherwise the doorman key stays with the operator.
    doorman = _doorman(home, with_key=args.dev, dev_mode=args.dev)
    service = NetworkMapService(
        home.database,
        root_cert=doorman.root_cert,
        doorman_cert=doorman.doorman_cert,
        network_map_cert=home.load_cert(home.network_map_cert),
        network_map_key=home.load_key(home.network_map_key),
        trusted_names=_trusted_names(args.trust),
        revocations=doorman,
    )
    if service.current_parameters() is None:
        # Later epochs (a notary cluster, trusted keys) live in the database, not the file.
        service.set_network_parameters(home.load_network_parameters())
    context = server_ssl_context(
        home.require(home.service_tls_chain), home.require(home.service_tls_key)
    )
    _check_not_running(home.pid_file)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = NetworkMapServer(doorman, service, context, host=host, port=port)
    server.start()
    try:
        home.pid_file.write_text(f"{os.getpid()}\n")
        mode = "dev mode: CSRs approved at once" if args.dev else "operator approval"
        print(f"network map service listening on {server.url} ({mode})", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        home.pid_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("network map service stopped", flush=True)
    return 0


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CliError(f"--address must be HOST:PORT (e.g. 127.0.0.1:10000), got {text!r}")
    return host.strip("[]"), int(port)


def _check_not_running(pid_file: Path) -> None:
    """Refuse to start twice on one home; a PID file left by a crash is taken over."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 0)
        if pid != os.getpid():
            raise CliError(
                f"a network map service (pid {pid}) already serves this home; stop it first "
                f"or remove {pid_file} if that process is not the service"
            )


def _pending(args: argparse.Namespace) -> int:
    registrations = _doorman(NetworkHome(args.home), with_key=False).pending()
    if not registrations:
        print("no registrations are pending")
        return 0
    print(f"{'TICKET':32}  {'SUBMITTED (UTC)':19}  NAME")
    for registration in registrations:
        submitted = registration.submitted_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{registration.ticket:32}  {submitted:19}  {registration.name}")
    return 0


def _approve(args: argparse.Namespace) -> int:
    doorman = _doorman(NetworkHome(args.home), with_key=True)
    for ticket in args.tickets:
        registration = doorman.approve(ticket)
        print(
            f"approved {registration.ticket}: issued a node CA certificate to {registration.name}"
        )
    return 0


def _reject(args: argparse.Namespace) -> int:
    registration = _doorman(NetworkHome(args.home), with_key=False).reject(args.ticket, args.reason)
    print(f"rejected {registration.ticket} for {registration.name}: {registration.reason}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    registration = _doorman(NetworkHome(args.home), with_key=True).revoke(args.name, args.reason)
    print(
        f"revoked {registration.name} ({registration.reason}); the network map serves the new "
        "CRL and no longer lists it"
    )
    return 0


def _crl(args: argparse.Namespace) -> int:
    doorman = _doorman(NetworkHome(args.home), with_key=True)
    doorman.issue_crl()
    print(f"signed a new CRL listing {len(doorman.revoked_serials())} revoked certificate(s)")
    return 0


def _notary_cluster(args: argparse.Namespace) -> int:
    notary, parameters = form_notary_cluster(
        NetworkHome(args.home), args.service, args.replicas, validating=args.validating
    )
    kind = "validating notary" if notary.validating else "notary"
    print(
        f"{kind} {notary.identity.name}: {len(notary.replicas)} replica(s), quorum "
        f"{notary.quorum}; network parameters epoch {parameters.epoch}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

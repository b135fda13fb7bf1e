"""Name constraints: a node's CA may certify only the legal name the doorman approved.

Every node CA carries a critical X.509 NameConstraints extension (RFC 5280 §4.2.1.10) whose
permitted subtrees are the approved name (a directoryName) and the node's identity host name (a
dNSName, what an RPC client checks). Path validation applies the constraints of every CA above a
certificate to its subject and to every directoryName and dNSName it lists as alternative name,
and refuses a node CA not bound this way, so a node can mint certificates only for itself.

Attribute values are compared exactly, which is stricter than RFC 4518 matching (case and space
folding) and never laxer. TLS stacks that fold (Erlang/OTP does) see two names that differ only
in case or spacing as one, so the doorman refuses such a pair (see `X500Name.comparison_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509

from dlt.crypto import SecureHash
from dlt.identity.errors import NameConstraintError
from dlt.identity.x500 import InvalidX500NameError, X500Name, describe_name

IDENTITY_HOST_SUFFIX = "node.dlt.invalid"
"""Identity host names live under this suffix, in the `.invalid` top-level domain (RFC 6761),
which never resolves: they name a node for certificate checks, never a place to connect to."""

_HOST_HEX_DIGITS = 32

T = TypeVar("T")


def identity_host_name(name: X500Name) -> str:
    """`<32 hex digits of SHA-256(name)>.node.dlt.invalid`: the DNS name a node's TLS
    certificate carries and its node CA's constraints bind to it; RPC clients check it."""
    digest = str(SecureHash.sha256(str(name).encode("utf-8")))[:_HOST_HEX_DIGITS]
    return f"{digest}.{IDENTITY_HOST_SUFFIX}"


def node_ca_name_constraints(
    name: X500Name, extra_host_names: Sequence[str] = ()
) -> x509.NameConstraints:
    """The constraints a node CA is issued with: its approved name and its identity host name
    (and, for the network map service only, the host names it serves under)."""
    for host in extra_host_names:
        _check_extra_host(host, name)
    hosts = [identity_host_name(name), *extra_host_names]
    return x509.NameConstraints(
        permitted_subtrees=[x509.DirectoryName(name.to_x509()), *map(x509.DNSName, hosts)],
        excluded_subtrees=None,
    )


def directory_name_within(name: x509.Name, subtree: x509.Name) -> bool:
    """RFC 5280 directoryName subtree: the subtree's RDNs are the first RDNs of the name."""
    rdns, base = list(name.rdns), list(subtree.rdns)
    return len(base) <= len(rdns) and all(
        _rdn_key(ours) == _rdn_key(theirs) for ours, theirs in zip(rdns, base, strict=False)
    )


def dns_name_within(host: str, subtree: str) -> bool:
    """RFC 5280 dNSName subtree: the host is the subtree's name with zero or more labels added
    on the left (compared without case, as DNS does); a leading '.' means subdomains only."""
    host, base = host.lower().rstrip("."), subtree.lower().rstrip(".")
    if base.startswith("."):
        return host.endswith(base)
    return not base or host == base or host.endswith("." + base)


def _rdn_key(rdn: x509.RelativeDistinguishedName) -> frozenset[tuple[str, str | bytes]]:
    return frozenset((attribute.oid.dotted_string, attribute.value) for attribute in rdn)


@dataclass(frozen=True)
class NameConstraints:
    """One CA's constraints, as path validation applies them to everything below it."""

    issuer: str
    permitted_names: tuple[x509.Name, ...] | None
    permitted_hosts: tuple[str, ...] | None
    excluded_names: tuple[x509.Name, ...] = ()
    excluded_hosts: tuple[str, ...] = ()
    """`None`: that kind of name is not restricted; an empty tuple would permit none."""

    def describe(self) -> str:
        allowed = [describe_name(name) for name in self.permitted_names or ()]
        allowed += [repr(host) for host in self.permitted_hosts or ()]
        return ", ".join(allowed) or "no restriction"


def read_name_constraints(cert: x509.Certificate, what: str) -> NameConstraints | None:
    """The constraints `cert` imposes on certificates below it, None if it has none."""
    try:
        extension = cert.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return None
    value = extension.value
    permitted = value.permitted_subtrees
    excluded = value.excluded_subtrees or []
    for subtree in [*(permitted or []), *excluded]:
        if not isinstance(subtree, x509.DirectoryName | x509.DNSName):
            raise NameConstraintError(
                f"certificate {what} constrains {type(subtree).__name__} names, which this "
                "network does not check; re-issue it with directoryName and dNSName constraints"
            )

    names = [s.value for s in permitted or [] if isinstance(s, x509.DirectoryName)]
    hosts = [s.value for s in permitted or [] if isinstance(s, x509.DNSName)]
    return NameConstraints(
        issuer=what,
        permitted_names=tuple(names) if names else None,
        permitted_hosts=tuple(hosts) if hosts else None,
        excluded_names=tuple(s.value for s in excluded if isinstance(s, x509.DirectoryName)),
        excluded_hosts=tuple(s.value for s in excluded if isinstance(s, x509.DNSName)),
    )


def check_names(
    what: str,
    subject: x509.Name,
    alt_names: Sequence[x509.GeneralName],
    constraints: Sequence[NameConstraints],
) -> None:
    """Refuse a certificate (`what`) whose subject or alternative names fall outside what any
    CA above it may certify."""
    names = [subject, *(n.value for n in alt_names if isinstance(n, x509.DirectoryName))]
    hosts = [n.value for n in alt_names if isinstance(n, x509.DNSName)]
    for constraint in constraints:
        for name in names:
            if not _allowed(
                name, constraint.permitted_names, constraint.excluded_names, directory_name_within
            ):
                _refuse(what, describe_name(name), constraint)
        for host in hosts:
            if not _allowed(
                host, constraint.permitted_hosts, constraint.excluded_hosts, dns_name_within
            ):
                _refuse(what, repr(host), constraint)


def _allowed(
    value: T,
    permitted: Sequence[T] | None,
    excluded: Sequence[T],
    within: Callable[[T, T], bool],
) -> bool:
    """Inside some permitted subtree (when that kind is restricted) and inside no excluded one."""
    inside = permitted is None or any(within(value, base) for base in permitted)
    return inside and not any(within(value, base) for base in excluded)


def certificate_alt_names(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return []


def require_node_ca_constraints(cert: x509.Certificate, what: str) -> None:
    """A node CA must be bound, by critical constraints, to its own name and identity host name;
    anything else (none, a wider or another name, another node's host) is never trusted."""
    constraints = read_name_constraints(cert, what)
    if constraints is None:
        raise NameConstraintError(
            f"node CA {what} carries no name constraints, so it could certify any name; only a "
            "node CA the doorman bound to its approved name is trusted: enrol the node again"
        )
    if not cert.extensions.get_extension_for_class(x509.NameConstraints).critical:
        raise NameConstraintError(
            f"node CA {what} has name constraints that are not critical, so other software may "
            "ignore them; enrol the node again with a doorman that marks them critical"
        )
    try:
        name = X500Name.from_x509(cert.subject)
    except InvalidX500NameError as exc:
        raise NameConstraintError(f"node CA {what} does not name a legal entity: {exc}") from exc
    own_host = identity_host_name(name)
    hosts = constraints.permitted_hosts or ()
    bound = (
        constraints.permitted_names == (cert.subject,)
        and own_host in hosts
        and all(host == own_host or _outside_identity_hosts(host) for host in hosts)
        and not constraints.excluded_names
        and not constraints.excluded_hosts
    )
    if not bound:
        raise NameConstraintError(
            f"node CA {what} is constrained to {constraints.describe()} rather than to its own "
            f"name '{name}' and host name {own_host!r}; enrol the node again with the doorman"
        )


def _outside_identity_hosts(host: str) -> bool:
    """A host subtree that neither lies among identity host names nor contains them."""
    return not dns_name_within(host, IDENTITY_HOST_SUFFIX) and not dns_name_within(
        IDENTITY_HOST_SUFFIX, host
    )


def _check_extra_host(host: str, name: X500Name) -> None:
    if not host or not _outside_identity_hosts(host):
        raise ValueError(
            f"host name {host!r} may not be permitted to {name}: identity host names under "
            f"{IDENTITY_HOST_SUFFIX} belong to the node they name"
        )


def _refuse(what: str, name: str, constraint: NameConstraints) -> None:
    raise NameConstraintError(
        f"certificate {what} carries the name {name}, which {constraint.issuer} may not "
        f"certify (it is constrained to {constraint.describe()}); only the doorman can admit "
        "another name"
    )

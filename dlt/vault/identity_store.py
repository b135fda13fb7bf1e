"""Known identities: which key belongs to which legal name, inside a unit of work or a read.

Anonymous keys (confidential identities) are stored without a name until the well-known
party behind them is registered for the same key. A key never changes its name.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dlt.crypto import PublicKey
from dlt.encoding import decode
from dlt.identity import AbstractParty, Party, X500Name
from dlt.vault.errors import IdentityConflictError
from dlt.vault.schema import identities, utc_now


def register_identity(
    session: Session,
    identity: AbstractParty | PublicKey,
    *,
    cert_chain_pem: str | None = None,
    registered_at: datetime | None = None,
) -> None:
    """Record a party (named, or an anonymous key) and optionally its certificate chain.

    Registering again is harmless: a name is added to a key known only anonymously, a new
    certificate chain replaces the old one, and a different name for the key is refused.
    """
    key = identity if isinstance(identity, PublicKey) else identity.owning_key
    name = str(identity.name) if isinstance(identity, Party) else None
    fingerprint = str(key.fingerprint)
    row = session.execute(
        select(identities.c.name).where(identities.c.key == fingerprint)
    ).one_or_none()
    if row is None:
        session.execute(
            insert(identities).values(
                key=fingerprint,
                name=name,
                public_key=key.encoded,
                cert_chain=cert_chain_pem,
                registered_at=registered_at or utc_now(),
            )
        )
        return
    if name is not None and row.name is not None and row.name != name:
        raise IdentityConflictError(
            f"key {key!r} is registered to {row.name}, not {name}; a key belongs to one legal "
            "identity, so register the new identity's own key"
        )
    changes: dict[str, str] = {}
    if name is not None and row.name is None:
        changes["name"] = name
    if cert_chain_pem is not None:
        changes["cert_chain"] = cert_chain_pem
    if changes:
        session.execute(update(identities).where(identities.c.key == fingerprint).values(**changes))


def party_from_key(session: Session, key: PublicKey) -> Party | None:
    """The well-known party owning `key`; None for unknown or only-anonymous keys."""
    name = session.execute(
        select(identities.c.name).where(identities.c.key == str(key.fingerprint))
    ).scalar_one_or_none()
    return None if name is None else Party(name=X500Name.parse(name), owning_key=key)


def party_from_name(session: Session, name: X500Name | str) -> Party | None:
    """The party registered under `name`; the most recently registered key if it has several."""
    text = str(name if isinstance(name, X500Name) else X500Name.parse(name))
    data = session.execute(
        select(identities.c.public_key)
        .where(identities.c.name == text)
        .order_by(identities.c.registered_at.desc(), identities.c.key)
        .limit(1)
    ).scalar_one_or_none()
    if data is None:
        return None
    return Party(name=X500Name.parse(text), owning_key=decode(data, PublicKey))


def certificate_chain(session: Session, key: PublicKey) -> str | None:
    """The PEM certificate chain registered for `key`, if any."""
    return session.execute(
        select(identities.c.cert_chain).where(identities.c.key == str(key.fingerprint))
    ).scalar_one_or_none()


def all_parties(session: Session) -> tuple[Party, ...]:
    """Every well-known party, ordered by name (then key fingerprint)."""
    rows = session.execute(
        select(identities.c.name, identities.c.public_key)
        .where(identities.c.name.is_not(None))
        .order_by(identities.c.name, identities.c.key)
    )
    return tuple(
        Party(name=X500Name.parse(row.name), owning_key=decode(row.public_key, PublicKey))
        for row in rows
    )

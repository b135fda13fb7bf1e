"""What counts as a notary cluster's answer: signed evidence, once per replica.

Up to f replicas may lie, so the client counts only what replicas provably said: signatures
over this transaction by each replica's own key, and refusals each replica signed about this
very transaction. A refusal decides only when f+1 distinct replicas make it; a conflict counts
only when it names inputs or references of this transaction consumed by another.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dlt.crypto import InvalidSignatureError, PublicKey, SecureHash
from dlt.flows.errors import FlowException
from dlt.flows.library.notary_protocol import (
    Conflict,
    ConsumedStateKind,
    NotarisationResponse,
    NotaryError,
    SignedRefusal,
    StateConsumptionDetails,
)
from dlt.identity import Party
from dlt.ledger import InvalidTransactionSignatureError, TransactionSignature, WireTransaction
from dlt.ledger.network_parameters import NotaryInfo


@dataclass
class Tally:
    """What the replicas said. Only verified signatures and signed refusals count, and each
    replica counts once, whichever session it answered on and however often."""

    tx: WireTransaction
    info: NotaryInfo
    signatures: dict[PublicKey, TransactionSignature] = field(default_factory=dict)
    refusals: dict[Party, NotaryError] = field(default_factory=dict)
    """The first valid refusal of each replica."""
    answered: set[Party] = field(default_factory=set)
    faulty: dict[Party, str] = field(default_factory=dict)

    @property
    def tx_id(self) -> SecureHash:
        return self.tx.id

    @property
    def threshold(self) -> int:
        """Distinct replicas whose matching refusals cannot all be faulty: f+1."""
        return self.info.fault_tolerance + 1

    @property
    def done(self) -> bool:
        return self.info.identity.owning_key.is_fulfilled_by(self.signatures.keys())

    def add(self, replica: Party, answer: Any) -> None:
        self.answered.add(replica)
        if isinstance(answer, NotarisationResponse):
            self._signatures(replica, answer)
        elif isinstance(answer, SignedRefusal):
            self._refusal(replica, answer)
        elif isinstance(answer, FlowException):
            self.faulty[replica] = str(answer)
        else:
            self.faulty[replica] = f"answered with a {type(answer).__name__}"

    def _signatures(self, replica: Party, response: NotarisationResponse) -> None:
        for signature in response.signatures:
            if signature.by not in replica.owning_key.leaf_keys:
                self.faulty[replica] = f"signed with a key that is not its own ({signature.by!r})"
                return
            try:
                signature.verify(self.tx_id)
            except InvalidTransactionSignatureError as exc:
                self.faulty[replica] = str(exc)
                return
            self.signatures[signature.by] = signature

    def _refusal(self, replica: Party, signed: SignedRefusal) -> None:
        try:
            error = signed.verify(replica, self.tx_id)
        except InvalidSignatureError as exc:
            self.faulty[replica] = str(exc)
            return
        if isinstance(error, Conflict):
            irrelevant = irrelevant_conflict(self.tx, error)
            if irrelevant is not None:
                self.faulty[replica] = irrelevant
                return
        self.refusals.setdefault(replica, error)

    def proven_conflict(self) -> Conflict | None:
        """The conflicts f+1 distinct replicas agree on, state by state and consumer by
        consumer; a claim fewer replicas make may be a lie and is left out."""
        votes: dict[tuple[str, SecureHash], set[Party]] = defaultdict(set)
        details: dict[tuple[str, SecureHash], StateConsumptionDetails] = {}
        for replica, error in self.refusals.items():
            if isinstance(error, Conflict):
                for ref, consumption in error.consumed.items():
                    votes[(ref, consumption.consuming_tx_id)].add(replica)
                    details[(ref, consumption.consuming_tx_id)] = consumption
        proven = {
            ref: details[(ref, consumer)]
            for (ref, consumer), replicas in sorted(votes.items())
            if len(replicas) >= self.threshold
        }
        return Conflict(tx_id=self.tx_id, consumed=proven) if proven else None

    def proven_refusal(self) -> NotaryError | None:
        """A refusal of one kind that f+1 distinct replicas made."""
        by_kind: dict[str, list[NotaryError]] = defaultdict(list)
        for error in self.refusals.values():
            if not isinstance(error, Conflict):
                by_kind[type(error).__name__].append(error)
        for errors in by_kind.values():
            if len(errors) >= self.threshold:
                return errors[0]
        return None


def irrelevant_conflict(tx: WireTransaction, conflict: Conflict) -> str | None:
    """Why `conflict` proves nothing about `tx`, or None: it must name only inputs and
    references of `tx`, each consumed by a transaction other than `tx`."""
    used = {ref: ConsumedStateKind.INPUT for ref in tx.inputs}
    used.update({ref: ConsumedStateKind.REFERENCE for ref in tx.references})
    for ref, details in conflict.consumed_states.items():
        kind = used.get(ref)
        if kind is None:
            return f"reported a conflict on {ref}, which transaction {tx.id} does not use"
        if details.kind is not kind:
            uses = "an input" if kind is ConsumedStateKind.INPUT else "a reference"
            return (
                f"reported a conflict on {ref} as a {details.kind.value}, but transaction "
                f"{tx.id} uses it as {uses}"
            )
        if details.consuming_tx_id == tx.id:
            return f"reported transaction {tx.id} as conflicting with itself over {ref}"
    return None

"""SignedTransaction: a WireTransaction and the signatures collected over its id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import Any

from dlt.crypto import PrivateKey, PublicKey, SecureHash
from dlt.encoding import register_codec
from dlt.ledger.errors import SignaturesMissingError
from dlt.ledger.ledger_transaction import LedgerTransaction
from dlt.ledger.resolution import LedgerLookup, resolve
from dlt.ledger.signatures import TransactionSignature, sign_transaction_id
from dlt.ledger.wire_transaction import WireTransaction


class SignedTransaction:
    """Immutable: adding signatures returns a new object with the same id."""

    def __init__(self, tx: WireTransaction, sigs: Iterable[TransactionSignature] = ()) -> None:
        self._tx = tx
        unique: dict[tuple[PublicKey, bytes], TransactionSignature] = {}
        for sig in sigs:
            unique.setdefault((sig.by, sig.signature), sig)
        self._sigs = tuple(unique.values())

    @property
    def tx(self) -> WireTransaction:
        return self._tx

    @property
    def id(self) -> SecureHash:
        return self._tx.id

    @property
    def sigs(self) -> tuple[TransactionSignature, ...]:
        return self._sigs

    def with_signatures(self, *sigs: TransactionSignature) -> SignedTransaction:
        return SignedTransaction(self._tx, (*self._sigs, *sigs))

    def sign(self, key: PrivateKey) -> SignedTransaction:
        return self.with_signatures(sign_transaction_id(key, self.id))

    @cached_property
    def _valid_signers(self) -> frozenset[PublicKey]:
        for sig in self._sigs:
            sig.verify(self.id)
        return frozenset(sig.by for sig in self._sigs)

    def missing_signers(self) -> frozenset[PublicKey]:
        """Required keys not yet fulfilled; raises if any present signature is invalid."""
        signed = self._valid_signers
        return frozenset(k for k in self._tx.required_signing_keys if not k.is_fulfilled_by(signed))

    def verify_signatures(
        self,
        allowed_to_be_missing: Iterable[PublicKey] = (),
        describe: Callable[[PublicKey], str | None] | None = None,
    ) -> None:
        """Check every signature, and that every required key except those allowed has signed.

        `describe(key) -> str` names a key in the error (a node passes its identity service);
        keys without a name are shown by fingerprint.
        """
        missing = self.missing_signers() - frozenset(allowed_to_be_missing)
        if missing:
            names = [(describe(key) if describe else None) or repr(key) for key in missing]
            raise SignaturesMissingError(self.id, missing, names)

    def to_ledger_transaction(self, lookup: LedgerLookup) -> LedgerTransaction:
        return resolve(self._tx, lookup)

    def verify(self, lookup: LedgerLookup, check_signatures: bool = True) -> LedgerTransaction:
        """Full verification: signatures, then resolution and every contract."""
        if check_signatures:
            self.verify_signatures()
        ledger_tx = self.to_ledger_transaction(lookup)
        ledger_tx.verify()
        return ledger_tx

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SignedTransaction)
            and self.id == other.id
            and set(self._sigs) == set(other._sigs)
        )

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"SignedTransaction({self.id.prefix(12)}, {len(self._sigs)} signatures)"


def _to_fields(stx: SignedTransaction) -> dict[str, Any]:
    return {"tx": stx.tx, "sigs": list(stx.sigs)}


def _from_fields(fields: dict[str, Any]) -> SignedTransaction:
    tx, sigs = fields["tx"], fields["sigs"]
    if not isinstance(tx, WireTransaction) or not isinstance(sigs, list):
        raise ValueError("malformed SignedTransaction encoding")
    if not all(isinstance(sig, TransactionSignature) for sig in sigs):
        raise ValueError("a SignedTransaction's signatures must be TransactionSignatures")
    return SignedTransaction(tx, sigs)


register_codec("SignedTransaction", SignedTransaction, ["tx", "sigs"], _to_fields, _from_fields)

"""Contract constraints: which contract code a state accepts being verified by."""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from dlt.crypto import PublicKey, SecureHash
from dlt.encoding import serializable

if TYPE_CHECKING:
    from dlt.ledger.attachments import Attachment


class AttachmentConstraint(BaseModel):
    """Decides whether a contract-code attachment may verify a state."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    @abstractmethod
    def is_satisfied_by(self, code: Attachment) -> bool: ...


@serializable("AlwaysAcceptAttachmentConstraint")
class AlwaysAcceptAttachmentConstraint(AttachmentConstraint):
    """Any code will do. For tests only: it lets anyone swap the contract out."""

    def is_satisfied_by(self, code: Attachment) -> bool:
        return True


@serializable("HashAttachmentConstraint")
class HashAttachmentConstraint(AttachmentConstraint):
    """Exactly this version of the CorDapp, by the hash of its code."""

    attachment_id: SecureHash

    def is_satisfied_by(self, code: Attachment) -> bool:
        return code.id == self.attachment_id


@serializable("SignatureAttachmentConstraint")
class SignatureAttachmentConstraint(AttachmentConstraint):
    """Any version of the CorDapp signed by `key`: lets the publisher ship upgrades."""

    key: PublicKey

    def is_satisfied_by(self, code: Attachment) -> bool:
        return self.key.is_fulfilled_by(code.signers)

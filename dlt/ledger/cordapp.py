"""CorDapps: installed Python packages of contracts, pinned on the ledger by a hash of their code.

Contract code is never loaded from an attachment (that would run whatever a peer sent). Instead
each installed CorDapp is packed into a deterministic zip of its source; a transaction carries
that zip's hash as an attachment, and a node verifies only with code whose hash matches.
"""

from __future__ import annotations

import importlib
import zipfile
from functools import cache
from io import BytesIO
from pathlib import Path

from dlt.ledger.attachments import Attachment
from dlt.ledger.contract_sources import contract_sources
from dlt.ledger.errors import AttachmentError

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@cache
def cordapp_attachment(package: str) -> Attachment:
    """The code attachment of the installed top-level package `package`: its contract code
    (see `contract_sources`), the part its states pin."""
    module = importlib.import_module(package)
    locations = list(getattr(module, "__path__", []))
    if len(locations) != 1:
        raise AttachmentError(f"{package!r} is not a regular package; cannot pin its code")
    root = Path(locations[0])
    sources = contract_sources(package, root)
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for path in sources:
            info = zipfile.ZipInfo(f"{package}/{path.relative_to(root).as_posix()}", _FIXED_TIME)
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return Attachment(buffer.getvalue())

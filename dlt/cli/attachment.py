"""`dlt attachment`: put files into a node's attachment store and get them back, over RPC.

Attachments are content-addressed: the id is the SHA-256 of the bytes. A download is checked
against its id before it is kept, so a file written by `download` is exactly what was stored.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from dlt.cli.endpoints import add_connection_options, call_node, print_json
from dlt.cli.main import EXIT_OK, CommandError, add_group
from dlt.cli.table import key_values
from dlt.rpc.client import AttachmentInfo, RpcClient, as_json

if TYPE_CHECKING:
    from dlt.cli.main import Subparsers


def register(subparsers: Subparsers) -> None:
    """Add `dlt attachment upload|download`."""
    attachment = add_group(subparsers, "attachment", summary="upload and download attachments")

    upload = attachment.add_parser(
        "upload",
        help="upload a file as an attachment and print its id",
        description="Upload FILE to the node's attachment store and print its id (the "
        "SHA-256 of its content). Uploading the same content again gives the same id.",
    )
    upload.add_argument("file", type=Path, metavar="FILE", help="the file to upload")
    upload.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_connection_options(upload)
    upload.set_defaults(handler=upload_command)

    download = attachment.add_parser(
        "download",
        help="download an attachment into a file",
        description="Download attachment ID into FILE, checking its content against its id.",
    )
    download.add_argument("id", metavar="ID", help="the attachment id (64 hex digits)")
    download.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="where to write it"
    )
    download.add_argument("--force", action="store_true", help="replace FILE if it exists")
    add_connection_options(download)
    download.set_defaults(handler=download_command)


def upload_command(args: argparse.Namespace) -> int:
    """Handler of `dlt attachment upload`."""
    path: Path = args.file
    if not path.is_file():
        raise CommandError(f"{path} is not a file")

    async def work(client: RpcClient) -> AttachmentInfo:
        try:
            return await client.upload_attachment(path)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc

    info = call_node(args, work)
    if args.json:
        print_json(as_json(info))
    else:
        print(key_values([("id", info.id), ("size", info.size), ("filename", info.filename)]))
    return EXIT_OK


def download_command(args: argparse.Namespace) -> int:
    """Handler of `dlt attachment download`.

    Writes to a temporary file next to FILE and renames it into place only once the content
    matches the id, so FILE is never left half-written or wrong.
    """
    out: Path = args.out
    if out.exists() and not args.force:
        raise CommandError(f"{out} already exists; use --force to replace it")
    expected = args.id.strip().lower()
    directory = out.parent if str(out.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    except OSError as exc:
        raise CommandError(f"cannot write in {directory}: {exc.strerror or exc}") from exc
    temp_path = Path(temporary)

    async def work(client: RpcClient) -> int:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(handle, "wb") as file:
            async for chunk in client.attachment_chunks(expected):
                file.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != expected:
            raise CommandError(
                f"the node sent content whose SHA-256 is {digest.hexdigest()}, not {expected}; "
                "nothing was written"
            )
        return size

    try:
        size = call_node(args, work)
        temp_path.replace(out)
    except BaseException:
        with contextlib.suppress(OSError):
            temp_path.unlink()
        raise
    print(f"wrote {size} bytes to {out}")
    return EXIT_OK

"""The attachment endpoints: upload in chunks up to the server's limit, download in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import PurePosixPath, PureWindowsPath

import grpc

from dlt.ledger import Attachment
from dlt.rpc.generated import node_pb2
from dlt.rpc.server import convert
from dlt.rpc.server.endpoints import Endpoints
from dlt.rpc.server.errors import Context, Refusal, fail, log
from dlt.rpc.users import RpcUser
from dlt.vault import load_attachment, store_attachment

MAX_FILENAME = 255


class AttachmentEndpoints(Endpoints):
    """The service's attachment methods; CamelCase names are the protocol's."""

    async def UploadAttachment(  # noqa: N802
        self, request_iterator: AsyncIterator[node_pb2.AttachmentChunk], context: Context
    ) -> node_pb2.AttachmentInfo:
        async def work(user: RpcUser) -> node_pb2.AttachmentInfo:
            limit = self._server.max_attachment_size
            parts: list[bytes] = []
            size = 0
            filename = ""
            async for chunk in request_iterator:
                filename = filename or chunk.filename
                size += len(chunk.data)
                if size > limit:
                    raise Refusal(
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"the attachment is larger than the {limit} bytes this node accepts",
                    )
                parts.append(chunk.data)
            if size == 0:
                raise Refusal(grpc.StatusCode.INVALID_ARGUMENT, "the attachment is empty")
            attachment = Attachment(b"".join(parts))
            name = _safe_filename(filename)
            clock = self._node.services.clock
            await self._node.db.write(
                lambda s: store_attachment(
                    s, attachment, uploader=user.username, filename=name, uploaded_at=clock()
                )
            )
            log.info("RPC user %s uploaded attachment %s", user.username, attachment.id)
            return node_pb2.AttachmentInfo(
                id=str(attachment.id), size=size, filename=name or "", uploader=user.username
            )

        return await self._unary(context, "UploadAttachment", work)

    async def DownloadAttachment(  # noqa: N802
        self, request: node_pb2.DownloadAttachmentRequest, context: Context
    ) -> AsyncIterator[node_pb2.AttachmentChunk]:
        try:
            await self._authorise(context, "DownloadAttachment")
            attachment_id = convert.secure_hash(request.id, "attachment id")
            attachment = await self._node.db.read(lambda s: load_attachment(s, attachment_id))
            if attachment is None:
                raise Refusal(
                    grpc.StatusCode.NOT_FOUND,
                    f"{self._node.name} has no attachment {attachment_id}",
                )
            data = attachment.data
            step = self._server.chunk_size
            yield node_pb2.AttachmentChunk(data=data[:step], total_size=len(data))
            for offset in range(step, len(data), step):
                yield node_pb2.AttachmentChunk(data=data[offset : offset + step])
        except Exception as exc:
            await fail(context, "DownloadAttachment", exc)


def _safe_filename(name: str) -> str | None:
    """Only the last path component, so a stored name never points anywhere."""
    base = PureWindowsPath(PurePosixPath(name).name).name.strip()
    return base[:MAX_FILENAME] or None

"""``client.sessions.logs``, ``.downloads`` and ``.uploads``: what goes in and out of a session.

Each is callable for the common case (``client.sessions.logs(id)``,
``client.sessions.downloads(id, to="files.zip")``, ``client.sessions.uploads(id, "a.pdf")``)
and keeps the official SDK's method name too (``.list``, ``.list``, ``.create``).
"""

from __future__ import annotations

import asyncio
import builtins
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import RootModel

from bbnb.models import SessionLog, UploadResponse
from bbnb.wire._http import parse_model
from bbnb.wire._sync import run_sync

if TYPE_CHECKING:
    from bbnb.client._client import AsyncClient

__all__ = [
    "AsyncSessionDownloads",
    "AsyncSessionLogs",
    "AsyncSessionUploads",
    "FileInput",
    "SessionDownloads",
    "SessionLogs",
    "SessionUploads",
    "read_upload",
    "zip_target",
]

LOGS = "/v1/sessions/{session_id}/logs"
DOWNLOADS = "/v1/sessions/{session_id}/downloads"
UPLOADS = "/v1/sessions/{session_id}/uploads"

FileInput = str | os.PathLike[str] | bytes | IO[bytes] | tuple[str, bytes | IO[bytes]]
"""A file to upload: a path, raw bytes, a binary file object, or ``(name, bytes | file)``."""


class _LogArray(RootModel[list[SessionLog]]):
    """``GET /v1/sessions/{id}/logs`` answers a bare JSON array."""


def read_upload(file: Any) -> tuple[str, bytes]:
    """(file name, content) of an upload, or a ``TypeError``/``FileNotFoundError`` saying why not."""
    if isinstance(file, tuple):
        if len(file) != 2 or not isinstance(file[0], str) or not file[0]:
            raise TypeError("an upload tuple must be (file name, bytes or binary file object)")
        name, content = file
        return name, content if isinstance(content, bytes) else read_upload(content)[1]
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"cannot upload {str(path)!r}: no such file")
        return path.name, path.read_bytes()
    if isinstance(file, bytes | bytearray):
        return "upload.bin", bytes(file)
    read = getattr(file, "read", None)
    if callable(read):
        data = read()
        if not isinstance(data, bytes):
            raise TypeError("open the file in binary mode ('rb') to upload it")
        return Path(str(getattr(file, "name", "upload.bin"))).name, data
    raise TypeError(
        f"cannot upload a {type(file).__name__}; pass a path, bytes, a file opened with 'rb', "
        "or (name, bytes)"
    )


def zip_target(to: str | os.PathLike[str], session_id: str) -> Path:
    """Where to save a session's downloads: ``to``, or ``<id>-downloads.zip`` in folder ``to``."""
    target = Path(to)
    if target.is_dir():
        target = target / f"{session_id}-downloads.zip"
    if not target.parent.is_dir():
        raise FileNotFoundError(
            f"cannot save the downloads to {str(target)!r}: folder {str(target.parent)!r} "
            "does not exist"
        )
    return target


class AsyncSessionLogs:
    """CDP logs of a session: ``await client.sessions.logs(id)``."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def list(self, session_id: str) -> builtins.list[SessionLog]:
        """Every CDP log entry of the session (one unpaged list)."""
        response = await self._core.request("GET", LOGS, path_params={"session_id": session_id})
        return parse_model(_LogArray, response, "GET", response.request.url.path).root

    async def __call__(self, session_id: str) -> builtins.list[SessionLog]:
        """Same as ``list``."""
        return await self.list(session_id)


class AsyncSessionDownloads:
    """Files the session's browser downloaded, as one zip archive."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def list(self, session_id: str) -> bytes:
        """The zip archive's bytes (the SDK's name for this call)."""
        response = await self._core.request(
            "GET",
            DOWNLOADS,
            path_params={"session_id": session_id},
            headers={"Accept": "application/zip"},
        )
        return response.content

    async def __call__(self, session_id: str, *, to: str | os.PathLike[str]) -> Path:
        """Save the zip archive at ``to`` (a file path, or a folder for ``<id>-downloads.zip``)."""
        target = zip_target(to, session_id)
        data = await self.list(session_id)
        await asyncio.to_thread(target.write_bytes, data)
        return target


class AsyncSessionUploads:
    """Put a file into the session, for the page to use (e.g. in a file input)."""

    def __init__(self, client: AsyncClient) -> None:
        self._core = client._core

    async def create(self, session_id: str, *, file: FileInput) -> UploadResponse:
        """Upload ``file`` (a path, bytes, a binary file object, or ``(name, bytes)``)."""
        name, content = await asyncio.to_thread(read_upload, file)
        return await self._core.request_model(
            UploadResponse,
            "POST",
            UPLOADS,
            path_params={"session_id": session_id},
            files={"file": (name, content)},
            kind="action",
        )

    async def __call__(self, session_id: str, file: FileInput) -> UploadResponse:
        """Same as ``create``."""
        return await self.create(session_id, file=file)


class SessionLogs:
    """Synchronous ``client.sessions.logs``."""

    def __init__(self, logs: AsyncSessionLogs) -> None:
        self._logs = logs

    def list(self, session_id: str) -> builtins.list[SessionLog]:
        """Every CDP log entry of the session."""
        return run_sync(self._logs.list(session_id))

    def __call__(self, session_id: str) -> builtins.list[SessionLog]:
        """Same as ``list``."""
        return self.list(session_id)


class SessionDownloads:
    """Synchronous ``client.sessions.downloads``."""

    def __init__(self, downloads: AsyncSessionDownloads) -> None:
        self._downloads = downloads

    def list(self, session_id: str) -> bytes:
        """The zip archive's bytes."""
        return run_sync(self._downloads.list(session_id))

    def __call__(self, session_id: str, *, to: str | os.PathLike[str]) -> Path:
        """Save the zip archive at ``to`` (a file, or a folder for ``<id>-downloads.zip``)."""
        return run_sync(self._downloads(session_id, to=to))


class SessionUploads:
    """Synchronous ``client.sessions.uploads``."""

    def __init__(self, uploads: AsyncSessionUploads) -> None:
        self._uploads = uploads

    def create(self, session_id: str, *, file: FileInput) -> UploadResponse:
        """Upload ``file`` into the session."""
        return run_sync(self._uploads.create(session_id, file=file))

    def __call__(self, session_id: str, file: FileInput) -> UploadResponse:
        """Same as ``create``."""
        return self.create(session_id, file=file)

"""HTTP routes of a session's real browser: debug URLs, logs, downloads, uploads."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.wire import ApiError, echo, json_response

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["browser_routes"]

_MAX_UPLOAD = 50 * 2**20  # as the gate's limit for uploads (app.MAX_UPLOAD_BYTES)


def _parse_upload(content_type: str, body: bytes) -> tuple[str, bytes]:
    """The ``file`` part of a multipart/form-data body: (filename, bytes)."""
    if "multipart/form-data" not in content_type:
        raise ApiError(
            400,
            "Send the file as multipart/form-data with a part named 'file' (got "
            f"content-type {echo(content_type or 'none')})",
        )
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            name = part.get_filename() or "upload"
            return str(name), payload if isinstance(payload, bytes) else b""
    raise ApiError(400, "The multipart body has no part named 'file'; name the file part 'file'")


def browser_routes(emu: EmulatorService) -> list[Route]:
    """``/v1/sessions/{id}/debug|logs|downloads|uploads``."""

    async def debug(request: Request) -> Response:
        sid = request.path_params["sid"]
        emu.get_session(sid)
        browser = emu.live.browsers.get(sid)
        if browser is None:
            raise ApiError(
                409,
                f"Session {sid} has no live browser (it ended, or the emulator runs simulated "
                "sessions); debug URLs exist only while a real browser runs",
            )
        base = emu.live.base(request.headers.get("host"))
        key = emu.live.signing_key(sid)
        pages = await browser.pages()
        ws_url = f"ws://{base}/connect/{sid}?signingKey={key}"

        def live(page: str | None) -> str:
            tail = f"&pageId={quote(page)}" if page else ""
            return f"http://{base}/live/{sid}?signingKey={key}{tail}"

        out_pages: list[dict[str, Any]] = [
            {
                "id": page["targetId"],
                "url": page.get("url", ""),
                "title": page.get("title", ""),
                "faviconUrl": "",
                "debuggerUrl": live(page["targetId"]),
                "debuggerFullscreenUrl": live(page["targetId"]),
            }
            for page in pages
        ]
        first = pages[0]["targetId"] if pages else None
        return json_response(
            {
                "debuggerUrl": live(first),
                "debuggerFullscreenUrl": live(first),
                "wsUrl": ws_url,
                "pages": out_pages,
            }
        )

    async def logs(request: Request) -> Response:
        sid = request.path_params["sid"]
        emu.get_session(sid)
        await emu.live.settle(sid)
        return json_response(emu.live.logs(sid))

    async def downloads(request: Request) -> Response:
        sid = request.path_params["sid"]
        emu.get_session(sid)
        await emu.live.settle(sid)
        return Response(
            emu.live.downloads(sid),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{sid}-downloads.zip"'},
        )

    async def uploads(request: Request) -> Response:
        sid = request.path_params["sid"]
        emu.get_session(sid)
        body = await request.body()
        if len(body) > _MAX_UPLOAD:
            raise ApiError(413, f"The upload is larger than {_MAX_UPLOAD} bytes")
        name, data = _parse_upload(request.headers.get("content-type", ""), body)
        path = emu.live.upload(sid, name, data)
        return json_response(
            {"message": f"File uploaded successfully to {path}", "path": str(path)}
        )

    return [
        Route("/v1/sessions/{sid}/debug", debug, methods=["GET"]),
        Route("/v1/sessions/{sid}/logs", logs, methods=["GET"]),
        Route("/v1/sessions/{sid}/downloads", downloads, methods=["GET"]),
        Route("/v1/sessions/{sid}/uploads", uploads, methods=["POST"]),
    ]

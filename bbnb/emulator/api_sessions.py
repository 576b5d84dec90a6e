"""HTTP routes for browser sessions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.api_browser import browser_routes
from bbnb.emulator.inputs import query_choice, read_json, validate
from bbnb.emulator.wire import ApiError, echo, json_response
from bbnb.models import SessionCreateParams, SessionReleaseParams

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["routes"]

SESSION_STATUSES = ("PENDING", "RUNNING", "ERROR", "TIMED_OUT", "COMPLETED")
_CLAUSE = re.compile(r"^\s*user_metadata\['([^']+)'\]\s*:\s*'([^']*)'\s*$")


def _metadata_query(raw: str) -> list[tuple[str, str]]:
    """``user_metadata['key']:'value'`` clauses joined by ``AND``."""
    clauses = []
    for part in re.split(r"\s+AND\s+", raw):
        match = _CLAUSE.match(part)
        if match is None:
            raise ApiError(
                400,
                "querystring/q must look like user_metadata['key']:'value' "
                f"(clauses joined by AND), got {echo(raw)}",
            )
        clauses.append((match.group(1), match.group(2)))
    return clauses


def _host(request: Request) -> str | None:
    return request.headers.get("host")


def routes(emu: EmulatorService) -> list[Route]:
    """The ``/v1/sessions`` routes bound to ``emu``."""

    async def create(request: Request) -> Response:
        params = validate(SessionCreateParams, await read_json(request, required=False))
        session = await emu.open_session(params)
        return json_response(emu.session_wire(session, urls=True, host=_host(request)), 201)

    async def list_sessions(request: Request) -> Response:
        status = query_choice(request, "status", SESSION_STATUSES)
        raw_q = request.query_params.get("q")
        clauses = _metadata_query(raw_q) if raw_q else []
        out: list[dict[str, Any]] = []
        for session in reversed(emu.store.sessions.order):
            meta = session.user_metadata or {}
            if any(str(meta.get(k)) != v or k not in meta for k, v in clauses):
                continue
            body = emu.session_wire(session, urls=False)
            if status is None or body["status"] == status:
                out.append(body)
        return json_response(out)

    async def get(request: Request) -> Response:
        session = emu.get_session(request.path_params["sid"])
        return json_response(emu.session_wire(session, urls=True, host=_host(request)))

    async def update(request: Request) -> Response:
        session_id = request.path_params["sid"]
        emu.get_session(session_id)
        body = await read_json(request, required=True)
        if "status" not in body:
            raise ApiError(400, 'body/status is required; send {"status": "REQUEST_RELEASE"}')
        validate(SessionReleaseParams, body)
        session = emu.release_session(session_id)
        if emu.live.browsers.get(session_id) is not None:
            await emu.live.finish(session_id, "COMPLETED")
        return json_response(emu.session_wire(session, urls=False))

    return [
        *browser_routes(emu),
        Route("/v1/sessions", create, methods=["POST"]),
        Route("/v1/sessions", list_sessions, methods=["GET"]),
        Route("/v1/sessions/{sid}", get, methods=["GET"]),
        Route("/v1/sessions/{sid}", update, methods=["POST"]),
    ]

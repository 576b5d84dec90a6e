"""HTTP routes for contexts (``/v1/contexts``): persisted browser profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.inputs import read_json
from bbnb.emulator.wire import ApiError, json_response

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["routes"]


def routes(emu: EmulatorService) -> list[Route]:
    """The ``/v1/contexts`` routes bound to ``emu``."""
    store = emu.live.contexts

    async def create(request: Request) -> Response:
        body = await read_json(request, required=False)
        unknown = sorted(set(body) - {"name", "projectId"})
        if unknown:
            raise ApiError(400, f"Unknown field(s) {unknown}; a context takes name and projectId")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ApiError(400, "body/name must be a non-empty string")
        record = store.create(emu.now(), name)
        return json_response(store.upload_wire(record), 201)

    async def get(request: Request) -> Response:
        record = store.get(request.path_params["cid"])
        return json_response(store.wire(record, emu.project_id))

    async def update(request: Request) -> Response:
        record = store.get(request.path_params["cid"])
        store.touch(record, emu.now())
        return json_response(store.upload_wire(record))

    async def delete(request: Request) -> Response:
        store.delete(request.path_params["cid"])
        return Response(status_code=204)

    return [
        Route("/v1/contexts", create, methods=["POST"]),
        Route("/v1/contexts/{cid}", get, methods=["GET"]),
        Route("/v1/contexts/{cid}", update, methods=["PUT"]),
        Route("/v1/contexts/{cid}", delete, methods=["DELETE"]),
    ]

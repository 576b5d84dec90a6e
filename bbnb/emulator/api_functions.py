"""HTTP routes for functions, their versions and invocations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.inputs import query_int, read_json, validate
from bbnb.emulator.wire import json_response
from bbnb.models import FunctionInvokeParams

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["routes"]


def _offset_page(request: Request, items: list[Any]) -> tuple[list[Any], int]:
    offset = query_int(request, "offset", 0, 0, None)
    limit = query_int(request, "limit", 20, 1, 100)
    return items[offset : offset + limit], len(items)


def routes(emu: EmulatorService) -> list[Route]:
    """The ``/v1/functions`` routes bound to ``emu``."""

    async def list_functions(request: Request) -> Response:
        page, total = _offset_page(request, list(emu.functions.values()))
        return json_response({"data": [emu.function_wire(s) for s in page], "total": total})

    async def get_function(request: Request) -> Response:
        return json_response(emu.function_wire(emu.get_function(request.path_params["fid"])))

    async def list_versions(request: Request) -> Response:
        spec = emu.get_function(request.path_params["fid"])
        page, total = _offset_page(request, [spec])
        return json_response({"results": [emu.version_wire(s) for s in page], "total": total})

    async def get_version(request: Request) -> Response:
        return json_response(emu.version_wire(emu.get_version(request.path_params["vid"])))

    async def version_invocations(request: Request) -> Response:
        spec = emu.get_version(request.path_params["vid"])
        status = request.query_params.get("status")
        bodies = [
            emu.invocation_wire(inv)
            for inv in reversed(emu.store.invocations.order)
            if inv.version_id == spec.version_id
        ]
        if status is not None:
            bodies = [b for b in bodies if b["status"] == status]
        page, total = _offset_page(request, bodies)
        return json_response({"results": page, "total": total})

    async def invoke(request: Request) -> Response:
        key = request.path_params["fid"]
        emu.get_function(key)
        params = validate(FunctionInvokeParams, await read_json(request, required=False))
        inv = await emu.invoke(key, params)
        return json_response(emu.invocation_wire(inv), 202)

    async def get_invocation(request: Request) -> Response:
        return json_response(emu.invocation_wire(emu.get_invocation(request.path_params["iid"])))

    async def invocation_logs(request: Request) -> Response:
        inv = emu.get_invocation(request.path_params["iid"])
        logs = inv.visible_logs(emu.now())
        return json_response({"logs": logs, "total": len(logs)})

    return [
        Route("/v1/functions", list_functions, methods=["GET"]),
        Route("/v1/functions/invocations/{iid}", get_invocation, methods=["GET"]),
        Route("/v1/functions/invocations/{iid}/logs", invocation_logs, methods=["GET"]),
        Route("/v1/functions/versions/{vid}", get_version, methods=["GET"]),
        Route("/v1/functions/versions/{vid}/invocations", version_invocations, methods=["GET"]),
        Route("/v1/functions/{fid}", get_function, methods=["GET"]),
        Route("/v1/functions/{fid}/versions", list_versions, methods=["GET"]),
        Route("/v1/functions/{fid}/invoke", invoke, methods=["POST"]),
    ]

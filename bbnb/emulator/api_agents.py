"""HTTP routes for agent runs, their messages, and custom agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bbnb.emulator.agent import transcript
from bbnb.emulator.inputs import (
    decode_cursor,
    encode_cursor,
    query_bool,
    query_choice,
    query_int,
    query_time,
    read_json,
    validate,
)
from bbnb.emulator.wire import ApiError, echo, json_response
from bbnb.models import AgentCreateParams, AgentRunCreateParams, AgentUpdateParams, ResumeParams

if TYPE_CHECKING:
    from bbnb.emulator.service import EmulatorService

__all__ = ["routes"]

RUN_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "STOPPED", "TIMED_OUT", "PAUSED")


def _page(items: list[Any], request: Request, wire: Any, created: Any) -> dict[str, Any]:
    """Newest first, filtered by startAt/endAt, cut at ``cursor`` and ``limit``."""
    limit = query_int(request, "limit", 20, 1, 1000)
    start_at = query_time(request, "startAt")
    end_at = query_time(request, "endAt")
    after = decode_cursor(request)
    data: list[dict[str, Any]] = []
    last_seq: int | None = None
    more = False
    for item in reversed(items):
        if after is not None and item.seq >= after:
            continue
        if start_at is not None and created(item) < start_at:
            continue
        if end_at is not None and created(item) > end_at:
            continue
        body = wire(item)
        if body is None:
            continue
        if len(data) == limit:
            more = True
            break
        data.append(body)
        last_seq = item.seq
    cursor = encode_cursor(last_seq) if more and last_seq is not None else None
    return {"data": data, "limit": limit, "nextCursor": cursor}


def routes(emu: EmulatorService) -> list[Route]:
    """The ``/v1/agents`` routes bound to ``emu``."""

    async def create_run(request: Request) -> Response:
        params = validate(AgentRunCreateParams, await read_json(request, required=True))
        run = emu.create_run(params)
        return json_response(run.to_wire(emu.now()), 201)

    async def list_runs(request: Request) -> Response:
        status = query_choice(request, "status", RUN_STATUSES)
        agent_id = request.query_params.get("agentId")
        now = emu.now()

        def wire(run: Any) -> dict[str, Any] | None:
            if agent_id is not None and run.agent_id != agent_id:
                return None
            if status is not None and run.state(now).status != status:
                return None
            body: dict[str, Any] = run.to_wire(now)
            return body

        page = _page(emu.store.runs.order, request, wire, lambda run: run.created)
        return json_response(page)

    async def get_run(request: Request) -> Response:
        run = emu.get_run(request.path_params["run_id"])
        return json_response(run.to_wire(emu.now()))

    async def messages(request: Request) -> Response:
        run = emu.get_run(request.path_params["run_id"])
        limit = query_int(request, "limit", 20, 1, 100)
        everything = query_bool(request, "all", False)
        since = request.query_params.get("since")
        items = transcript(run, emu.now())
        start = 0
        if since:
            ids = [item["id"] for item in items]
            if since not in ids:
                raise ApiError(
                    400,
                    f"querystring/since must be the id of a message of run {run.run_id} "
                    f"(use nextSince), got {echo(since)}",
                )
            start = ids.index(since) + 1
        data = items[start:] if everything else items[start : start + limit]
        next_since = data[-1]["id"] if data else (since or None)
        return json_response({"data": data, "nextSince": next_since})

    async def stop(request: Request) -> Response:
        run = emu.stop_run(request.path_params["run_id"])
        return json_response(run.to_wire(emu.now()), 202)

    async def resume(request: Request) -> Response:
        params = validate(ResumeParams, await read_json(request, required=True))
        run = emu.resume_run(request.path_params["run_id"], params)
        return json_response(run.to_wire(emu.now()), 202)

    async def create_agent(request: Request) -> Response:
        params = validate(AgentCreateParams, await read_json(request, required=True))
        return json_response(emu.create_agent(params).to_wire(), 201)

    async def list_agents(request: Request) -> Response:
        page = _page(emu.store.agents.order, request, lambda a: a.to_wire(), lambda a: a.created)
        return json_response(page)

    async def get_agent(request: Request) -> Response:
        return json_response(emu.get_agent(request.path_params["agent_id"]).to_wire())

    async def update_agent(request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        emu.get_agent(agent_id)
        params = validate(AgentUpdateParams, await read_json(request, required=True))
        return json_response(emu.update_agent(agent_id, params).to_wire())

    async def delete_agent(request: Request) -> Response:
        emu.delete_agent(request.path_params["agent_id"])
        return Response(status_code=204)

    return [
        Route("/v1/agents/runs", create_run, methods=["POST"]),
        Route("/v1/agents/runs", list_runs, methods=["GET"]),
        Route("/v1/agents/runs/{run_id}", get_run, methods=["GET"]),
        Route("/v1/agents/runs/{run_id}/messages", messages, methods=["GET"]),
        Route("/v1/agents/runs/{run_id}/stop", stop, methods=["POST"]),
        Route("/v1/agents/runs/{run_id}/resume", resume, methods=["POST"]),
        Route("/v1/agents", create_agent, methods=["POST"]),
        Route("/v1/agents", list_agents, methods=["GET"]),
        Route("/v1/agents/{agent_id}", get_agent, methods=["GET"]),
        Route("/v1/agents/{agent_id}", update_agent, methods=["PATCH"]),
        Route("/v1/agents/{agent_id}", delete_agent, methods=["DELETE"]),
    ]

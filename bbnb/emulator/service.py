"""The emulator's service: its state and the operations the HTTP routes call.

``EmulatorService`` owns the clock, the store, the limiter, the fault injector, the
function registry and the counters.  Its methods (``create_run``, ``stop_run``,
``invoke`` ...) hold the behaviour; ``bbnb.emulator.api_*`` only translate HTTP
to these calls and back, so tests and benchmarks can drive either layer.  ``bbnb.emulator.emulator.Emulator``
adds the ASGI app on top; this module knows nothing of HTTP routing.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import random
import traceback
import uuid
from typing import Any

from bbnb._clock import Clock
from bbnb.emulator.agent import make_result, plan_run
from bbnb.emulator.browsing_runs import opener_of, start_browsing
from bbnb.emulator.clock import WallClock
from bbnb.emulator.config import EmulatorConfig
from bbnb.emulator.faults import FaultInjector
from bbnb.emulator.functions import (
    Duration,
    FunctionContext,
    FunctionSpec,
    Handler,
    builtin_functions,
)
from bbnb.emulator.limits import SessionLimiter
from bbnb.emulator.live_sessions import LiveSessions
from bbnb.emulator.recording import FrameStore
from bbnb.emulator.records import (
    TERMINAL_RUN,
    AgentRecord,
    InvocationRecord,
    RunRecord,
    SessionRecord,
)
from bbnb.emulator.stats import EmulatorStats
from bbnb.emulator.storage import Store
from bbnb.emulator.wire import ApiError, echo, iso, stable_uuid
from bbnb.models import (
    FUNCTION_TIMEOUT_RANGE,
    AgentCreateParams,
    AgentRunCreateParams,
    AgentUpdateParams,
    FunctionInvokeParams,
    ResumeParams,
    SessionCreateParams,
)

__all__ = ["EmulatorService"]

_RUN_SESSION_STATUS = {
    "COMPLETED": "COMPLETED",
    "STOPPED": "COMPLETED",
    "FAILED": "ERROR",
    "TIMED_OUT": "TIMED_OUT",
}


class EmulatorService:
    """A local Browserbase: give it a config (and a clock in tests), serve ``.app``."""

    def __init__(self, config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.clock: Clock = clock or WallClock()
        self.stats = EmulatorStats()
        self.store = Store(self.config.db_path)
        #: Screencast frames of every session, encoded to replays (``bbnb.emulator.recording``).
        self.recordings = FrameStore()
        self.project_id = stable_uuid(self.config.seed, "project")
        #: Salts every id this instance hands out: two emulators (two kernels sharing a
        #: journal) or one restarted never reuse an id.  Results depend on the seed only.
        self.instance_salt = uuid.uuid4().hex
        self.functions: dict[str, FunctionSpec] = {}
        self._functions_by_name: dict[str, FunctionSpec] = {}
        self._versions: dict[str, FunctionSpec] = {}
        self._attempts: dict[str, int] = {}
        self._active: dict[str, SessionRecord] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.limiter = SessionLimiter(
            max_concurrent=self.config.max_concurrent_sessions,
            per_minute=self.config.sessions_per_minute,
            retry_after=self.config.retry_after,
            count_active=self.count_active_sessions,
            speed=self.config.speed,
        )
        self.faults = FaultInjector(
            self.config.seed,
            error_rate=self.config.fault_5xx_rate,
            slow_rate=self.config.fault_slow_rate,
            drop_rate=self.config.fault_drop_rate,
        )
        now = self.now()
        for run in self.store.runs.order:
            self._attempts[run.task] = self._attempts.get(run.task, 0) + 1
        for session in self.store.sessions.order:
            if self.session_state(session, now)[0] in ("PENDING", "RUNNING"):
                self._active[session.session_id] = session
        self.live = LiveSessions(self)
        if self.config.builtin_functions:
            for name, handler, duration in builtin_functions():
                self.register_function(name, handler, duration=duration)

    def __repr__(self) -> str:
        return (
            f"Emulator(seed={self.config.seed}, speed={self.config.speed:g}, "
            f"runs={len(self.store.runs)}, clock={self.clock!r})"
        )

    def new_id(self, kind: str, seq: int) -> str:
        """A fresh id for the ``seq``-th object of ``kind``, unique to this instance."""
        return stable_uuid(self.config.seed, kind, seq, self.instance_salt)

    def now(self) -> float:
        """The emulator's current time (epoch seconds)."""
        return self.clock.now()

    def close(self) -> None:
        """Kill every browser, close the database, if any, and stop the recording encoder."""
        self.live.close()
        self.store.close()
        self.recordings.close()

    # -- sessions -----------------------------------------------------------------------
    def session_state(self, session: SessionRecord, now: float) -> tuple[str, float | None]:
        """(status, ended) of a session at ``now``."""
        if session.end_status is not None:
            return session.end_status, session.ended_at
        if session.owner == "run":
            run = self.store.runs.by_id.get(session.owner_id or "")
            if run is not None:
                state = run.state(now)
                if state.status in TERMINAL_RUN:
                    return _RUN_SESSION_STATUS[state.status], state.ended
                return "RUNNING", None
        elif session.owner == "invocation":
            inv = self.store.invocations.by_id.get(session.owner_id or "")
            if inv is not None:
                status, ended, cause = inv.state(now)
                if status in ("COMPLETED", "FAILED"):
                    timed_out = cause is not None and cause[0] == "TIMED_OUT"
                    return ("TIMED_OUT" if timed_out else "COMPLETED"), ended
                return "RUNNING", None
        if session.released_at is not None and session.released_at <= now:
            return "COMPLETED", session.released_at
        expires = session.created + session.timeout_s
        if now >= expires:
            return "TIMED_OUT", expires
        return "RUNNING", None

    def count_active_sessions(self, now: float) -> int:
        """Sessions alive at ``now`` (forgetting those that ended)."""
        for key, session in list(self._active.items()):
            if self.session_state(session, now)[0] not in ("PENDING", "RUNNING"):
                del self._active[key]
        return len(self._active)

    def _new_session(
        self,
        now: float,
        *,
        timeout_s: float,
        owner: str | None = None,
        owner_id: str | None = None,
        params: SessionCreateParams | None = None,
    ) -> SessionRecord:
        self.limiter.check(now)
        seq = self.store.seq("session")
        session_id = self.new_id("session", seq)
        settings = params.to_safe_dict() if params is not None else {}
        browser = params.browser_settings if params is not None else None
        session = SessionRecord(
            session_id=session_id,
            seq=seq,
            created=now,
            timeout_s=float(timeout_s),
            region=(params.region if params is not None and params.region else self.config.region),
            keep_alive=bool(params.keep_alive) if params is not None else False,
            owner=owner,
            owner_id=owner_id,
            context_id=browser.context.id if browser is not None and browser.context else None,
            user_metadata=params.user_metadata if params is not None else None,
            settings=settings or None,
            proxy_bytes=0 if params is None or not params.proxies else (seq * 7919) % 250_000,
        )
        self.limiter.record(now)
        self.stats.sessions_created += 1
        self._active[session_id] = session
        return self.store.add(session)

    def create_session(self, params: SessionCreateParams) -> SessionRecord:
        """``POST /v1/sessions`` without a browser (see ``open_session``)."""
        timeout = params.timeout or self.config.default_session_timeout
        return self._new_session(self.now(), timeout_s=timeout, params=params)

    async def open_session(self, params: SessionCreateParams) -> SessionRecord:
        """``POST /v1/sessions``: a session, with a real browser behind it when there is one."""
        if not self.live.real:
            return self.create_session(params)
        self.live.check_capacity()
        context = params.browser_settings.context if params.browser_settings else None
        if context is not None:
            self.live.contexts.get(context.id)
        session = self.create_session(params)
        await self.live.start(session, params)
        return session

    def get_session(self, session_id: str) -> SessionRecord:
        session = self.store.sessions.by_id.get(session_id)
        if session is None:
            raise ApiError(404, f"Session {echo(session_id)} not found")
        return session

    def release_session(self, session_id: str) -> SessionRecord:
        """``POST /v1/sessions/{id}`` with ``REQUEST_RELEASE``."""
        session = self.get_session(session_id)
        now = self.now()
        if session.owner is not None and self.session_state(session, now)[0] == "RUNNING":
            raise ApiError(
                409,
                f"Session {session_id} belongs to {session.owner} {session.owner_id} and ends "
                f"with it; {'stop the run' if session.owner == 'run' else 'wait for the invocation'} "
                "instead",
            )
        if self.session_state(session, now)[0] == "RUNNING":
            session.released_at = now
            self.store.save(session)
        return session

    def session_wire(
        self, session: SessionRecord, *, urls: bool, host: str | None = None
    ) -> dict[str, Any]:
        now = self.now()
        status, ended = self.session_state(session, now)
        out: dict[str, Any] = {
            "id": session.session_id,
            "createdAt": iso(session.created),
            "updatedAt": iso(ended if ended is not None else session.created),
            "projectId": self.project_id,
            "startedAt": iso(session.created),
            "expiresAt": iso(session.created + session.timeout_s),
            "status": status,
            "proxyBytes": session.proxy_bytes,
            "keepAlive": session.keep_alive,
            "region": session.region,
        }
        if ended is not None:
            out["endedAt"] = iso(ended)
        if session.context_id is not None:
            out["contextId"] = session.context_id
        if session.user_metadata is not None:
            out["userMetadata"] = session.user_metadata
        if urls:
            sid = session.session_id
            if self.live.real:
                out["connectUrl"] = self.live.connect_url(sid, host)
                out["seleniumRemoteUrl"] = f"http://{self.live.base(host)}/webdriver-not-emulated"
            else:
                out["connectUrl"] = f"wss://connect.emulator.invalid/?sessionId={sid}"
                out["seleniumRemoteUrl"] = "http://connect.emulator.invalid/webdriver"
            out["signingKey"] = self.live.signing_key(sid)
        return out

    # -- agents -------------------------------------------------------------------------
    def create_agent(self, params: AgentCreateParams) -> AgentRecord:
        now = self.now()
        seq = self.store.seq("agent")
        record = AgentRecord(
            agent_id=self.new_id("agent", seq),
            seq=seq,
            name=params.name,
            created=now,
            updated=now,
            system_prompt=params.system_prompt,
            result_schema=params.result_schema,
        )
        return self.store.add(record)

    def get_agent(self, agent_id: str) -> AgentRecord:
        agent = self.store.agents.by_id.get(agent_id)
        if agent is None:
            raise ApiError(404, f"Agent {echo(agent_id)} not found")
        return agent

    def update_agent(self, agent_id: str, params: AgentUpdateParams) -> AgentRecord:
        agent = self.get_agent(agent_id)
        for name in params.model_fields_set:
            setattr(agent, name, getattr(params, name))
        agent.updated = self.now()
        self.store.save(agent)
        return agent

    def delete_agent(self, agent_id: str) -> None:
        agent = self.store.agents.by_id.get(agent_id)
        if agent is not None:
            self.store.delete(agent)

    # -- runs ---------------------------------------------------------------------------
    def create_run(self, params: AgentRunCreateParams) -> RunRecord:
        """``POST /v1/agents/runs``: plan the run, take a session, store it."""
        schema = params.result_schema
        if params.agent_id is not None:
            agent = self.get_agent(params.agent_id)
            if schema is None:
                schema = agent.result_schema
        now = self.now()
        attempt = self._attempts.get(params.task, 0)
        plan = plan_run(
            self.config,
            task=params.task,
            attempt=attempt,
            pause_when=params.pause_when,
            has_schema=schema is not None,
        )
        seq = self.store.seq("run")
        run_id = self.new_id("run", seq)
        timeout = plan.pending_s + self.config.run_max_seconds / self.config.speed + 60
        session = self._new_session(now, timeout_s=timeout, owner="run", owner_id=run_id)
        variables = {
            name: var.value.get_secret_value() for name, var in (params.variables or {}).items()
        }
        run = RunRecord(
            run_id=run_id,
            seq=seq,
            task=params.task,
            created=now,
            session_id=session.session_id,
            pending_s=plan.pending_s,
            run_s=plan.run_s,
            outcome=plan.outcome,
            steps=plan.steps,
            seed=plan.seed,
            agent_id=params.agent_id,
            result_schema=params.result_schema,
            browser_settings=(
                params.browser_settings.to_safe_dict() if params.browser_settings else None
            ),
            pause_when=params.pause_when,
            pause_offset=plan.pause_offset,
            cause=plan.cause,
            variables=variables,
        )
        if plan.outcome == "COMPLETED":
            self._fill_result(run, schema, spoil=plan.spoil)
        self._attempts[params.task] = attempt + 1
        self.stats.runs_created += 1
        self.store.add(run)
        browsing = start_browsing(self, run, schema)
        if browsing is not None:
            self._background.add(browsing)
            browsing.add_done_callback(self._background.discard)
        return run

    def _fill_result(self, run: RunRecord, schema: dict[str, Any] | None, *, spoil: bool) -> None:
        run.result, run.partial = make_result(
            seed=self.config.seed,
            task=run.task,
            schema=schema,
            variables=run.variables,
            steps=run.steps,
            run_s=run.run_s * self.config.speed,
            spoil_seed=run.seed if spoil else None,
        )

    def get_run(self, run_id: str) -> RunRecord:
        run = self.store.runs.by_id.get(run_id)
        if run is None:
            raise ApiError(404, f"Run {echo(run_id)} not found")
        return run

    def stop_run(self, run_id: str) -> RunRecord:
        """``POST .../stop``: PENDING, RUNNING or PAUSED -> STOPPED; else 409."""
        run = self.get_run(run_id)
        now = self.now()
        status = run.state(now).status
        if status in TERMINAL_RUN:
            raise ApiError(
                409,
                f"Run {run_id} is already {status}; only PENDING, RUNNING or PAUSED runs can be "
                "stopped",
            )
        run.stopped_at = now
        self.store.save(run)
        return run

    def resume_run(self, run_id: str, params: ResumeParams) -> RunRecord:
        """``POST .../resume``: PAUSED -> RUNNING with the caller's reply; else 409."""
        run = self.get_run(run_id)
        now = self.now()
        status = run.state(now).status
        if status != "PAUSED":
            raise ApiError(
                409, f"Run {run_id} is {status}, not PAUSED; only a paused run can be resumed"
            )
        run.resumed_at = now
        run.resume_task = params.task
        if params.variables:
            run.variables = {
                **run.variables,
                **{name: v.value.get_secret_value() for name, v in params.variables.items()},
            }
        if run.outcome == "COMPLETED":
            schema = run.result_schema
            if schema is None and run.agent_id is not None:
                agent = self.store.agents.by_id.get(run.agent_id)
                schema = agent.result_schema if agent is not None else None
            self._fill_result(run, schema, spoil=run.partial is not None)
        self.store.save(run)
        return run

    # -- functions ----------------------------------------------------------------------
    def register_function(
        self,
        name: str,
        handler: Handler,
        *,
        duration: Duration = None,
        session_create_params: dict[str, Any] | None = None,
        params_schema: dict[str, Any] | None = None,
    ) -> str:
        """Register ``handler(params, context)`` under ``name``; returns the function id.

        ``duration`` is the simulated run time in seconds (a number, or a callable of
        the params); by default it is drawn from ``config.invocation_seconds``.
        ``session_create_params`` are the version's session defaults, validated under
        the function rules.  Registering a name again replaces its handler.
        """
        if session_create_params is not None:
            SessionCreateParams.model_validate(
                session_create_params, context={"target": "function", "rule_warnings": False}
            )
        spec = FunctionSpec.create(
            name,
            handler,
            seed=self.config.seed,
            created=self.now(),
            duration=duration,
            session_create_params=session_create_params,
            params_schema=params_schema,
        )
        old = self._functions_by_name.get(name)
        if old is not None:
            spec.created = old.created
        self.functions[spec.function_id] = spec
        self._functions_by_name[name] = spec
        self._versions[spec.version_id] = spec
        return spec.function_id

    def get_function(self, key: str) -> FunctionSpec:
        """A function by id or by name."""
        spec = self.functions.get(key) or self._functions_by_name.get(key)
        if spec is None:
            known = ", ".join(sorted(self._functions_by_name)) or "none registered"
            raise ApiError(404, f"Function {echo(key)} not found (known functions: {known})")
        return spec

    def get_version(self, version_id: str) -> FunctionSpec:
        spec = self._versions.get(version_id)
        if spec is None:
            raise ApiError(404, f"Function version {echo(version_id)} not found")
        return spec

    def get_invocation(self, invocation_id: str) -> InvocationRecord:
        inv = self.store.invocations.by_id.get(invocation_id)
        if inv is None:
            raise ApiError(404, f"Invocation {echo(invocation_id)} not found")
        return inv

    async def invoke(self, key: str, params: FunctionInvokeParams) -> InvocationRecord:
        """``POST /v1/functions/{id}/invoke``: take a session and start the handler."""
        spec = self.get_function(key)
        merged = _deep_merge(
            spec.session_create_params or {},
            params.session_create_params.to_wire() if params.session_create_params else {},
        )
        session_params = SessionCreateParams.model_validate(
            merged, context={"target": "function", "rule_warnings": False}
        )
        # A function runs at most 900 s, whatever longer timeout its session was given.
        timeout = min(
            session_params.timeout or FUNCTION_TIMEOUT_RANGE[1], FUNCTION_TIMEOUT_RANGE[1]
        )
        now = self.now()
        seq = self.store.seq("invocation")
        inv_id = self.new_id("invocation", seq)
        rng = random.Random(stable_uuid(self.config.seed, "invocation-plan", seq))
        user_params = params.params or {}
        try:
            duration = spec.planned_duration(user_params, rng, self.config.invocation_seconds)
        except Exception as exc:  # a user-supplied duration callable misbehaved
            raise ApiError(400, f"params were rejected by the function: {str(exc)[:300]}") from None
        # Simulated seconds, like the handler's duration: a 60 s timeout ends a 200 s sleep.
        timeout_s = float(timeout)
        session = self._new_session(
            now,
            timeout_s=timeout_s / self.config.speed,
            owner="invocation",
            owner_id=inv_id,
            params=session_params,
        )
        inv = InvocationRecord(
            invocation_id=inv_id,
            seq=seq,
            function_id=spec.function_id,
            version_id=spec.version_id,
            session_id=session.session_id,
            created=now,
            pending_s=rng.uniform(*self.config.invocation_pending_seconds) / self.config.speed,
            duration_s=duration / self.config.speed,
            timeout_s=timeout_s / self.config.speed,
            timeout_requested_s=timeout_s,
            params=params.params,
        )
        self.stats.invocations_created += 1
        self.store.add(inv)
        context = FunctionContext(
            invocation_id=inv_id,
            function_name=spec.name,
            session_id=session.session_id,
            session=session_params.to_safe_dict(),
            params=user_params,
            seed=self.config.seed,
            rng_key=stable_uuid(self.config.seed, "invocation", seq),
            pages=opener_of(self, session.session_id),
        )
        if self.live.real:
            sid = session.session_id
            context.connect_url = self.live.connect_url(sid, None)
            context.loop = asyncio.get_running_loop()

            async def browser_url() -> str:
                return (await self.live.session_browser(sid)).cdp_url

            context.browser_url = browser_url
        task = asyncio.ensure_future(self._run_handler(spec, inv, context))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        await asyncio.wait({task}, timeout=self.config.handler_inline_wait)
        return inv

    async def _run_handler(
        self, spec: FunctionSpec, inv: InvocationRecord, context: FunctionContext
    ) -> None:
        try:
            if inspect.iscoroutinefunction(spec.handler):
                value = await spec.handler(context.params, context)
            else:
                value = await asyncio.to_thread(spec.handler, context.params, context)
                if inspect.isawaitable(value):
                    value = await value
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"the handler returned a value that is not JSON: {exc}") from None
            inv.results = value
            inv.has_results = value is not None
        except Exception as exc:
            inv.error = (f"{type(exc).__name__}: {exc}".strip())[:500]
            last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            where = f" (at {last[0].name}:{last[0].lineno})" if last else ""
            context.logger.error("%s%s", inv.error, where)
        finally:
            lines = context.logger.lines
            span = inv.duration_s
            inv.logs = [
                [round((inv.start + span * (i + 1) / (len(lines) + 1)) * 1000.0, 3), line]
                for i, line in enumerate(lines)
            ]
            inv.done = True
            self.store.save(inv)

    async def drain(self) -> None:
        """Wait for handlers still running in the background (for tests and shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def invocation_wire(self, inv: InvocationRecord) -> dict[str, Any]:
        return inv.to_wire(self.now(), project_id=self.project_id, region=self.config.region)

    def function_wire(self, spec: FunctionSpec) -> dict[str, Any]:
        return {
            "id": spec.function_id,
            "projectId": self.project_id,
            "name": spec.name,
            "createdAt": iso(spec.created),
            "updatedAt": iso(spec.created),
        }

    def version_wire(self, spec: FunctionSpec) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": spec.version_id,
            "projectId": self.project_id,
            "functionId": spec.function_id,
            "functionBuildId": spec.build_id,
            "createdAt": iso(spec.created),
            "updatedAt": iso(spec.created),
        }
        if spec.session_create_params is not None:
            out["sessionCreateParams"] = spec.session_create_params
        if spec.params_schema is not None:
            out["userParamsSchema"] = spec.params_schema
        return out


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out

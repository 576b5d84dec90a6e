"""``AsyncClient`` (the implementation) and ``Client`` (the same surface, synchronous).

``Client`` owns an ``AsyncClient`` and runs each call on bbnb's private event loop
(``bbnb.wire._sync.run_sync``), so it works from scripts and from Jupyter cells alike,
and any httpx async transport (``MockTransport``, the emulator's ASGI transport)
serves both.  An ``AsyncClient`` used directly belongs to the loop that first
uses it.

Configuration is resolved by ``bbnb.client._config.resolve_config``: explicit arguments,
then ``BROWSERBASE_API_KEY`` / ``BROWSERBASE_BASE_URL``, else the embedded
emulator (with a notice that results are simulated).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import httpx
from pydantic import SecretStr

from bbnb._clock import Clock, SystemClock
from bbnb._exceptions import ConfigurationError
from bbnb.client._config import resolve_config
from bbnb.client._resources.agents import Agents, AsyncAgents
from bbnb.client._resources.contexts import AsyncContexts, Contexts
from bbnb.client._resources.functions import AsyncFunctions, Functions
from bbnb.client._resources.sessions import AsyncSessions, Sessions
from bbnb.runs.journal import key_hash
from bbnb.wire._http import HTTPCore
from bbnb.wire._polling import PollPolicy
from bbnb.wire._retry import RetryPolicy
from bbnb.wire._stats import RequestStats
from bbnb.wire._sync import run_sync

__all__ = ["AsyncClient", "Client"]


class AsyncClient:
    """The Browserbase API for ``await``-ing code.

    ``api_key`` / ``base_url``: see ``bbnb.client._config`` (no key and no URL starts the
    embedded emulator).  ``timeout`` is per HTTP request (seconds, or an
    ``httpx.Timeout``).  ``max_retries`` bounds retries of each request (creates
    are only retried when they provably never left this machine).  ``transport``
    replaces the network (tests, an in-process emulator).  ``clock`` drives every
    wait (a ``ManualClock`` makes them instant).  ``poll_interval`` is a
    ``PollPolicy`` or a fixed number of seconds for ``wait()``.  ``retry_policy``
    overrides ``max_retries`` with a full ``RetryPolicy``.  ``simulated`` overrides
    the detection of an emulator.
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        poll_interval: float | PollPolicy = PollPolicy(),  # noqa: B008 - frozen, immutable
        http2: bool = False,
        retry_policy: RetryPolicy | None = None,
        simulated: bool | None = None,
    ) -> None:
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise ConfigurationError(
                f"transport must be an httpx async transport (httpx.MockTransport, "
                f"httpx.ASGITransport, httpx.AsyncHTTPTransport), got {type(transport).__name__}"
            )
        config = resolve_config(
            api_key=api_key, base_url=base_url, has_transport=transport is not None
        )
        self._config = config
        self._simulated_override = simulated
        self._simulated_hint = config.simulated or getattr(transport, "simulated", False) is True
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.stats = RequestStats()
        self.poll_policy = PollPolicy.coerce(poll_interval)
        retry = retry_policy if retry_policy is not None else RetryPolicy(max_retries=max_retries)
        try:
            self._core = HTTPCore(
                base_url=config.base_url,
                api_key=config.api_key,
                timeout=timeout,
                retry=retry,
                clock=self.clock,
                stats=self.stats,
                transport=transport,
                http2=http2,
            )
        except ImportError as error:
            raise ConfigurationError(
                f"http2=True needs the h2 package ({error}); install httpx[http2] or drop http2"
            ) from error
        self.agents = AsyncAgents(self)
        self.functions = AsyncFunctions(self)
        self.sessions = AsyncSessions(self)
        self.contexts = AsyncContexts(self)

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._config.base_url

    @property
    def simulated(self) -> bool:
        """True when talking to an emulator: results are simulated, not real browsers.

        Known from the configuration (embedded emulator, loopback URL), from a
        transport with ``simulated = True``, or from the emulator's ``x-bb-emulator``
        response header; ``simulated=`` given to the constructor overrides all three.
        """
        if self._simulated_override is not None:
            return self._simulated_override
        return self._simulated_hint or self._core.saw_emulator

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry rules in force."""
        return self._core.retry

    @property
    def key_hash(self) -> str:
        """A one-way fingerprint of the API key: the journal records it, never the key."""
        return key_hash(self._config.api_key.get_secret_value())

    @property
    def is_closed(self) -> bool:
        """True once closed."""
        return self._core.is_closed

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._core.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self.base_url!r}, simulated={self.simulated!r})"


class Client:
    """The Browserbase API for ordinary (blocking) code and notebook cells.

    Takes the same arguments as ``AsyncClient``.  Each call blocks in short slices,
    so Ctrl-C interrupts it (a wait stops; the run goes on on the server).
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        poll_interval: float | PollPolicy = PollPolicy(),  # noqa: B008 - frozen, immutable
        http2: bool = False,
        retry_policy: RetryPolicy | None = None,
        simulated: bool | None = None,
    ) -> None:
        self._async = AsyncClient(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport,
            clock=clock,
            poll_interval=poll_interval,
            http2=http2,
            retry_policy=retry_policy,
            simulated=simulated,
        )
        self.agents = Agents(self._async.agents, self)
        self.functions = Functions(self._async.functions, self)
        self.sessions = Sessions(self._async.sessions)
        self.contexts = Contexts(self._async.contexts)

    @property
    def async_client(self) -> AsyncClient:
        """The ``AsyncClient`` behind this client; use it only on bbnb's private loop."""
        return self._async

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._async.base_url

    @property
    def simulated(self) -> bool:
        """True when talking to an emulator: results are simulated, not real browsers."""
        return self._async.simulated

    @property
    def clock(self) -> Clock:
        """The clock every wait runs on."""
        return self._async.clock

    @property
    def stats(self) -> RequestStats:
        """Request counters (by method and route)."""
        return self._async.stats

    @property
    def poll_policy(self) -> PollPolicy:
        """How ``wait()`` polls."""
        return self._async.poll_policy

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry rules in force."""
        return self._async.retry_policy

    @property
    def key_hash(self) -> str:
        """A one-way fingerprint of the API key: the journal records it, never the key."""
        return self._async.key_hash

    @property
    def is_closed(self) -> bool:
        """True once closed."""
        return self._async.is_closed

    def close(self) -> None:
        """Close the connection pool."""
        if not self._async.is_closed:
            run_sync(self._async.aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, simulated={self.simulated!r})"

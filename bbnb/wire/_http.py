"""The request core every resource goes through.

``HTTPCore`` builds each request (base URL, ``X-BB-API-Key``, ``Accept``,
``Content-Type``, ``User-Agent: bbnb/<version>``), sends it with retries according
to ``RetryPolicy`` and the request's kind, counts it in ``RequestStats``, turns
error answers into the exception tree of ``bbnb._exceptions`` and success bodies
into models.  All waiting goes through the injected ``Clock``.

The API key lives in a ``SecretStr`` and is put on each request as it is built;
it is never in a log line or an exception message (both are made from the
method, the route, the status and the server's error body only).  Redirects are
not followed, so the key never travels to another host.
"""

from __future__ import annotations

import importlib.metadata
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from bbnb._clock import Clock
from bbnb._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    CreateOutcomeUnknownError,
    RateLimitError,
    status_error_class,
)
from bbnb.models import ErrorBody
from bbnb.wire._retry import (
    NEVER_SENT_ERRORS,
    RequestKind,
    RetryPolicy,
    parse_retry_after,
    reports_rate_limits,
)
from bbnb.wire._stats import RequestStats

__all__ = ["HTTPCore", "user_agent"]

logger = logging.getLogger("bbnb")

M = TypeVar("M", bound=BaseModel)
Query = Mapping[str, str | int | bool | None]

_TEXT_SNIPPET = 300
#: Response header by which the bbnb emulator marks its (simulated) answers.
EMULATOR_HEADER = "x-bb-emulator"


def user_agent() -> str:
    """``bbnb/<installed version>``."""
    try:
        version = importlib.metadata.version("bbnb")
    except importlib.metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"bbnb/{version}"


def _path(template: str, path_params: Mapping[str, str]) -> str:
    """Fill a route template, URL-quoting each id so it stays one path segment."""
    if not path_params:
        return template
    quoted: dict[str, str] = {}
    for name, value in path_params.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        quoted[name] = quote(value, safe="")
    return template.format(**quoted)


def _query(params: Query | None) -> dict[str, str | int]:
    """Drop None values; booleans become ``true``/``false`` as the API expects."""
    out: dict[str, str | int] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


def _parse_error_body(response: httpx.Response) -> tuple[ErrorBody | None, str]:
    """The Browserbase error body if the server sent one, and the raw text either way."""
    text = response.text
    try:
        data = response.json()
    except ValueError:
        return None, text
    if isinstance(data, dict):
        try:
            return ErrorBody.from_wire(data), text
        except ValidationError:
            return None, text
    return None, text


class _RateLimitWait:
    """How often one create was answered 429, how long bbnb waited, and why it stopped."""

    def __init__(self) -> None:
        self.attempts = 0
        self.waited = 0.0
        self.note = ""


class HTTPCore:
    """Sends requests for one client; shared by every resource of that client."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: SecretStr,
        timeout: float | httpx.Timeout,
        retry: RetryPolicy,
        clock: Clock,
        stats: RequestStats,
        transport: httpx.AsyncBaseTransport | None = None,
        http2: bool = False,
    ) -> None:
        self.base_url = base_url
        self.retry = retry
        self.clock = clock
        self.stats = stats
        self._api_key = api_key
        #: Set once any answer carries the emulator's ``x-bb-emulator: 1`` header.
        self.saw_emulator = False
        if not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout, connect=min(5.0, timeout))
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            http2=http2,
            follow_redirects=False,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": user_agent(),
            },
        )

    def __repr__(self) -> str:
        return f"HTTPCore(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        """True once ``aclose()`` has run."""
        return self._http.is_closed

    def _build(
        self,
        method: str,
        path: str,
        params: Query | None,
        body: Any,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> httpx.Request:
        extra = {"X-BB-API-Key": self._api_key.get_secret_value(), **(headers or {})}
        if files is not None:
            # The client's default JSON Content-Type would win over httpx's multipart one;
            # name the boundary ourselves so the header and the body agree.
            extra["Content-Type"] = f"multipart/form-data; boundary={secrets.token_hex(16)}"
            return self._http.build_request(
                method, path, params=_query(params), files=files, headers=extra
            )
        return self._http.build_request(
            method, path, params=_query(params), json=body, headers=extra
        )

    def is_api_origin(self, url: str) -> bool:
        """True when ``url`` (absolute, or a path) is on this client's API host."""
        target = self._http.base_url.join(url)
        base = self._http.base_url
        return (target.scheme, target.host, target.port) == (base.scheme, base.host, base.port)

    async def fetch_media(self, url: str, *, accept: str = "*/*") -> httpx.Response:
        """GET a media file (playlist, video segment, MP4) by URL or path, with retries.

        The API key goes only to the API's own host: a signed CDN URL elsewhere gets a
        plain request, so the key never travels to another host.
        """
        target = self._http.base_url.join(url)
        headers = {"Accept": accept}
        if self.is_api_origin(url):
            headers["X-BB-API-Key"] = self._api_key.get_secret_value()
        label = "GET (media)"
        retries = 0
        while True:
            request = self._http.build_request("GET", target, headers=headers)
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                self.stats.record("GET", label, status=None)
                if retries < self.retry.max_retries and self.retry.should_retry_error(
                    "read", error
                ):
                    await self._pause("GET", target.path, retries, type(error).__name__, None)
                    retries += 1
                    continue
                raise self._transport_error(
                    error, request, "GET", target.path, "read", datetime.now(UTC), "", retries + 1
                ) from error
            self.stats.record("GET", label, status=response.status_code)
            if response.is_success:
                return response
            if retries < self.retry.max_retries and self.retry.should_retry_status(
                "read", response.status_code
            ):
                await self._pause("GET", target.path, retries, str(response.status_code), response)
                retries += 1
                continue
            raise self._status_error(response, "GET", target.path, "read", "")

    async def request(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Query | None = None,
        body: Any = None,
        kind: RequestKind = "read",
        find_hint: str = "",
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> httpx.Response:
        """Send one API call with retries; return the 2xx response or raise an ``APIError``.

        ``route`` is the template (``/v1/agents/runs/{run_id}``) used for counting;
        ``kind`` decides what may be retried (see ``bbnb.wire._retry``); ``find_hint``
        tells the user how to find the object if a create's outcome is unknown.
        """
        if self._http.is_closed:
            raise APIConnectionError(
                f"this client is closed; create a new one to call {method} {route}",
                method=method,
                path=route,
            )
        path = _path(route, path_params or {})
        retries = 0
        limited = _RateLimitWait()
        while True:
            request = self._build(method, path, params, body, headers, files)
            sent_at = datetime.now(UTC)
            started = self.clock.now()
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                self.stats.record(method, route, status=None)
                logger.debug("%s %s -> %s: %s", method, path, type(error).__name__, error)
                if retries < self.retry.max_retries and self.retry.should_retry_error(kind, error):
                    await self._pause(method, path, retries, type(error).__name__, None)
                    retries += 1
                    continue
                raise self._transport_error(
                    error, request, method, path, kind, sent_at, find_hint, retries + 1
                ) from error
            self.stats.record(method, route, status=response.status_code)
            if response.headers.get(EMULATOR_HEADER) == "1":
                self.saw_emulator = True
            logger.debug(
                "%s %s -> %d (%.0f ms)",
                method,
                path,
                response.status_code,
                (self.clock.now() - started) * 1000,
            )
            if response.is_success:
                return response
            if kind == "create" and response.status_code == 429:
                if await self._wait_out_rate_limit(method, path, limited, response):
                    continue
                raise self._status_error(response, method, path, kind, find_hint, limited.note)
            if retries < self.retry.max_retries and self.retry.should_retry_status(
                kind, response.status_code
            ):
                await self._pause(method, path, retries, str(response.status_code), response)
                retries += 1
                continue
            raise self._status_error(response, method, path, kind, find_hint)

    async def _pause(
        self,
        method: str,
        path: str,
        retries: int,
        reason: str,
        response: httpx.Response | None,
    ) -> None:
        delay = self.retry.delay(retries, response)
        self.stats.record_retry()
        logger.info(
            "retrying %s %s in %.2f s after %s (retry %d of %d)",
            method,
            path,
            delay,
            reason,
            retries + 1,
            self.retry.max_retries,
        )
        await self.clock.sleep(delay)

    async def _wait_out_rate_limit(
        self, method: str, path: str, limited: _RateLimitWait, response: httpx.Response
    ) -> bool:
        """Sleep before resending a create answered 429; False once the wait budget is spent."""
        limited.attempts += 1
        budget = self.retry.rate_limit_wait
        if reports_rate_limits():
            return False
        delay = self.retry.rate_limit_delay(limited.attempts - 1, response)
        if limited.waited + delay > budget:
            tries = f"{limited.attempts} attempt" + ("s" if limited.attempts != 1 else "")
            limited.note = (
                f".  Nothing was created.  bbnb tried {tries} and waited "
                f"{limited.waited:.1f} s in all; waiting {delay:.1f} s more would pass "
                f"RetryPolicy(rate_limit_wait={budget:g}).  Try again later, create fewer at "
                "once, or raise rate_limit_wait"
            )
            return False
        self.stats.record_retry()
        logger.info(
            "%s %s was rate-limited (429; nothing created); resending in %.2f s",
            method,
            path,
            delay,
        )
        await self.clock.sleep(delay)
        limited.waited += delay
        return True

    def _status_error(
        self,
        response: httpx.Response,
        method: str,
        path: str,
        kind: RequestKind,
        find_hint: str,
        note: str = "",
    ) -> APIStatusError:
        body, text = _parse_error_body(response)
        reason = body.error if body is not None else response.reason_phrase
        if body is not None:
            detail = body.message
        else:
            snippet = " ".join(text.split())[:_TEXT_SNIPPET]
            detail = snippet or "(no message)"
        message = f"{response.status_code} {reason}: {detail} ({method} {path}){note}"
        if kind == "create" and response.status_code >= 500:
            message += (
                ".  The server failed while handling a create; bbnb did not resend it. " + find_hint
            ).rstrip()
        cls = status_error_class(response.status_code)
        if cls is RateLimitError:
            return RateLimitError(
                message,
                method=method,
                path=path,
                response=response,
                body=body,
                text=text,
                retry_after=parse_retry_after(response.headers),
            )
        return cls(message, method=method, path=path, response=response, body=body, text=text)

    def _transport_error(
        self,
        error: httpx.TransportError,
        request: httpx.Request,
        method: str,
        path: str,
        kind: RequestKind,
        sent_at: datetime,
        find_hint: str,
        attempts: int,
    ) -> APIConnectionError:
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if kind == "create" and not isinstance(error, NEVER_SENT_ERRORS):
            stamp = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            return CreateOutcomeUnknownError(
                f"{method} {path} was sent at {stamp} but no answer came back ({what}). "
                "It may or may not have been created on the server; bbnb did NOT send it "
                f"again, to avoid a duplicate. {find_hint}".rstrip(),
                method=method,
                path=path,
                request=request,
                sent_at=sent_at,
                find_hint=find_hint,
            )
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        if isinstance(error, httpx.TimeoutException):
            return APITimeoutError(
                f"{method} {path} timed out ({what}) after {tries}",
                method=method,
                path=path,
                request=request,
            )
        return APIConnectionError(
            f"could not reach {self.base_url} for {method} {path} after {tries} ({what})",
            method=method,
            path=path,
            request=request,
        )

    async def request_model(
        self,
        model: type[M],
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str] | None = None,
        params: Query | None = None,
        body: Any = None,
        kind: RequestKind = "read",
        find_hint: str = "",
        headers: Mapping[str, str] | None = None,
        files: Any = None,
    ) -> M:
        """``request`` and parse the body into ``model``."""
        response = await self.request(
            method,
            route,
            path_params=path_params,
            params=params,
            body=body,
            kind=kind,
            find_hint=find_hint,
            headers=headers,
            files=files,
        )
        return parse_model(model, response, method, response.request.url.path)


def parse_model(model: type[M], response: httpx.Response, method: str, path: str) -> M:
    """Validate a success body into ``model``, or raise ``APIResponseValidationError``."""
    try:
        data = response.json()
    except ValueError:
        snippet = " ".join(response.text.split())[:_TEXT_SNIPPET]
        raise APIResponseValidationError(
            f"{method} {path} answered {response.status_code} with a body that is not JSON: "
            f"{snippet!r}",
            method=method,
            path=path,
            request=response.request,
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise APIResponseValidationError(
            f"{method} {path} answered {response.status_code} with a body that is not a valid "
            f"{model.__name__}: {error}",
            method=method,
            path=path,
            request=response.request,
        ) from None

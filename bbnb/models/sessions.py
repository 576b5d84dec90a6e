"""Browser sessions: the settings that create one, and the session Browserbase returns.

``SessionCreateParams`` serves two contexts.  Creating a session (``POST
/v1/sessions``) allows a timeout of 60..21600 s.  A function invocation's
``sessionCreateParams`` forbids ``region``, ``keepAlive`` and ``projectId``; its
reference page accepts the same timeouts, and a timeout over 900 s (a function runs
at most 15 minutes, says the Functions limits page) is sent with an ``ApiRuleWarning``.
Validate with ``context={"target": "function"}`` or call ``.for_function()``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from bbnb.models._base import RequestModel, ResponseModel, Secret
from bbnb.models._rules import warn_rule

__all__ = [
    "FUNCTION_TIMEOUT_RANGE",
    "SESSION_TIMEOUT_RANGE",
    "BrowserContext",
    "BrowserSettings",
    "BrowserbaseProxy",
    "ExternalProxy",
    "Geolocation",
    "NoneProxy",
    "OperatingSystem",
    "ProxyConfig",
    "ProxySettings",
    "Region",
    "Session",
    "SessionCreateParams",
    "SessionCreateResponse",
    "SessionReleaseParams",
    "SessionStatus",
    "Target",
    "Viewport",
]

Region = Literal["us-west-2", "us-east-1", "eu-central-1", "ap-southeast-1"]
OperatingSystem = Literal["windows", "mac", "linux", "mobile", "tablet"]
BrowserSize = Literal["small", "medium", "large"]
BrowserExtension = Literal["onepassword", "browser-events"]
SessionStatus = Literal["PENDING", "RUNNING", "ERROR", "TIMED_OUT", "COMPLETED"]
Target = Literal["session", "function"]

SESSION_TIMEOUT_RANGE = (60, 21_600)
FUNCTION_TIMEOUT_RANGE = (60, 900)
FUNCTION_FORBIDDEN_KEYS = ("region", "keep_alive", "project_id")

_DOMAIN = re.compile(
    r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$"
)
_LETTERS2 = re.compile(r"^[A-Za-z]{2}$")


class Viewport(RequestModel):
    """Browser window size in CSS pixels."""

    width: int = Field(ge=1, le=16_384)
    height: int = Field(ge=1, le=16_384)


class BrowserContext(RequestModel):
    """A saved browser context (cookies, storage) to reuse, and whether to save changes back."""

    id: str = Field(min_length=1)
    persist: bool | None = None


class BrowserSettings(RequestModel):
    """Everything about the browser itself. Omitted fields take Browserbase's defaults."""

    context: BrowserContext | None = None
    extension_id: str | None = Field(default=None, min_length=1)
    viewport: Viewport | None = None
    block_ads: bool | None = None
    solve_captchas: bool | None = None
    record_session: bool | None = None
    log_session: bool | None = None
    advanced_stealth: bool | None = None
    verified: bool | None = None
    captcha_image_selector: str | None = Field(default=None, min_length=1)
    captcha_input_selector: str | None = Field(default=None, min_length=1)
    os: OperatingSystem | None = None
    size: BrowserSize | None = None
    enable_native_select_polyfill: bool | None = None
    enable_pdf_viewer: bool | None = None
    headful: bool | None = None
    extensions: list[BrowserExtension] | None = None
    allowed_domains: list[str] | None = None
    ignore_certificate_errors: bool | None = None

    @field_validator("allowed_domains")
    @classmethod
    def _domains_are_bare_hosts(cls, value: list[str] | None) -> list[str] | None:
        for domain in value or []:
            if not _DOMAIN.match(domain):
                raise ValueError(
                    f"{domain!r} is not a domain name; give bare hosts such as "
                    "'example.com' or '*.example.com' (no scheme, path or port)"
                )
        return value


class Geolocation(RequestModel):
    """Where a Browserbase proxy should exit: a country code, and for the US a state.

    The invoke reference types both as strings; the OpenAPI document asks for
    2-letter codes and a state only with country US.  Other values are sent as
    given, with an ``ApiRuleWarning``.
    """

    country: str = Field(min_length=1)
    state: str | None = Field(default=None, min_length=1)
    city: str | None = Field(default=None, min_length=1)

    @field_validator("country", "state")
    @classmethod
    def _two_letters(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if _LETTERS2.match(value):
            return value.upper()
        example = "a US state code such as 'NY'"
        if info.field_name == "country":
            example = "a country code such as 'US' or 'DE'"
        warn_rule(
            f"proxy geolocation {info.field_name} {value!r} is not a 2-letter code ({example}; "
            "Browserbase's OpenAPI document asks for one); bbnb sends it as given, and "
            "Browserbase may refuse it",
            info.context,
        )
        return value

    @model_validator(mode="after")
    def _state_only_in_us(self, info: ValidationInfo) -> Geolocation:
        if self.state is not None and self.country != "US":
            warn_rule(
                f"proxy geolocation state {self.state!r} is set with country {self.country!r}; "
                "Browserbase documents a state only with country 'US' (drop the state or use "
                "a city); bbnb sends it as given",
                info.context,
            )
        return self


class BrowserbaseProxy(RequestModel):
    """Browserbase's managed proxy network, optionally geolocated."""

    type: Literal["browserbase"] = "browserbase"
    geolocation: Geolocation | None = None
    domain_pattern: str | None = Field(default=None, min_length=1)


class ExternalProxy(RequestModel):
    """Your own proxy server. The password is a secret: masked everywhere but the request."""

    type: Literal["external"] = "external"
    server: str = Field(min_length=1)
    username: str | None = None
    password: Secret | None = None
    domain_pattern: str | None = Field(default=None, min_length=1)

    @field_validator("server")
    @classmethod
    def _no_whitespace(cls, value: str) -> str:
        if value.strip() != value or " " in value:
            raise ValueError(f"proxy server must not contain spaces, got {value!r}")
        return value


class NoneProxy(RequestModel):
    """No proxy for the matching domains."""

    type: Literal["none"] = "none"
    domain_pattern: str | None = Field(default=None, min_length=1)


ProxyConfig = Annotated[BrowserbaseProxy | ExternalProxy | NoneProxy, Field(discriminator="type")]
"""One proxy rule; ``type`` chooses the variant."""

Proxies = bool | Annotated[list[ProxyConfig], Field(min_length=1)]
"""``True`` for Browserbase's default proxy, or a non-empty list of proxy rules."""


class ProxySettings(RequestModel):
    """Extra proxy settings: CA certificates (uploaded certificate ids) to trust."""

    ca_certificates: list[str] | None = None


def function_rule_errors(params: SessionCreateParams) -> list[str]:
    """What a function invocation does not allow in these session settings (empty if fine)."""
    return [
        f"{SessionCreateParams.model_fields[key].alias or key} is not allowed in a function invocation's "
        "sessionCreateParams (Functions run in us-west-2, without keepAlive, in the key's project)"
        for key in FUNCTION_FORBIDDEN_KEYS
        if getattr(params, key) is not None
    ]


def warn_function_timeout(params: SessionCreateParams, context: Any = None) -> None:
    """Warn (once) when a function's session timeout is longer than a function may run."""
    low, high = FUNCTION_TIMEOUT_RANGE
    if params.timeout is not None and params.timeout > high:
        warn_rule(
            f"sessionCreateParams.timeout={params.timeout} s: a function runs at most {high} s "
            "(15 minutes, Browserbase's Functions limits page), so the invocation will end by "
            f"then. bbnb sends the timeout as given; use {low}..{high} to silence this",
            context,
        )


def check_function_rules(params: SessionCreateParams, context: Any = None) -> None:
    """Raise ``ValueError`` for what a function forbids; warn for what it merely limits."""
    errors = function_rule_errors(params)
    if errors:
        raise ValueError("; ".join(errors))
    warn_function_timeout(params, context)


class SessionCreateParams(RequestModel):
    """Settings for a new browser session (``POST /v1/sessions``, or a function's session)."""

    project_id: str | None = Field(default=None, min_length=1)
    extension_id: str | None = Field(default=None, min_length=1)
    browser_settings: BrowserSettings | None = None
    timeout: int | None = Field(
        default=None, ge=SESSION_TIMEOUT_RANGE[0], le=SESSION_TIMEOUT_RANGE[1]
    )
    keep_alive: bool | None = None
    proxies: Proxies | None = None
    proxy_settings: ProxySettings | None = None
    region: Region | None = None
    user_metadata: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _target_rules(self, info: ValidationInfo) -> SessionCreateParams:
        context = info.context if isinstance(info.context, dict) else {}
        if context.get("target") == "function":
            check_function_rules(self, context)
        return self

    def for_function(self) -> SessionCreateParams:
        """This model re-validated under the function rules (raises ``ValidationError``)."""
        return SessionCreateParams.model_validate(self.to_wire(), context={"target": "function"})


class SessionReleaseParams(RequestModel):
    """Body of ``POST /v1/sessions/{id}`` that ends a session early."""

    status: Literal["REQUEST_RELEASE"] = "REQUEST_RELEASE"
    project_id: str | None = None


class Session(ResponseModel):
    """A browser session as Browserbase reports it."""

    id: str
    created_at: datetime
    updated_at: datetime
    project_id: str
    started_at: datetime
    expires_at: datetime
    status: SessionStatus
    proxy_bytes: int
    keep_alive: bool
    region: str
    ended_at: datetime | None = None
    context_id: str | None = None
    user_metadata: dict[str, Any] | None = None
    connect_url: str | None = None
    selenium_remote_url: str | None = None
    signing_key: Secret | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the session has ended (completed, errored or timed out)."""
        return self.status in ("ERROR", "TIMED_OUT", "COMPLETED")


class SessionCreateResponse(Session):
    """A new session, with the URLs to connect a browser driver to it."""

    connect_url: str
    selenium_remote_url: str
    signing_key: Secret

"""Where the client connects: explicit arguments, environment, emulator fallback."""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest

from bbnb._exceptions import ConfigurationError
from bbnb.client import _config
from bbnb.client._config import (
    DEFAULT_BASE_URL,
    EMULATOR_DEFAULT_API_KEY,
    is_loopback_url,
    resolve_config,
)

KEY = "bb_live_CONFIG_SECRET_999"


@pytest.mark.parametrize(
    ("api_key", "base_url", "env", "want_url", "want_key", "simulated"),
    [
        (KEY, None, {}, DEFAULT_BASE_URL, KEY, False),
        (None, None, {"BROWSERBASE_API_KEY": KEY}, DEFAULT_BASE_URL, KEY, False),
        (KEY, "https://bb.example/", {}, "https://bb.example", KEY, False),
        (
            None,
            None,
            {"BROWSERBASE_API_KEY": KEY, "BROWSERBASE_BASE_URL": "https://x.test"},
            "https://x.test",
            KEY,
            False,
        ),
        (
            "explicit",
            "https://arg.test",
            {"BROWSERBASE_API_KEY": KEY, "BROWSERBASE_BASE_URL": "https://env.test"},
            "https://arg.test",
            "explicit",
            False,
        ),
        (
            None,
            "http://127.0.0.1:8088",
            {},
            "http://127.0.0.1:8088",
            EMULATOR_DEFAULT_API_KEY,
            True,
        ),
        (
            None,
            None,
            {"BROWSERBASE_BASE_URL": "http://localhost:9/"},
            "http://localhost:9",
            EMULATOR_DEFAULT_API_KEY,
            True,
        ),
        (KEY, "http://[::1]:8088", {}, "http://[::1]:8088", KEY, True),
        (f"  {KEY}\n", None, {}, DEFAULT_BASE_URL, KEY, False),
    ],
    ids=[
        "key-arg-defaults-to-browserbase",
        "key-env",
        "both-args",
        "both-env",
        "args-beat-env",
        "loopback-url-without-key-is-emulator",
        "loopback-env-url",
        "ipv6-loopback-with-key-is-simulated",
        "pasted-key-is-stripped",
    ],
)
def test_resolution_table(
    api_key: str | None,
    base_url: str | None,
    env: dict[str, str],
    want_url: str,
    want_key: str,
    simulated: bool,
) -> None:
    """Each combination of key and URL resolves as the module docstring's table says."""
    config = resolve_config(api_key=api_key, base_url=base_url, environ=env)
    assert config.base_url == want_url
    assert config.api_key.get_secret_value() == want_key
    assert config.simulated is simulated


def test_empty_env_values_count_as_unset() -> None:
    """``BROWSERBASE_API_KEY=""`` is no key at all."""
    with pytest.raises(ConfigurationError, match="no API key"):
        resolve_config(
            api_key=None,
            base_url=None,
            environ={"BROWSERBASE_API_KEY": "", "BROWSERBASE_BASE_URL": "https://x.test"},
        )


def test_remote_url_without_key_is_refused() -> None:
    """A non-loopback server without a key is a configuration error that says what to set."""
    with pytest.raises(ConfigurationError, match="BROWSERBASE_API_KEY") as info:
        resolve_config(api_key=None, base_url="https://api.browserbase.com", environ={})
    assert "getpass" in str(info.value)


def test_transport_without_key_is_refused() -> None:
    """A test transport never silently falls back to the embedded emulator."""
    with pytest.raises(ConfigurationError, match="transport"):
        resolve_config(api_key=None, base_url=None, has_transport=True, environ={})


@pytest.mark.parametrize(
    "url",
    ["ftp://api.browserbase.com", "api.browserbase.com", "http://"],
    ids=["wrong-scheme", "no-scheme", "no-host"],
)
def test_bad_urls_are_refused(url: str) -> None:
    """A base URL must be http(s) with a host; the error quotes it."""
    with pytest.raises(ConfigurationError, match="http"):
        resolve_config(api_key=KEY, base_url=url, environ={})


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:1", True),
        ("http://127.8.9.1", True),
        ("http://localhost", True),
        ("http://[::1]:80", True),
        ("https://api.browserbase.com", False),
        ("http://10.0.0.1", False),
    ],
    ids=["v4", "v4-block", "localhost", "v6", "browserbase", "private-lan"],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    """Only this machine counts as loopback."""
    assert is_loopback_url(url) is loopback


class _FakeRunning:
    base_url = "http://127.0.0.1:49999"
    api_key = "bb_emulator_local_key"
    speed = 10.0


@pytest.fixture
def fake_emulator(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Replace bbnb.emulator with a module whose embedded() counts its calls."""
    calls: list[int] = []

    def embedded() -> Any:
        calls.append(1)
        return _FakeRunning()

    module = types.ModuleType("bbnb.emulator")
    module.embedded = embedded  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bbnb.emulator", module)
    monkeypatch.setattr("IPython.get_ipython", lambda: None)  # as in a script: no shell
    _config._reset_notice()
    yield calls
    _config._reset_notice()


def test_no_key_no_url_uses_embedded_emulator_and_says_so_once(
    fake_emulator: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    """The embedded emulator is started and a 'simulated' notice is printed once per process."""
    first = resolve_config(api_key=None, base_url=None, environ={})
    second = resolve_config(api_key=None, base_url=None, environ={})
    assert first.simulated and first.base_url == "http://127.0.0.1:49999"
    assert first.api_key.get_secret_value() == "bb_emulator_local_key"
    assert second.source == "embedded emulator"
    assert len(fake_emulator) == 2
    err = capsys.readouterr().err
    assert err.count("SIMULATED") == 1
    assert "BROWSERBASE_API_KEY" in err and "getpass" in err
    assert "no cloud" in err and "no browser" in err and "rule-based" in err


def test_missing_emulator_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the emulator cannot be imported, the error says to set a key."""
    monkeypatch.setitem(sys.modules, "bbnb.emulator", None)
    with pytest.raises(ConfigurationError, match="BROWSERBASE_API_KEY"):
        resolve_config(api_key=None, base_url=None, environ={})


def test_repr_hides_the_key() -> None:
    """The resolved settings never show the key."""
    config = resolve_config(api_key=KEY, base_url=None, environ={})
    assert KEY not in repr(config) and KEY not in str(config)


class _Kernel:
    """Stands for ipykernel's kernel: only the header of the message it handles matters."""

    def __init__(self) -> None:
        self.msg_type = "execute_request"

    def get_parent(self) -> dict[str, Any]:
        return {"header": {"msg_type": self.msg_type}}


class _Shell:
    """Stands for the kernel's shell."""

    def __init__(self) -> None:
        self.kernel = _Kernel()


def test_notice_waits_for_a_cell_when_a_widget_click_starts_the_emulator(
    fake_emulator: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made from a widget click (a comm message) the note is held back for the next cell."""
    shell = _Shell()
    shown: list[Any] = []
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    monkeypatch.setattr("IPython.display.display", lambda data, raw=False: shown.append(data))
    shell.kernel.msg_type = "comm_msg"
    resolve_config(api_key=None, base_url=None, environ={})
    assert shown == []
    shell.kernel.msg_type = "execute_request"
    resolve_config(api_key=None, base_url=None, environ={})
    resolve_config(api_key=None, base_url=None, environ={})
    assert len(shown) == 1
    assert "bbnb-simulated-notice" in shown[0]["text/html"]

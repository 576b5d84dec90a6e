"""Finding a Chromium, and what the emulator does without one."""

from __future__ import annotations

import argparse
import logging
import os
import stat
from pathlib import Path

import pytest

from bbnb.emulator import Emulator, EmulatorConfig
from bbnb.emulator.browsers import INSTALL_HINT, BrowserManager, find_browser
from bbnb.emulator.browsers import manager as manager_module
from bbnb.emulator.browsers.rules import RequestRules
from bbnb.emulator.cli import build_config, configure_parser
from bbnb.emulator.server import embedded_open_web
from bbnb.models import SessionCreateParams


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH and Playwright cache with no Chromium in them."""
    monkeypatch.delenv("BBNB_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "pw"))
    monkeypatch.setattr(manager_module, "_told_missing", False)


@pytest.fixture
def fake_chromium(tmp_path: Path) -> Path:
    """An executable file standing in for a browser binary."""
    path = tmp_path / "bin" / "chromium"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_none_found_gives_none(no_browser: None) -> None:
    """Without any Chromium, find_browser() is None."""
    assert find_browser() is None


def test_path_lookup_finds_chromium(no_browser: None, fake_chromium: Path) -> None:
    """A chromium on PATH is found."""
    assert find_browser() == str(fake_chromium)


def test_env_var_wins(
    no_browser: None, fake_chromium: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BBNB_CHROMIUM names the browser to use."""
    monkeypatch.setenv("PATH", os.defpath)
    monkeypatch.setenv("BBNB_CHROMIUM", str(fake_chromium))
    assert find_browser() == str(fake_chromium)


def test_a_wrong_env_var_is_a_clear_error(
    no_browser: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BBNB_CHROMIUM that is no executable says how to fix it."""
    monkeypatch.setenv("BBNB_CHROMIUM", "/nowhere/chromium")
    with pytest.raises(ValueError, match=r"BBNB_CHROMIUM.*unset it"):
        find_browser()


def test_playwright_cache_is_searched(no_browser: None, tmp_path: Path) -> None:
    """A Chromium installed by `playwright install` is found in its cache."""
    binary = tmp_path / "pw" / "chromium-1200" / "chrome-linux" / "chrome"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    assert find_browser() == str(binary)


def test_auto_without_browser_stays_simulated_and_says_so_once(
    no_browser: None, caplog: pytest.LogCaptureFixture
) -> None:
    """--browsers auto with no Chromium: simulated sessions, one note with install lines."""
    with caplog.at_level(logging.WARNING, logger="bbnb.emulator"):
        first = Emulator(EmulatorConfig(browsers="auto"))
        second = Emulator(EmulatorConfig(browsers="auto"))
    assert not first.live.real and not second.live.real
    notes = [r.getMessage() for r in caplog.records if "no Chromium found" in r.getMessage()]
    assert len(notes) == 1
    assert "apt-get install -y chromium" in notes[0]
    assert "playwright install chromium" in notes[0]


def test_real_without_browser_refuses(no_browser: None) -> None:
    """--browsers real with no Chromium is an error carrying the install lines."""
    with pytest.raises(ValueError, match="apt-get install"):
        BrowserManager(mode="real")


@pytest.mark.parametrize("mode", [pytest.param("fake", id="unknown"), pytest.param("", id="empty")])
def test_unknown_mode_is_refused(mode: str) -> None:
    """browsers= must be real, simulated or auto."""
    with pytest.raises(ValueError, match="real"):
        EmulatorConfig(browsers=mode)


def test_simulated_sessions_keep_the_old_connect_url() -> None:
    """Without a browser, connectUrl stays the documented invalid host."""
    emu = Emulator(EmulatorConfig(browsers="simulated"))
    wire = emu.session_wire(emu.create_session(SessionCreateParams()), urls=True)
    assert wire["connectUrl"].startswith("wss://connect.emulator.invalid/")
    assert INSTALL_HINT.startswith("no Chromium found")


@pytest.mark.parametrize(
    ("url", "blocked"),
    [
        pytest.param("http://shop.example.com/x", False, id="allowed-subdomain"),
        pytest.param("http://example.com/", False, id="allowed-domain"),
        pytest.param("http://127.0.0.1:8000/", True, id="ipv4-literal"),
        pytest.param("http://[::1]/", True, id="ipv6-literal"),
        pytest.param("http://evil.com/", True, id="other-host"),
        pytest.param("http://example.com.evil.com/", True, id="suffix-trick"),
        pytest.param("data:text/html,hi", False, id="data-url"),
        pytest.param("http://ads.doubleclick.net/p", True, id="ad-host"),
    ],
)
def test_request_rules(url: str, blocked: bool) -> None:
    """allowedDomains and blockAds verdicts, IP literals included."""
    rules = RequestRules(["*.example.com", "example.com"], block_ads=True)
    assert (rules.verdict(url) is not None) is blocked


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param([], ("auto", None, 1), id="defaults"),
        pytest.param(
            ["--browsers", "simulated", "--max-browsers", "3", "--warm-browsers", "0"],
            ("simulated", 3, 0),
            id="set",
        ),
        pytest.param(
            ["--browsers", "real", "--max-browsers", "none"], ("real", None, 1), id="none"
        ),
    ],
)
def test_cli_browser_options(argv: list[str], expected: tuple[str, int | None, int]) -> None:
    """--browsers, --max-browsers and --warm-browsers reach the config."""
    args = configure_parser(argparse.ArgumentParser()).parse_args(argv)
    config = build_config(args)
    assert (config.browsers, config.max_browsers, config.warm_browsers) == expected


@pytest.mark.parametrize(("argv", "open_web"), [([], False), (["--open-web"], True)])
def test_cli_open_web(argv: list[str], open_web: bool) -> None:
    """--open-web lets the agent and built-ins open any page; off by default."""
    args = configure_parser(argparse.ArgumentParser()).parse_args(argv)
    assert build_config(args).open_web is open_web


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", False), ("0", False), ("off", False), ("1", True), ("TRUE", True), ("yes", True)],
)
def test_embedded_open_web_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    """BBNB_OPEN_WEB switches the embedded emulator's open web on; unset means off."""
    monkeypatch.setenv("BBNB_OPEN_WEB", value)
    assert embedded_open_web() is expected


def test_embedded_open_web_rejects_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that is neither on nor off says which values work."""
    monkeypatch.setenv("BBNB_OPEN_WEB", "sure")
    with pytest.raises(ValueError, match="BBNB_OPEN_WEB='sure' is not one of"):
        embedded_open_web()


def test_cli_rejects_an_unknown_browsers_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """--browsers takes only real, simulated or auto."""
    with pytest.raises(SystemExit):
        configure_parser(argparse.ArgumentParser()).parse_args(["--browsers", "chrome"])
    assert "invalid choice" in capsys.readouterr().err

"""``bbnb demo``: agent tasks on the local web's shop pages, scored against its ground truth."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from bbnb.cli import DEMO_SCHEMA, accuracy, demo_inputs, expected_answers, main
from bbnb.emulator import EmulatorConfig, serve_in_thread
from bbnb.emulator.web import ground_truth

ACCURACY = re.compile(r"Accuracy against the local web's ground truth: (\d+)/(\d+) fields right")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key (the embedded emulator answers) and a journal in a temporary folder."""
    monkeypatch.delenv("BROWSERBASE_API_KEY", raising=False)
    monkeypatch.setenv("BBNB_HOME", str(tmp_path))


def test_inputs_are_product_pages_of_every_category() -> None:
    """The inputs are real product URLs of the seed's shop, spread over its categories."""
    inputs = demo_inputs(7, 8)
    truth = {p["url"]: p for p in ground_truth(7).products}
    assert list(inputs.columns) == ["category", "url"]
    assert all(url in truth for url in inputs["url"])
    assert set(inputs["category"]) == {c["name"] for c in ground_truth(7).categories}


def test_expected_answers_follow_the_schema() -> None:
    """The expected answer of a page has exactly the schema's fields, stock as a boolean."""
    product = ground_truth(7).products[0]
    (want,) = expected_answers(7, [product["url"]])
    assert set(want) == set(DEMO_SCHEMA["properties"])
    assert want["in_stock"] is (product["availability"] == "InStock")
    assert want["price"] == product["price"]


def test_accuracy_counts_wrong_and_unfinished_rows() -> None:
    """A wrong value and a row that did not complete both count as wrong fields."""
    urls = [p["url"] for p in ground_truth(7).products[:3]]
    want = expected_answers(7, urls)
    rows = [dict(w, _status="COMPLETED") for w in want]
    rows[0]["price"] = rows[0]["price"] + 1
    rows[2]["_status"] = "FAILED"
    right, n, misses = accuracy(pd.DataFrame(rows), want)
    assert n == 3
    assert right["price"] == 1
    assert right["name"] == 2
    assert sum(right.values()) == 15 - 1 - 5
    assert any(m.startswith("row 0 price") for m in misses)


def test_demo_without_a_browser_reads_pages_over_http(capsys: pytest.CaptureFixture[str]) -> None:
    """With real browsers off, the demo says it reads pages over HTTP and scores every field."""
    assert main(["demo", "-n", "4", "--browsers", "simulated", "--concurrency", "4"]) == 0
    out = capsys.readouterr().out
    assert "reads each page over HTTP" in out
    found = ACCURACY.search(out)
    assert found, out
    assert (int(found.group(1)), int(found.group(2))) == (20, 20)
    assert "name 4/4" in out
    assert "arctic-teapot" in out


@pytest.mark.e2e
def test_demo_with_a_real_browser(capsys: pytest.CaptureFixture[str]) -> None:
    """With real browsers on, the demo names the Chromium that loaded the pages."""
    assert main(["demo", "-n", "2", "--browsers", "real", "--concurrency", "2"]) == 0
    out = capsys.readouterr().out
    assert "a real headless Chromium" in out
    found = ACCURACY.search(out)
    assert found, out
    assert found.group(1) == found.group(2) == "10"


def test_demo_with_a_key_uses_public_pages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a key the demo names public pages (the cloud cannot reach the local web)."""
    config = EmulatorConfig(api_key="bb_live_demo_test", speed=200, sessions_per_minute=None)
    with serve_in_thread(config) as server:
        monkeypatch.setenv("BROWSERBASE_API_KEY", config.api_key)
        monkeypatch.setenv("BROWSERBASE_BASE_URL", server.base_url)
        assert main(["demo", "-n", "3"]) == 0
    out = capsys.readouterr().out
    assert "on public pages of books.toscrape.com" in out
    assert "Check any value on its page: https://books.toscrape.com/" in out
    assert "Accuracy against" not in out
    assert "travel_2" in out


def test_demo_says_when_no_chromium_is_found(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a machine with no Chromium, the default (auto) demo reads pages over HTTP and says so."""
    monkeypatch.setattr("bbnb.emulator.browsers.manager.find_browser", lambda: None)
    assert main(["demo", "-n", "2", "--browsers", "auto"]) == 0
    out = capsys.readouterr().out
    assert "no Chromium found: the agent reads each page over HTTP" in out
    assert "10/10 fields right" in out

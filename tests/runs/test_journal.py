"""The journal: write order, crash consistency, secrets never on disk, history."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bbnb.models import AgentRunCreateParams
from bbnb.runs._secrets import MASK, fill_variables, mask_request, scrub
from bbnb.runs.journal import Journal, decode_key, default_journal_path, encode_key

SECRET = "hunter2-very-secret"
PROXY_PASSWORD = "pr0xy-pa55word"


def _body() -> dict[str, object]:
    return AgentRunCreateParams.model_validate(
        {
            "task": "log in with %password% and read the balance",
            "variables": {"password": SECRET, "otp": {"value": "424242", "description": "code"}},
            "browser_settings": {
                "proxies": [
                    {"type": "external", "server": "http://p:1", "password": PROXY_PASSWORD}
                ]
            },
        }
    ).to_wire()


def test_default_path_follows_bbnb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BBNB_HOME selects the folder; otherwise ./.bbnb is used."""
    monkeypatch.setenv("BBNB_HOME", str(tmp_path / "home"))
    assert default_journal_path() == tmp_path / "home" / "journal.sqlite"
    monkeypatch.delenv("BBNB_HOME")
    monkeypatch.chdir(tmp_path)
    assert default_journal_path() == tmp_path / ".bbnb" / "journal.sqlite"


def test_mask_request_removes_variable_values_and_passwords() -> None:
    """Masking replaces every variable value and proxy password and reports them."""
    masked, secrets = mask_request(_body())
    assert set(secrets) == {SECRET, "424242", PROXY_PASSWORD}
    text = repr(masked)
    assert SECRET not in text and PROXY_PASSWORD not in text and "424242" not in text
    assert masked["variables"]["otp"] == {"value": MASK, "description": "code"}


def test_scrub_and_fill_variables_round_trip() -> None:
    """Scrubbing hides echoed secrets; filling puts named values back and names the rest."""
    assert scrub({"out": f"pw is {SECRET}!"}, [SECRET]) == {"out": f"pw is {MASK}!"}
    masked, _ = mask_request(_body())
    filled, missing = fill_variables(masked, {"password": SECRET})
    assert filled["variables"]["password"]["value"] == SECRET
    assert missing == ["otp", "proxy password"]


@pytest.mark.parametrize(
    "key", [0, "acme", ("a", 1), 2.5, None], ids=["int", "str", "tuple", "float", "none"]
)
def test_keys_round_trip(key: object) -> None:
    """Input keys survive the JSON encoding used by the journal."""
    assert decode_key(encode_key(key)) == key


def test_rows_follow_the_submission_lifecycle(tmp_path: Path) -> None:
    """queued -> submitting -> created -> done, each committed on its own."""
    journal = Journal(tmp_path / "j.sqlite")
    masked, _ = mask_request(_body())
    journal.start_batch("b1", kind="agent", total=2, options={"concurrency": 5})
    journal.record_queued("b1", [(0, "k0", masked, True), (1, "k1", masked, True)], kind="agent")
    journal.record_submitting("b1", 0, key="k0", kind="agent", request=masked, needs_secrets=True)
    rows = journal.runs("b1")
    assert [r.state for r in rows] == ["submitting", "queued"]
    journal.record_created("b1", 0, remote_id="run-1", status="PENDING")
    journal.record_final(
        "b1", 0, status="COMPLETED", run={"runId": "run-1", "result": {"ok": True}}, cause=None
    )
    row = journal.find_run("run-1")
    assert (
        row is not None
        and row.state == "done"
        and row.run == {"runId": "run-1", "result": {"ok": True}}
    )
    assert journal.claimed_ids(["run-1", "run-2"]) == {"run-1"}
    frame = journal.history()
    assert list(frame["state"]) == ["done", "queued"]
    assert frame.loc[0, "task"].startswith("log in with %password%")
    journal.close()


def test_raw_file_never_holds_secrets(tmp_path: Path) -> None:
    """The SQLite bytes (db and WAL) hold neither variable values nor passwords."""
    path = tmp_path / "j.sqlite"
    journal = Journal(path)
    masked, secrets = mask_request(_body())
    journal.start_batch("b", kind="agent", total=1)
    journal.record_queued("b", [(0, 0, masked, True)], kind="agent")
    journal.record_submitting("b", 0, key=0, kind="agent", request=masked, needs_secrets=True)
    journal.record_final(
        "b", 0, status="COMPLETED", run=scrub({"result": {"echo": SECRET}}, secrets), cause=None
    )
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in secrets:
        assert secret.encode() not in raw
    assert b"log in with" in raw  # the file really holds the rows
    journal.close()


_WRITER = """
import sys
from bbnb.runs.journal import Journal
path, batch = sys.argv[1], sys.argv[2]
journal = Journal(path)
journal.start_batch(batch, kind="agent", total=50)
for i in range(50):
    journal.record_queued(batch, [(i, i, {"task": f"t{i}"}, False)], kind="agent")
    journal.record_submitting(batch, i, key=i, kind="agent", request={}, needs_secrets=False)
    journal.record_created(batch, i, remote_id=f"{batch}-{i}", status="PENDING")
"""


@pytest.mark.slow
def test_two_processes_share_one_journal(tmp_path: Path) -> None:
    """WAL mode lets concurrent processes write without losing rows."""
    path = str(tmp_path / "shared.sqlite")
    Journal(path).close()
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, path, f"b{n}"]) for n in range(2)]
    assert [p.wait(60) for p in procs] == [0, 0]
    journal = Journal(path)
    assert len(journal.runs("b0")) == 50 and len(journal.runs("b1")) == 50
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    journal.close()

"""The README's two set-up commands, run exactly as written in a fresh clone and venv.

The commands are read from the README's first ``bash`` block, so this test follows the
README rather than a copy of it. The clone sits in a temporary ``work/main`` with
``work/shared`` beside it, the layout CI uses.

Recursion: the README's test command is the plain ``python -m pytest``. It is run with
``PYTEST_ADDOPTS='-m "not e2e and not slow and not stress"'`` in its environment (pytest
reads that variable itself), so the inner run executes the whole unit suite but not this
test nor the other slow end-to-end ones, and the command line stays exactly the README's.
``BBNB_INNER_TEST=1`` is also set so any test can tell it runs inside this one, and
``--basetemp`` keeps the inner run's temporary files inside this test's own folder.

The folder is made with ``tempfile`` rather than ``tmp_path``: pytest deletes old
``tmp_path`` roots when later sessions start (the inner run is one), and this test
outlives several of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INNER_MARKERS = "not e2e and not slow and not stress"
SUMMARY = re.compile(r"\b\d+ rows x \d+ columns\b")


def readme_commands(readme: str) -> tuple[str, str]:
    """The (main job, tests) commands from the README's first ``bash`` code block."""
    block = re.search(r"^```(?:bash|sh|shell)\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert block, "README.md has no ```bash block with the two set-up commands"
    lines = [
        ln.strip()
        for ln in block.group(1).splitlines()
        if ln.strip() and not ln.strip().startswith("#")
    ]
    assert len(lines) == 2, f"expected exactly two commands in the README block, got {lines}"
    tests = [ln for ln in lines if "pytest" in ln]
    assert len(tests) == 1, f"exactly one of the two commands must run pytest: {lines}"
    main = next(ln for ln in lines if ln is not tests[0])
    return main, tests[0]


def test_readme_commands_are_parsed_from_the_first_bash_block() -> None:
    """The parser picks the main job and the test command from a README-shaped text."""
    text = (
        "# x\n\n```python\nprint(1)\n```\n\n```bash\n"
        "pip install . && tool run   # the job\n\n"
        "pip install .[dev] && python -m pytest  # tests\n```\n"
    )
    assert readme_commands(text) == (
        "pip install . && tool run   # the job",
        "pip install .[dev] && python -m pytest  # tests",
    )


def test_repository_readme_has_the_two_commands() -> None:
    """README.md itself holds exactly two commands, one of them the pytest run."""
    main, tests = readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert "pytest" not in main and "pytest" in tests


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A temporary folder that no other pytest session's clean-up can remove."""
    path = Path(tempfile.mkdtemp(prefix="bbnb-readme-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _fresh_env(venv_dir: Path) -> dict[str, str]:
    """A new user's shell with the venv activated: no key, no dev paths, no bbnb state."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BROWSERBASE_", "BBNB_", "PYTHON", "VIRTUAL_ENV", "PYTEST_"))
    }
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["MPLBACKEND"] = "Agg"
    return env


def _run(
    command: str, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_readme_commands_in_a_fresh_clone(private_tmp: Path) -> None:
    """Both README commands exit 0 in a fresh clone + venv; the main job prints a summary."""
    tmp_path = private_tmp
    work = tmp_path / "work"
    clone = work / "main"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    shared = REPO.parent / "shared"
    if shared.is_dir():
        (work / "shared").symlink_to(shared, target_is_directory=True)
    main, tests = readme_commands((clone / "README.md").read_text(encoding="utf-8"))

    venv_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(venv_dir)
    env = _fresh_env(venv_dir)

    job = _run(main, clone, env, timeout=600)
    assert job.returncode == 0, (
        f"{main!r} exited {job.returncode}:\n{job.stdout[-4000:]}\n{job.stderr[-4000:]}"
    )
    assert SUMMARY.search(job.stdout), f"no 'N rows x M columns' summary in:\n{job.stdout[-4000:]}"
    assert "journal" in job.stdout.lower(), (
        f"the main job did not say where the journal is:\n{job.stdout[-2000:]}"
    )

    addopts = f'-m "{INNER_MARKERS}" --basetemp={tmp_path / "inner-tmp"}'
    inner_env = {**env, "PYTEST_ADDOPTS": addopts, "BBNB_INNER_TEST": "1"}
    suite = _run(tests, clone, inner_env, timeout=840)
    tail = suite.stdout[-4000:] + suite.stderr[-2000:]
    assert suite.returncode == 0, f"{tests!r} exited {suite.returncode}:\n{tail}"
    assert re.search(r"\d+ passed", suite.stdout), tail
    assert "test_readme_commands_in_a_fresh_clone" not in suite.stdout

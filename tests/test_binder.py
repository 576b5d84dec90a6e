"""The binder/ folder: repo2docker's rules (fast checks) and a real build in a fresh venv (e2e).

The rules live in ``scripts/check_binder.py``; these tests prove the checker passes on the
repository and catches each broken rule on a damaged copy. The e2e test builds the
environment the way repo2docker's pip build does (``binder/requirements.txt``, then
``binder/postBuild``, both from the repository root) in a fresh virtual environment, then
runs ``notebooks/01-quickstart.ipynb`` in a kernel of that environment.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_binder", REPO / "scripts/check_binder.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_binder"] = module
    spec.loader.exec_module(module)
    return module


check_binder = _load_checker()


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the files the checker reads: pyproject.toml and binder/."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(REPO / "binder", root / "binder")
    return root


def test_repository_binder_folder_follows_repo2docker_rules() -> None:
    """The real binder/ folder (with its git modes) breaks no rule."""
    problems = check_binder.check(REPO)
    assert problems == [], "\n".join(map(str, problems))


def test_checker_script_exit_code_and_steps() -> None:
    """The script exits 0 on the repository and lists requirements before postBuild."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts/check_binder.py"), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.index("binder/requirements.txt") < proc.stdout.index("binder/postBuild")


def _write(rel: str, text: str, mode: int = 0o644) -> Callable[[Path], None]:
    def damage(root: Path) -> None:
        path = root / rel
        path.write_text(text, encoding="utf-8", newline="")
        path.chmod(mode)

    return damage


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda root: (root / rel).unlink()


def _chmod(rel: str, mode: int) -> Callable[[Path], None]:
    return lambda root: (root / rel).chmod(mode)


POST_BUILD_OK = (
    '#!/bin/bash\nset -euo pipefail\ncd "$(dirname "$0")/.."\npython -m pip install ".[jupyter]"\n'
)

DAMAGES = [
    (
        "environment.yml beside runtime.txt",
        _write("binder/environment.yml", "name: x\n"),
        "runtime.txt beside environment.yml",
    ),
    (
        "postBuild without shebang",
        _write("binder/postBuild", POST_BUILD_OK.split("\n", 1)[1], 0o755),
        "shebang",
    ),
    (
        "postBuild without set -e",
        _write("binder/postBuild", POST_BUILD_OK.replace("set -euo pipefail\n", ""), 0o755),
        "first error",
    ),
    ("postBuild not executable", _chmod("binder/postBuild", 0o644), "chmod +x"),
    (
        "postBuild with CRLF",
        _write("binder/postBuild", POST_BUILD_OK.replace("\n", "\r\n"), 0o755),
        "CRLF",
    ),
    (
        "postBuild unknown extra",
        _write("binder/postBuild", POST_BUILD_OK.replace("jupyter]", "notebook]"), 0o755),
        "extra [notebook]",
    ),
    ("nothing installs the package", _remove("binder/postBuild"), "nothing installs the package"),
    ("requirements path leaves repo", _write("binder/requirements.txt", "-e ..\n"), "'..' leaves"),
    ("requirements invalid line", _write("binder/requirements.txt", "pandas>>2\n"), "is not valid"),
    (
        "misspelled file name",
        _write("binder/postbuild", POST_BUILD_OK, 0o755),
        "did you mean 'postBuild'",
    ),
    (
        "Dockerfile",
        _write("binder/Dockerfile", "FROM scratch\n"),
        "Dockerfile makes repo2docker ignore",
    ),
    ("root config ignored", _write("requirements.txt", "pandas\n"), "ignored by repo2docker"),
    (
        "runtime below requires-python",
        _write("binder/runtime.txt", "python-3.10\n"),
        "does not satisfy",
    ),
    ("runtime malformed", _write("binder/runtime.txt", "3.11\n"), "must read 'python-3.X'"),
    ("runtime missing", _remove("binder/runtime.txt"), "pin the Python version"),
]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [(d, e) for _, d, e in DAMAGES],
    ids=[name for name, _, _ in DAMAGES],
)
def test_checker_catches_each_broken_rule(
    repo_copy: Path, damage: Callable[[Path], None], expected: str
) -> None:
    """Each damaged copy yields a problem whose message names the rule."""
    assert check_binder.check(repo_copy) == []
    damage(repo_copy)
    messages = [str(p) for p in check_binder.check(repo_copy)]
    assert any(expected in m for m in messages), messages


def test_checker_reads_the_git_mode_of_post_build(repo_copy: Path) -> None:
    """An executable file committed as 100644 is caught: git, not the disk, reaches Binder."""
    git = ["git", "-C", str(repo_copy), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "config", "core.fileMode", "false"], check=True)
    subprocess.run([*git, "add", "binder", "pyproject.toml"], check=True)
    subprocess.run([*git, "update-index", "--chmod=-x", "binder/postBuild"], check=True)
    messages = [str(p) for p in check_binder.check(repo_copy)]
    assert any("git mode is 100644" in m for m in messages), messages


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A temporary folder that other pytest sessions' tmp_path clean-up cannot remove."""
    path = Path(tempfile.mkdtemp(prefix="bbnb-binder-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _clean_env(venv_dir: Path, home: Path) -> dict[str, str]:
    """The environment of a fresh Binder session: no key, no dev paths, the venv first."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BROWSERBASE_", "BBNB_", "PYTHON", "VIRTUAL_ENV", "JUPYTER_"))
    }
    env["PATH"] = f"{venv_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv_dir)
    env["BBNB_HOME"] = str(home / "bbnb-home")
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_binder_environment_runs_the_quickstart(
    private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh venv with only what binder/ declares imports bbnb and runs 01-quickstart."""
    tmp_path = private_tmp
    venv_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(venv_dir)
    env = _clean_env(venv_dir, tmp_path)
    for step in check_binder.build_steps(REPO):
        proc = subprocess.run(
            list(step.argv), cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, (
            f"{step.description} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )

    python = venv_dir / "bin" / "python"
    probe = subprocess.run(
        [str(python), "-c", "import bbnb, ipykernel, ipywidgets; print(bbnb.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).is_relative_to(venv_dir), (
        "bbnb was not installed into the venv"
    )

    kernels = tmp_path / "jupyter" / "kernels" / "binder-venv"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Binder venv",
        "language": "python",
        "env": {k: env[k] for k in ("PATH", "VIRTUAL_ENV", "BBNB_HOME", "MPLBACKEND")},
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    for key in list(os.environ):
        if key.startswith(("BROWSERBASE_", "PYTHONPATH")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    nb = nbformat.read(REPO / "notebooks" / "01-quickstart.ipynb", as_version=4)
    client = NotebookClient(
        nb,
        kernel_name="binder-venv",
        timeout=120,
        startup_timeout=90,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "SIMULATED" in outputs.upper(), "the quickstart did not say its results are simulated"
    assert sum(1 for c in nb.cells if c.cell_type == "code" and c.get("outputs")) >= 3

#!/usr/bin/env python3
"""Check the ``binder/`` folder against repo2docker's rules, and say how it builds.

Binder builds the notebook image with repo2docker. Its rules, as this project uses them:

* Once ``binder/`` (or ``.binder/``) exists, repo2docker reads configuration files from
  there only. Configuration files left in the repository root are silently ignored, and
  ``pyproject.toml``/``setup.py`` in the root are no longer installed: the package itself
  must be installed by a file in ``binder/`` (``postBuild`` or a local reference in
  ``requirements.txt``).
* ``requirements.txt`` is installed with ``pip install -r binder/requirements.txt`` run
  from the repository root, so local paths in it are relative to the root, not to
  ``binder/``.
* ``postBuild`` runs after the whole repository is in the image, from the repository
  root. It needs a shebang, must stop on the first error (``set -e``) and must be
  executable in git (mode 100755).
* ``runtime.txt`` (``python-X.Y``) pins the Python of a pip-based build; it must not sit
  beside ``environment.yml``, which pins Python itself.
* A ``Dockerfile`` replaces everything else, so this project does not use one.

Run ``python scripts/check_binder.py [REPO_ROOT]``: it prints every problem and exits 1,
or prints the build steps repo2docker would run and exits 0.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

__all__ = ["BuildStep", "Problem", "build_steps", "check", "main"]

# Every file name repo2docker reads from a binder folder (its buildpacks' binder_path calls).
KNOWN_FILES = frozenset(
    {
        "environment.yml",
        "requirements.txt",
        "requirements3.txt",
        "runtime.txt",
        "postBuild",
        "start",
        "apt.txt",
        "Pipfile",
        "Pipfile.lock",
        "pyproject.toml",
        "setup.py",
        "Project.toml",
        "JuliaProject.toml",
        "REQUIRE",
        "install.R",
        "DESCRIPTION",
        "default.nix",
        "manifest.scm",
        "channels.scm",
        "Dockerfile",
    }
)
# Files a person may keep in binder/ that repo2docker does not read.
ALLOWED_EXTRA = frozenset({"README.md"})
# Root files that would configure repo2docker if binder/ did not exist (packaging files
# such as pyproject.toml are expected in the root and are not reported).
ROOT_CONFIG_FILES = KNOWN_FILES - {"pyproject.toml", "setup.py", "Pipfile", "Pipfile.lock"}
RUNTIME_PATTERN = re.compile(r"^python-(?P<major>3)\.(?P<minor>\d+)$")
LOCAL_REQUIREMENT = re.compile(r"^(-e\s+|--editable\s+)?(\.|\.\.|/|\./|\.\./|file:)")
PIP_INSTALL_ROOT = re.compile(
    r"pip\s+install\b[^\n]*?(?:\s|^)(?:-e\s+)?[\"']?\.(?:\[(?P<extras>[\w,\s-]+)\])?[\"']?(?:\s|$)"
)


@dataclass(frozen=True)
class Problem:
    """One broken rule: the file it is about and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class BuildStep:
    """One command repo2docker runs for this repository, from the repository root."""

    description: str
    argv: tuple[str, ...]


def _binder_dir(root: Path) -> Path | None:
    for name in ("binder", ".binder"):
        if (root / name).is_dir():
            return root / name
    return None


def _git_mode(root: Path, path: Path) -> str | None:
    """The file's mode in git's index (``100755``), or None outside git or untracked."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-s", "--", str(path.relative_to(root))],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except OSError:
        return None
    return out.split()[0] if out.strip() else None


def _requires_python(root: Path) -> SpecifierSet | None:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    spec = data.get("project", {}).get("requires-python")
    return SpecifierSet(spec) if spec else None


def _extras(root: Path) -> set[str]:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return set()
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return set(data.get("project", {}).get("optional-dependencies", {}))


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _check_names(root: Path, binder: Path) -> list[Problem]:
    problems = []
    rel = binder.relative_to(root)
    for child in sorted(binder.iterdir()):
        name = child.name
        if name in KNOWN_FILES or name in ALLOWED_EXTRA:
            continue
        close = [k for k in KNOWN_FILES if k.lower() == name.lower()]
        hint = f" (did you mean {close[0]!r}? names are case-sensitive)" if close else ""
        problems.append(
            Problem(f"{rel}/{name}", f"repo2docker does not read this file{hint}; remove it")
        )
    if (binder / "Dockerfile").exists():
        problems.append(
            Problem(
                f"{rel}/Dockerfile",
                "a Dockerfile makes repo2docker ignore every other file; use "
                "requirements.txt and postBuild instead",
            )
        )
    for name in sorted(ROOT_CONFIG_FILES):
        if (root / name).exists():
            problems.append(
                Problem(
                    name,
                    f"ignored by repo2docker because {rel}/ exists; move it into {rel}/",
                )
            )
    if binder.name == "binder" and (root / ".binder").is_dir():
        problems.append(Problem(".binder", "both binder/ and .binder/ exist; keep one"))
    return problems


def _check_runtime(root: Path, binder: Path) -> list[Problem]:
    rel = binder.relative_to(root)
    runtime = binder / "runtime.txt"
    environment = binder / "environment.yml"
    problems = []
    if runtime.exists() and environment.exists():
        problems.append(
            Problem(
                f"{rel}/runtime.txt",
                "runtime.txt beside environment.yml is not allowed; pin python in "
                "environment.yml and delete runtime.txt",
            )
        )
    if not runtime.exists():
        if not environment.exists():
            problems.append(
                Problem(
                    f"{rel}/runtime.txt",
                    "missing: pin the Python version (e.g. 'python-3.11') or repo2docker "
                    "picks its own default",
                )
            )
        return problems
    text = runtime.read_text(encoding="utf-8").strip()
    match = RUNTIME_PATTERN.match(text)
    if match is None:
        problems.append(
            Problem(f"{rel}/runtime.txt", f"must read 'python-3.X' (one line), not {text!r}")
        )
        return problems
    version = Version(f"{match['major']}.{match['minor']}")
    required = _requires_python(root)
    if required is not None and version not in required:
        problems.append(
            Problem(
                f"{rel}/runtime.txt",
                f"python {version} does not satisfy the project's requires-python "
                f"{required}; raise it",
            )
        )
    return problems


def _check_requirements(root: Path, binder: Path) -> tuple[list[Problem], bool]:
    """Problems in requirements.txt, and whether it installs the repository itself."""
    rel = binder.relative_to(root)
    path = binder / "requirements.txt"
    if not path.exists():
        return [], False
    problems = []
    installs_root = False
    for line in _requirement_lines(path):
        if LOCAL_REQUIREMENT.match(line):
            target = re.sub(r"^(-e\s+|--editable\s+)", "", line).split("[", 1)[0]
            if target.startswith(".."):
                problems.append(
                    Problem(
                        f"{rel}/requirements.txt",
                        f"{line!r}: pip runs from the repository root, so '..' leaves the "
                        "repository; use '.' for the root",
                    )
                )
            elif target in {".", "./"}:
                installs_root = True
            continue
        if line.startswith("-"):
            continue  # pip options such as --extra-index-url
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            problems.append(Problem(f"{rel}/requirements.txt", f"{line!r} is not valid: {exc}"))
    return problems, installs_root


def _check_post_build(root: Path, binder: Path) -> tuple[list[Problem], bool]:
    """Problems in postBuild, and whether it installs the repository itself."""
    rel = binder.relative_to(root)
    path = binder / "postBuild"
    if not path.exists():
        return [], False
    where = f"{rel}/postBuild"
    raw = path.read_bytes()
    problems = []
    if b"\r\n" in raw:
        problems.append(Problem(where, "has CRLF line endings, which break the shebang"))
    text = raw.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if not lines or not lines[0].startswith("#!"):
        problems.append(Problem(where, "must start with a shebang such as '#!/bin/bash'"))
    elif "bash" not in lines[0] and not lines[0].rstrip().endswith("sh"):
        problems.append(Problem(where, f"shebang {lines[0]!r} is not a shell; use '#!/bin/bash'"))
    commands = [ln.strip() for ln in lines[1:] if ln.strip() and not ln.strip().startswith("#")]
    if not commands or not re.match(r"^set\s+-[a-z]*e", commands[0]):
        problems.append(
            Problem(
                where, "must stop on the first error: make 'set -euo pipefail' its first command"
            )
        )
    mode = _git_mode(root, path)
    if mode is not None and mode != "100755":
        problems.append(
            Problem(where, f"git mode is {mode}; run 'git update-index --chmod=+x {where}'")
        )
    if not path.stat().st_mode & 0o111:
        problems.append(Problem(where, f"not executable; run 'chmod +x {where}'"))
    installs_root = False
    extras = _extras(root)
    for match in PIP_INSTALL_ROOT.finditer(text):
        installs_root = True
        for extra in (match["extras"] or "").split(","):
            if extra.strip() and extras and extra.strip() not in extras:
                problems.append(
                    Problem(
                        where,
                        f"extra [{extra.strip()}] is not in pyproject.toml "
                        f"(known: {', '.join(sorted(extras))})",
                    )
                )
    if installs_root and "cd " not in text:
        problems.append(Problem(where, "installs '.' without a 'cd' to the repository root first"))
    return problems, installs_root


def check(root: Path) -> list[Problem]:
    """Every repo2docker rule the binder folder of ``root`` breaks (empty when fine)."""
    binder = _binder_dir(root)
    if binder is None:
        return [Problem("binder", "missing: create binder/ with the notebook environment")]
    problems = _check_names(root, binder)
    problems += _check_runtime(root, binder)
    req_problems, req_installs = _check_requirements(root, binder)
    post_problems, post_installs = _check_post_build(root, binder)
    problems += req_problems + post_problems
    if not (req_installs or post_installs) and (root / "pyproject.toml").exists():
        problems.append(
            Problem(
                binder.relative_to(root).as_posix(),
                "nothing installs the package itself (the root pyproject.toml is ignored "
                "once binder/ exists): add 'python -m pip install \".[jupyter]\"' to postBuild",
            )
        )
    return problems


def build_steps(root: Path) -> list[BuildStep]:
    """The commands repo2docker's pip build runs for ``root``, in order, from the root.

    ``pip`` and ``python`` mean the notebook environment's; the caller runs the steps
    with that environment first on ``PATH``.
    """
    binder = _binder_dir(root)
    if binder is None:
        raise FileNotFoundError(f"no binder/ folder in {root}")
    rel = binder.relative_to(root).as_posix()
    steps = []
    if (binder / "requirements.txt").exists():
        steps.append(
            BuildStep(
                "install binder/requirements.txt",
                ("python", "-m", "pip", "install", "-r", f"{rel}/requirements.txt"),
            )
        )
    if (binder / "postBuild").exists():
        steps.append(BuildStep("run binder/postBuild", (f"./{rel}/postBuild",)))
    return steps


def main(argv: list[str] | None = None) -> int:
    """Check the folder; print problems (exit 1) or the build steps (exit 0)."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else Path(__file__).resolve().parent.parent).resolve()
    problems = check(root)
    if problems:
        print(f"binder/ breaks {len(problems)} repo2docker rule(s):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("binder/ follows repo2docker's rules. repo2docker will run, from the repository root:")
    for step in build_steps(root):
        print(f"  {' '.join(step.argv)}    # {step.description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

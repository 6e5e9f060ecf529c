"""Render the cnibot Helm chart with a real Helm engine and hand back the parsed objects.

The engine is helm-python-sdk: Helm's own Go SDK (v4) in a shared library, so `helm template` and
`helm lint` semantics are Helm's, not an imitation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm  # a dev dependency: CI must render with a real Helm, never skip
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "deploy" / "helm" / "cnibot"
RELEASE = "cnibot"
NAMESPACE = "cnibot"


@dataclass(frozen=True)
class Rendered:
    """A chart render: the parsed objects, plus the raw text of every template (NOTES.txt included)."""

    objects: tuple[dict[str, Any], ...]
    texts: Mapping[str, str]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.objects)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [obj for obj in self.of_kind(kind) if name is None or obj["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
        return found[0]

    def kinds(self) -> list[str]:
        return sorted(obj["kind"] for obj in self.objects)

    @property
    def notes(self) -> str:
        return next(text for path, text in self.texts.items() if path.endswith("NOTES.txt"))


def _parse(texts: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
    objects: list[dict[str, Any]] = []
    for path, text in sorted(texts.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return tuple(objects)


class Chart:
    """One loaded chart; render it as many times as needed."""

    def __init__(self, path: Path = CHART_DIR) -> None:
        self._chart = helm.Chart.load(path)

    def close(self) -> None:
        self._chart.close()

    def render(self, values: Mapping[str, Any] | None = None) -> Rendered:
        texts = self._chart.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
        return Rendered(_parse(texts), texts)

    def render_error(self, values: Mapping[str, Any]) -> str:
        """The message Helm refuses these values with; fails the test if they render."""
        with pytest.raises(helm.HelmError) as caught:
            self._chart.render(dict(values), name=RELEASE, namespace=NAMESPACE, is_install=True)
        return str(caught.value)


def lint(values: Mapping[str, Any] | None = None) -> dict[str, Any]:
    report: dict[str, Any] = helm.lint(CHART_DIR, dict(values or {}), strict=True, namespace=NAMESPACE)
    return report


def container(deployment_or_job: Mapping[str, Any]) -> dict[str, Any]:
    containers = deployment_or_job["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    result: dict[str, Any] = containers[0]
    return result


def env(container_spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Environment variables by name (each the full EnvVar)."""
    return {var["name"]: var for var in container_spec.get("env", [])}

"""Fixtures: a store, a running fake API server over it, and the official client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from simulator.counters import RequestCounter
from simulator.faults import FaultPlan
from simulator.kube import KubeApiServer, KubeStore


@pytest.fixture
def store() -> KubeStore:
    return KubeStore()


@pytest.fixture
def faults() -> FaultPlan:
    return FaultPlan()


@pytest.fixture
def counter() -> RequestCounter:
    return RequestCounter()


@pytest.fixture
def server(store: KubeStore, faults: FaultPlan, counter: RequestCounter) -> Iterator[KubeApiServer]:
    srv = KubeApiServer(store, faults=faults, counter=counter)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def kubeconfig(server: KubeApiServer, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    server.write_kubeconfig(path)
    return path


@pytest.fixture
def api_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    yield api
    api.close()

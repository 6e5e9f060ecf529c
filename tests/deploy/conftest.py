from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.deploy.chart import Chart


@pytest.fixture(scope="session")
def chart() -> Iterator[Chart]:
    # Imported here so that the IAM, Slack and Dockerfile tests run even without a Helm engine.
    from tests.deploy.chart import Chart

    loaded = Chart()
    yield loaded
    loaded.close()

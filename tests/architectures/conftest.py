"""The shipped manifests, loaded once per session (tests/training/factories.py holds the ML factories)."""

from __future__ import annotations

import pytest

from modelyard.architectures.manifest import ArchitectureManifest
from tests.training.factories import SHIPPED


@pytest.fixture(scope="session")
def shipped_manifests() -> dict[str, ArchitectureManifest]:
    return SHIPPED

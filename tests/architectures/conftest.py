"""Fixtures for the ML-core tests; the factories themselves live in ml_factories.py."""

from __future__ import annotations

import pytest
from ml_factories import SHIPPED

from modelyard.architectures.manifest import ArchitectureManifest


@pytest.fixture(scope="session")
def shipped_manifests() -> dict[str, ArchitectureManifest]:
    return SHIPPED

"""Which databases this test run covers (MODELYARD_TEST_DATABASES), and how a test picks one of them."""

from __future__ import annotations

import os

import pytest

DATABASES = os.environ.get("MODELYARD_TEST_DATABASES", "sqlite,postgresql").split(",")


def on_one_database(preferred: str) -> pytest.MarkDecorator:
    """Run a long end-to-end test (minutes of training) on one database instead of each.

    The database layer is tested on both by every other test; the few whole-life tests that train, export and
    evaluate are spread over the two instead, so that the suite stays within its time. `preferred` is used when
    this run tests it (MODELYARD_TEST_DATABASES), else the first database that it does test.
    """
    chosen = preferred if preferred in DATABASES else DATABASES[0]
    return pytest.mark.parametrize("database_url", [chosen], indirect=True)

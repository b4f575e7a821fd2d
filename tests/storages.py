"""Which artifact stores this test run covers (MODELYARD_TEST_STORAGES), and how a test asks for each of them.

Every test runs on the local data directory; the tests marked with `on_every_store()` (the storage contract in
tests/storage/test_stores.py and a few dataset, training, export and registry tests that move files) run on a
real S3 server too.
"""

from __future__ import annotations

import os

import pytest

from modelyard.storage.base import ArtifactStore
from modelyard.storage.local import LocalArtifactStore

STORAGES = os.environ.get("MODELYARD_TEST_STORAGES", "local,s3").split(",")


def on_every_store() -> pytest.MarkDecorator:
    """Run the test once per store of this run: the data directory and an S3 bucket."""
    return pytest.mark.parametrize("storage", STORAGES, indirect=True)


def on_the_bucket() -> pytest.MarkDecorator:
    """Run the test on an S3 bucket when this run covers S3 (else on the data directory): for the tests whose
    server-side process must reach the files through the server's store, not the data directory."""
    return pytest.mark.parametrize("storage", ["s3" if "s3" in STORAGES else "local"], indirect=True)


def local(store: ArtifactStore) -> LocalArtifactStore:
    """`store` as the data directory's store, for the tests of its layout (hard links, blobs, folders)."""
    assert isinstance(store, LocalArtifactStore), "this test checks the data directory's layout"
    return store

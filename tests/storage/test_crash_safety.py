"""A server killed (SIGKILL) at each step of a write leaves, once restarted, exactly what its database records:
no file without a record, no record without its bytes, no temp file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.datasets.models import DatasetItem
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from tests.databases import on_one_database
from tests.datasets.factories import image_bytes
from tests.storage.crash import assert_data_dir_is_what_the_database_records, in_background, restart, server_paused_at

IMPORTED = 250  # two batches of the import: 200, then 50
UPLOADED = 8


def _items(settings: Settings) -> int:
    context = AppContext(settings)
    try:
        with transaction(context.db.read_sessions) as session:
            return session.scalar(select(func.count()).select_from(DatasetItem)) or 0
    finally:
        context.close()


def _imagenet_folder(root: Path, count: int) -> Path:
    for index in range(count):
        folder = root / "train" / ("cat" if index % 2 else "dog")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{index}.png").write_bytes(image_bytes(index))
    return root


@on_one_database("postgresql")  # each crash test starts a server: spread over the two databases
@pytest.mark.parametrize(
    ("point", "items_kept"),
    [
        ("files.staged:2", 200),  # the first batch committed, the second staged and not committed
        ("files.publish.half:2", IMPORTED),  # the second batch committed, half of its files linked
    ],
)
def test_import_killed_mid_way_leaves_only_recorded_files(
    point: str, items_kept: int, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _imagenet_folder(tmp_path / "imagenet", IMPORTED)
    with server_paused_at(point, settings, tmp_path, monkeypatch) as (server, kill_when_paused), \
            Client(server.url) as remote:
        remote.datasets.import_(source, "imagenet", new_project="p", task_type="multiclass_classification")
        kill_when_paused()
    report = restart(settings)
    records = assert_data_dir_is_what_the_database_records(settings)
    assert _items(settings) == items_kept
    assert sum(key.endswith(".thumb.jpg") for key in records) == items_kept
    assert report.temp_removed >= 1  # the job's folder: the unpacked archive, and the staged batch if any
    assert (report.keys_published > 0) == point.startswith("files.publish")


@on_one_database("sqlite")
def test_image_upload_killed_mid_way_leaves_only_recorded_files(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while storing the images: the received files, the unpacked ones and the staged ones are all
    temp files of a dead process, and nothing was committed. (Committed uploads that were not linked yet are
    finished like the import's and the registry's.)"""
    images = []
    for index in range(UPLOADED):
        images.append(tmp_path / f"{index}.png")
        images[-1].write_bytes(image_bytes(index))
    with server_paused_at("files.staged:5", settings, tmp_path, monkeypatch) as (server, kill_when_paused), \
            Client(server.url) as remote:
        remote.projects.create("p", "multiclass_classification")
        upload = in_background(lambda: remote.datasets.upload("p", images))
        kill_when_paused()
        upload.join()
    report = restart(settings)
    assert report.temp_removed == 1  # the dead server's folder
    assert assert_data_dir_is_what_the_database_records(settings) == {}
    assert _items(settings) == 0
    with Client(settings=settings) as local:
        assert local.datasets.upload("p", images[:2]).created  # the same images can be stored again


@on_one_database("sqlite")
@pytest.mark.parametrize(
    ("point", "stored"),
    [
        ("files.streaming:2", False),  # the bytes half written to the temp file
        ("files.publish", True),  # committed, not yet linked under its key
    ],
)
def test_registry_upload_killed_mid_way_leaves_only_recorded_files(
    point: str, stored: bool, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "model.bin"
    weights.write_bytes(bytes(range(256)) * 12_000)  # about 3 MB: three chunks
    with server_paused_at(point, settings, tmp_path, monkeypatch) as (server, kill_when_paused), \
            Client(server.url) as remote:
        remote.registry.register("m", create_model=True)
        upload = in_background(lambda: remote.registry.upload("m/1", weights))
        kill_when_paused()
        upload.join()
    restart(settings)
    records = assert_data_dir_is_what_the_database_records(settings)
    assert len(records) == int(stored)
    with Client(settings=settings) as local:
        files = local.registry.files("m/1")
        assert [file.name for file in files] == (["model.bin"] if stored else [])
        if stored:
            back = local.registry.download_file("m/1", "model.bin", tmp_path / "back.bin")
            assert back.read_bytes() == weights.read_bytes()

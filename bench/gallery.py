"""A project with a large dataset, bulk-inserted, for the gallery's benchmark: one real image and thumbnail
uploaded through the API, then rows that share its files (the gallery reads rows and thumbnails, nothing else)."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from PIL import Image
from sqlalchemy import Table, insert, select

from modelyard.config import Settings
from modelyard.datasets.models import DatasetItem
from modelyard.db.engine import make_engine
from modelyard.sdk import Client

BATCH = 10_000


def _png(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (seed % 256, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def fill_gallery(settings: Settings, project: str, items: int) -> None:
    """A multiclass project `project` with `items` items, uploaded one second apart, named item-000000.png..."""
    with Client(settings=settings) as client:
        client.projects.create(project, "multiclass_classification", labels=["cat", "dog"])
        response = client.request(
            "POST", f"/projects/{project}/dataset/items", files=[("files", ("item-000000.png", _png(0)))]
        )
        first = response.json()["created"][0]
    engine = make_engine(settings)
    table = cast(Table, DatasetItem.__table__)
    with engine.connect() as connection:
        template = dict(connection.execute(select(table).where(table.c.id == first["id"])).mappings().one())
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for index in range(1, items):
        at = start + timedelta(seconds=index)
        rows.append({
            **template, "id": f"{index:032x}", "name": f"item-{index:06d}.png",
            "sha256": hashlib.sha256(index.to_bytes(8, "big")).hexdigest(), "uploaded_at": at, "updated_at": at,
        })  # fmt: skip
        if len(rows) == BATCH:
            with engine.begin() as connection:
                connection.execute(insert(table), rows)
            rows.clear()
    if rows:
        with engine.begin() as connection:
            connection.execute(insert(table), rows)
    engine.dispose()

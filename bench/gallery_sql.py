"""The queries behind the gallery's first paint and its cursors, on a project of 100,000 items: each one's plan
(EXPLAIN QUERY PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL) and its median time over a few runs, as the
repository runs them.

    python bench/gallery_sql.py                       # SQLite in a temporary folder
    python bench/gallery_sql.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/gallerybench
    python bench/gallery_sql.py --revision 0016_job_metrics   # the schema before the gallery's indexes

The database is migrated to `--revision` (default: the head) after it is filled, so the same rows are measured
with and without an index. A PostgreSQL database is emptied first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from gallery import fill_gallery
from sqlalchemy import Engine, Select, text
from sqlalchemy.orm import Session

from modelyard.config import Settings
from modelyard.datasets.models import DatasetItem
from modelyard.datasets.repository import SORT_COLUMNS, ItemCriteria, ItemRepository
from modelyard.db import migrate
from modelyard.db.engine import make_engine
from modelyard.kit.pagination import keyset_page

PROJECT = "gallery"
ITEMS = 100_000
PAGE = 100


def _plan(session: Session, statement: Select[Any]) -> list[str]:
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    if session.get_bind().dialect.name == "sqlite":
        return [str(row[-1]) for row in session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    return [str(row[0]) for row in session.execute(text(f"EXPLAIN ANALYZE {compiled}"))]


def _median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # the first run reads the pages into the cache
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(engine: Engine, project_id: str, runs: int) -> None:
    any_item = ItemCriteria()
    with Session(engine) as session:
        items = ItemRepository(session)
        matching = items.matching(project_id, any_item)
        checks: dict[str, tuple[Callable[[], object], Select[Any] | None]] = {}
        for sort in ("uploaded_at", "name"):
            first = keyset_page(matching, SORT_COLUMNS[sort], DatasetItem.id, order="asc", limit=PAGE + 1, cursor=None)
            checks[f"first page by {sort}"] = (
                partial(items.page, project_id, any_item, sort=sort, order="asc", limit=PAGE + 1, cursor=None),
                first,
            )
            checks[f"cursors by {sort} (page ends)"] = (
                partial(items.page_ends, project_id, any_item, sort=sort, order="asc", page_size=PAGE),
                None,
            )
        checks["count"] = (lambda: items.count(project_id, any_item), None)
        checks["counts per subset"] = (lambda: items.subset_counts(project_id, any_item), None)
        label_ids = list(session.scalars(text("SELECT id FROM labels WHERE project_id = :project").bindparams(
            project=project_id)))  # fmt: skip
        checks["counts per label"] = (lambda: items.label_counts(project_id, any_item, label_ids), None)
        for name, (run, statement) in checks.items():
            print(f"{name}: median {_median_ms(run, runs):.1f} ms of {runs}")
            if statement is not None:
                for line in _plan(session, statement):
                    print(f"    {line}")
        for sort in ("uploaded_at", "name"):
            print(f"plan of the cursors by {sort}:")
            column = SORT_COLUMNS[sort]
            numbered = matching.with_only_columns(column, DatasetItem.id).order_by(column, DatasetItem.id)
            for line in _plan(session, numbered):
                print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--revision", default="head", help="Migrate to this revision after filling.")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-gallery-sql-") as folder:
        settings = Settings(data_dir=Path(folder), database_url=args.database_url)
        engine = make_engine(settings)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        fill_gallery(settings, PROJECT, ITEMS)
        if args.revision != "head":
            command.downgrade(migrate.alembic_config(engine), args.revision)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
            named = text("SELECT id FROM projects WHERE name = :name").bindparams(name=PROJECT)
            project_id = connection.execute(named).scalar_one()
        one, five, _ = os.getloadavg()
        print(f"{engine.dialect.name}, schema at {migrate.current_revision(engine)}; load average {one:.2f} (1 min), "
              f"{five:.2f} (5 min) on {os.cpu_count()} cores")  # fmt: skip
        measure(engine, project_id, args.runs)
        engine.dispose()


if __name__ == "__main__":
    main()

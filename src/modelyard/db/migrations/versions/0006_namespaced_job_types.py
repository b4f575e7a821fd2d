"""Job types named by their domain: `train` becomes `revision.train`, and so on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENAMED = {
    "train": "revision.train",
    "export": "revision.export",
    "evaluate": "revision.evaluate",
    "optimize": "revision.optimize",
}

jobs = sa.table("jobs", sa.column("type", sa.String()))


def _rename(names: dict[str, str]) -> None:
    for old, new in names.items():
        op.execute(jobs.update().where(jobs.c.type == old).values(type=new))


def upgrade() -> None:
    _rename(RENAMED)


def downgrade() -> None:
    _rename({new: old for old, new in RENAMED.items()})

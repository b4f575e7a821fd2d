"""Hyperparameter studies: a job's parent (the tune job of a trial) and each study's journal.

Revision ID: 0015_tune
Revises: 0014_dataset_analysis
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_tune"
down_revision = "0014_dataset_analysis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(32), nullable=True))
        batch.create_foreign_key(op.f("fk_jobs_parent_id_jobs"), "jobs", ["parent_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_jobs_parent_id", ["parent_id"])
    op.create_table(
        "study_journal",
        sa.Column("study_job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_job_id"], ["jobs.id"], name=op.f("fk_study_journal_study_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("study_job_id", "seq", name=op.f("pk_study_journal")),
    )


def downgrade() -> None:
    op.drop_table("study_journal")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_parent_id")
        batch.drop_constraint(op.f("fk_jobs_parent_id_jobs"), type_="foreignkey")
        batch.drop_column("parent_id")

"""Users and hashed API tokens; registered models get an owning project (null: global).

Revision ID: 0007_sec_tokens
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0007_sec_tokens"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("project_ids", JSONType, nullable=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_api_tokens_secret_sha256")),
    )
    op.create_index("ix_api_tokens_revoked_at", "api_tokens", ["revoked_at"])
    # No foreign key: adding one would rebuild the table on SQLite; the project id is a visibility mark.
    op.add_column("registered_models", sa.Column("project_id", sa.String(32), nullable=True))
    op.create_index("ix_registered_models_project_id", "registered_models", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_registered_models_project_id", table_name="registered_models")
    with op.batch_alter_table("registered_models") as batch:
        batch.drop_column("project_id")
    op.drop_index("ix_api_tokens_revoked_at", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("users")

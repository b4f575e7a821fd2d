"""Sign-in sessions of the web UI: a token row of kind `session`, made from the token a person signed in with.

Revision ID: 0008_ui_sessions
Revises: 0007_sec_tokens
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ui_sessions"
down_revision = "0007_sec_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("kind", sa.String(16), nullable=False, server_default="api"))
    # No foreign key: adding one would rebuild the table on SQLite; tokens are revoked, never deleted.
    op.add_column("api_tokens", sa.Column("parent_id", sa.String(32), nullable=True))
    op.create_index("ix_api_tokens_parent_id", "api_tokens", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_api_tokens_parent_id", table_name="api_tokens")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("parent_id")
        batch.drop_column("kind")

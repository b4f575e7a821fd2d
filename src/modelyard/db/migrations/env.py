"""Alembic environment: runs with the engine that modelyard passes in `config.attributes`."""

from __future__ import annotations

from alembic import context

from modelyard.db.models import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        # Batch migrations recreate tables; with foreign keys on, dropping a parent table would
        # cascade-delete its children's rows. The pragma only takes effect outside a transaction.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if connection.dialect.name == "sqlite":
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")

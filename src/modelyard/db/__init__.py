"""Database layer: engine, sessions, declarative base and Alembic migrations."""

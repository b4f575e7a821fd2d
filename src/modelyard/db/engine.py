"""Engines and sessions. SQLite gets WAL, foreign keys and a busy timeout on every connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from modelyard.config import Settings

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        writers = threading.Lock()
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
                "factory": _writer_queue_connection(writers),
            },
        )
        event.listen(engine, "connect", _sqlite_configuration(settings))
        event.listen(engine, "begin", _begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_configuration(settings: Settings) -> Callable[[Any, Any], None]:
    pragmas = (
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous=NORMAL",
        # Pages come from the OS page cache through the map (shared by every connection, no read() per page);
        # the per-connection cache holds what lies beyond it. The defaults (2 MiB, no map) made a search that
        # walks a thousand versions read them from disk pages again on every call.
        f"PRAGMA mmap_size={settings.sqlite_mmap_mb * 1024 * 1024}",
        f"PRAGMA cache_size=-{settings.sqlite_cache_mb * 1024}",
    )

    def configure(dbapi_connection: Any, _record: Any) -> None:
        # Transactions are begun explicitly in _begin_immediate; pysqlite's own handling is turned off.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    return configure


def _begin_immediate(connection: Any) -> None:
    # A writing transaction takes the write lock up front (BEGIN IMMEDIATE), so concurrent writers
    # wait on busy_timeout instead of failing with "database is locked" when a deferred read
    # transaction tries to upgrade. Readers begin deferred and never block each other under WAL.
    if connection.get_execution_options().get(READ_ONLY_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        dbapi_connection = connection.connection.dbapi_connection
        dbapi_connection.wait_for_writers()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.release_writers()
            raise


def _writer_queue_connection(writers: threading.Lock) -> type[sqlite3.Connection]:
    """A sqlite3 connection class whose writing transactions queue on one lock per engine.

    SQLite's busy handler polls for the write lock with sleeps that grow to 100 ms, so under
    concurrent writes the lock sits free while waiters sleep. Writers of this process wait on a
    lock that wakes the next one the moment the previous one commits or rolls back; busy_timeout
    still arbitrates between processes. The lock is released by whichever thread ends the transaction (commits
    run on their own worker threads), so it is a plain Lock, not an RLock.
    """

    class WriterQueueConnection(sqlite3.Connection):
        holds_writer_lock = False

        def wait_for_writers(self) -> None:
            # After the busy timeout, go on and let SQLite's own lock decide, as without the queue.
            self.holds_writer_lock = writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)

        def release_writers(self) -> None:
            if self.holds_writer_lock:
                self.holds_writer_lock = False
                writers.release()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self.release_writers()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self.release_writers()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self.release_writers()

    return WriterQueueConnection


READ_ONLY_OPTION = "modelyard_read_only"


class Database:
    """The engine with two session factories: one for units of work that write, one for reads."""

    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            bind=self.engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read_connection(self) -> Iterator[Any]:
        """A pooled DB-API connection inside one read transaction, rolled back and returned at the end: for reads
        that write their own SQL. The isolation is a read session's (SQLite: one snapshot from the first read;
        PostgreSQL: read committed). A session's connection costs about 0.1 ms more per use (its transaction and
        connection events), as much as a whole indexed lookup."""
        connection = self.engine.raw_connection()
        try:
            if self.dialect == "sqlite":  # autocommit mode (see _sqlite_configuration): begin explicitly
                cursor = connection.cursor()
                cursor.execute("BEGIN")
                cursor.close()
            yield connection
        finally:
            try:
                connection.rollback()
            finally:
                connection.close()

    def dispose(self) -> None:
        self.engine.dispose()


def run_after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run `callback` once the session's transaction commits; never if it rolls back.

    Used for work outside the database that must follow a committed change only: removing files,
    waking the job runner.
    """
    session.info.setdefault("after_commit", []).append(callback)


def run_after_rollback(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` if the session's transaction rolls back (undo files written for it)."""
    session.info.setdefault("after_rollback", []).append(callback)


def _fire(session: Session, name: str) -> None:
    callbacks = session.info.pop(name, [])
    for callback in callbacks:
        callback()


def _after_commit(session: Session) -> None:
    session.info.pop("after_rollback", None)
    _fire(session, "after_commit")


def _after_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint; the outer transaction decides
    session.info.pop("after_commit", None)
    _fire(session, "after_rollback")


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", _after_rollback)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work outside a request (job runner, worker, CLI tools): commit on success."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

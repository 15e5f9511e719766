"""Engine factory: a SQLite file by default, PostgreSQL through asyncpg when configured."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.migrate import upgrade

T = TypeVar("T")


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # The worker and the CLI may share one file: wait for the lock rather than fail at once.
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names, or None for another backend or an in-memory database.

    Opening a SQLite store creates its file; a read-only command checks this first instead.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not the driver, decide where transactions begin (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@asynccontextmanager
async def open_store(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated database, disposed on exit."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield engine
    finally:
        writer = _sqlite_writers.pop(engine, None)
        if writer is not None:
            _close_writer(*writer)
        await engine.dispose()


def _sqlite_begin_immediate(connection) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is locked" when
    # another process writes meanwhile; taking the write lock up front makes it wait its turn instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


_sqlite_writers: weakref.WeakKeyDictionary[AsyncEngine, tuple[Engine, ThreadPoolExecutor]] = weakref.WeakKeyDictionary()


async def run_write(engine: AsyncEngine, work: Callable[..., T], *args: Any) -> T:
    """Run ``work(connection, *args)`` in one write transaction and return its result.

    Write logic is plain synchronous SQLAlchemy, run the fastest way each backend allows: on
    PostgreSQL through the async driver; on SQLite in one dedicated thread with the native driver,
    where a transaction of a dozen statements costs one thread hop instead of one per statement, and
    where this process's writers queue in order instead of sleeping in SQLite's busy handler.
    """
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            return await connection.run_sync(work, *args)
    writer = _sqlite_writers.get(engine)
    if writer is None:
        sync_engine = create_sync_engine(
            engine.url.set(drivername="sqlite+pysqlite"), connect_args={"timeout": 30, "check_same_thread": False}
        )
        event.listen(sync_engine, "connect", _sqlite_pragmas)
        event.listen(sync_engine, "begin", _sqlite_begin_immediate)
        writer = (sync_engine, ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer"))
        _sqlite_writers[engine] = writer
        weakref.finalize(engine.sync_engine, _close_writer, *writer)
    sync_engine, thread = writer

    def transaction() -> T:
        with sync_engine.begin() as connection:
            return work(connection, *args)

    return await asyncio.get_running_loop().run_in_executor(thread, transaction)


def _close_writer(sync_engine: Engine, thread: ThreadPoolExecutor) -> None:
    thread.shutdown(wait=False)
    sync_engine.dispose()

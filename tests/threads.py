"""Many threads at once against one app, for the race tests: an app whose pool has a
connection per thread, and a runner that releases every thread together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import Flask

from ledger.db import make_engine, make_session_factory
from tests.conftest import make_test_app

T = TypeVar("T")


@contextmanager
def app_for_threads(database_url: str, threads: int) -> Iterator[Flask]:
    """The test app with a connection for each thread: the default pool (5 + 10 overflow)
    would queue the sixteenth, and a race that queues is not a race."""
    application = make_test_app(database_url)
    application.extensions["ledger.engine"].dispose()
    engine = make_engine(database_url, pool_size=threads, max_overflow=8)
    application.extensions["ledger.engine"] = engine
    application.extensions["ledger.sessions"] = make_session_factory(engine)
    try:
        yield application
    finally:
        engine.dispose()


def all_at_once(threads: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(n)`` for n in range(threads), each in a thread of its own, all released
    together; what each returned or raised (a crash is an outcome to assert on, not a hung
    test)."""
    barrier = threading.Barrier(threads)
    results: list[T | BaseException] = [RuntimeError("never ran")] * threads

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as error:
            results[n] = error

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread never finished"
    return results

"""Dry runs run in a child process that is stopped on time and memory, while the parent goes on."""

from __future__ import annotations

import threading
import time

import pytest

from app.engine.sandbox import SandboxFailed, run_isolated


def test_the_result_comes_back():
    assert run_isolated(lambda: {"path": ["a", "b"], "n": 2}, seconds=5, memory_mb=64) == {"path": ["a", "b"], "n": 2}


def test_an_exception_comes_back_with_its_attributes():
    class Stopped(Exception):
        pass

    def fail():
        error = ValueError("stopped at gw")
        error.element = "gw"
        raise error

    with pytest.raises(ValueError) as raised:
        run_isolated(fail, seconds=5, memory_mb=64)
    assert str(raised.value) == "stopped at gw" and raised.value.element == "gw"


def test_an_endless_computation_is_killed_on_time_while_the_parent_keeps_working():
    ticks = []
    stop = threading.Event()

    def heartbeat():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.02)

    beat = threading.Thread(target=heartbeat)
    beat.start()
    started = time.monotonic()
    try:
        with pytest.raises(SandboxFailed) as failed:
            run_isolated(lambda: sum(range(10**12)), seconds=0.5, memory_mb=64)
    finally:
        stop.set()
        beat.join()
    elapsed = time.monotonic() - started
    assert failed.value.reason == "time" and 0.5 <= elapsed < 2.0
    assert len(ticks) >= 10  # the parent's other thread ran all along


def test_a_huge_allocation_is_stopped_by_the_memory_limit():
    started = time.monotonic()
    with pytest.raises(SandboxFailed) as failed:
        run_isolated(lambda: bytearray(4 * 1024**3), seconds=10, memory_mb=64)
    assert failed.value.reason == "memory" and time.monotonic() - started < 5

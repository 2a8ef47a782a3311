"""Run untrusted work (a designer's dry run) in a forked child process that can be stopped.

Python cannot interrupt a computation in another thread, and a thread cannot be given its own
memory limit; a child process can. The child inherits the parsed definition and the caller's
in-memory state (fork), gets an address-space limit and a CPU-time limit, runs the function and
sends back its pickled result or exception through a pipe. The parent waits with a wall-clock
deadline (releasing the GIL, so the server keeps answering) and kills the child when it passes.
"""

from __future__ import annotations

import math
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
_CHUNK = 1 << 16


class SandboxFailed(Exception):
    """The child did not finish: `reason` is "time", "memory" or "crash"."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def run_isolated(
    fn: Callable[[], T], *, seconds: float, memory_mb: int, after_fork: Callable[[], None] | None = None
) -> T:
    """fn() computed in a child process within `seconds` of wall time and `memory_mb` more memory."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(fn, write_end, seconds, memory_mb, after_fork)
    os.close(write_end)
    try:
        data = _collect(read_end, pid, time.monotonic() + seconds)
    finally:
        os.close(read_end)
        _reap(pid)
    if not data:
        raise SandboxFailed("试运行进程异常退出 the dry run's process died", reason="crash")
    kind, value = pickle.loads(data)  # written by _child below, in our own code
    if kind == "raised":
        if isinstance(value, MemoryError):
            raise SandboxFailed(f"试运行超过 {memory_mb} MB 内存限制 the dry run ran out of memory", reason="memory")
        raise value
    return value


def _child(fn: Callable[[], Any], out_fd: int, seconds: float, memory_mb: int, after_fork) -> None:
    status = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if after_fork is not None:
            after_fork()
        _limit(seconds, memory_mb)
        try:
            payload = ("ok", fn())
        except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the parent
            payload = ("raised", exc)
        try:
            data = pickle.dumps(payload)
        except Exception:  # noqa: BLE001 - an unpicklable exception still says what happened
            data = pickle.dumps(("raised", RuntimeError(repr(payload[1])[:2000])))
        with os.fdopen(out_fd, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001 - the child must never return into the server's code
        status = 1
    finally:
        os._exit(status)


def _limit(seconds: float, memory_mb: int) -> None:
    """Cap the child's address space at what it has now plus `memory_mb`, and its CPU time."""
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    cap = in_use + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    cpu = math.ceil(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))


def _collect(fd: int, pid: int, deadline: float) -> bytes:
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(pid)
            raise SandboxFailed("试运行超时，已停止 the dry run took too long and was stopped", reason="time")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass

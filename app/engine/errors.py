"""The engine's error: a process that could not go on, naming the element where it stopped."""

from __future__ import annotations


class EngineError(Exception):
    """The process could not go on (an expression failed, a gateway found no way): a case incident."""

    def __init__(self, message: str, *, element: str | None = None) -> None:
        super().__init__(message)
        self.element = element

"""Outbound channels: how a notification leaves the platform (SMS gateway, the center's messaging).

A channel is anything with `send(recipient, notification)` that raises on failure. The default,
"log", writes one line per message to the application log; a center plugs its gateway in by
registering a channel under a name and setting NOTIFY_CHANNEL to it.
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("onewindow.notify")


class Recipient(Protocol):
    username: str
    display_name: str


class Channel(Protocol):
    def send(self, recipient: Recipient, notification) -> None:
        """Deliver one message (raise to have it retried later)."""


class LogChannel:
    """Writes each message to the log: the default where no gateway is configured."""

    def send(self, recipient: Recipient, notification) -> None:
        """Log the message."""
        log.info("notify %s (%s): %s", recipient.username, notification.kind, notification.title)


CHANNELS: dict[str, Channel] = {"log": LogChannel()}


def register(name: str, channel: Channel) -> None:
    """Make a channel available under `name` (NOTIFY_CHANNEL selects it)."""
    CHANNELS[name] = channel


def get(name: str) -> Channel:
    """The channel registered as `name` (KeyError names the missing channel)."""
    return CHANNELS[name]

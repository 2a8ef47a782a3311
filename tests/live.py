"""A real HTTP server around the test app, in a thread of the test process (port chosen by the OS)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from werkzeug.serving import make_server

from app.identity import demo


@contextmanager
def serving(app) -> Iterator[str]:
    """The base URL of a threaded server running `app` until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def token(base: str, username: str) -> dict[str, str]:
    """Headers with a bearer token for a demo account."""
    response = requests.post(
        f"{base}/api/auth/token", json={"username": username, "password": demo.DEMO_PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}

"""WSGI entry point: `gunicorn wsgi:app`."""

import gc

from app import create_app

app = create_app()

# What the app built at startup (parsed processes, mappers, schemas, templates) lives as long as the
# worker: its garbage collected once, then frozen, so that the collector's full passes walk only what
# requests left behind (a full pass over the ~180,000 startup objects took 30-45 ms, a pause in
# whichever request triggered it; docs/design.md).
gc.collect()
gc.freeze()

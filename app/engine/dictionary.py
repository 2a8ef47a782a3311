"""The preset dictionary the workflow state is compressed with (zlib's `zdict`).

A stored state is a small JSON document (about 8 KB before compression) whose structure repeats from
case to case: the same keys, the same task specs, the same deltas. zlib alone compresses it to about
1.7 KB, mostly spent on that structure; primed with a dictionary that already holds it, the same state
takes about 1.1 KB, and the case_state row, rewritten at every step, packs several cases per page.

Each shipped process (bpmn/) has its own dictionary: its end state along its main path, driven by
the engine alone, with every task id and timestamp blanked, so it holds structure and no case's data
(about 8 KB: priming zlib costs time in proportion to the dictionary). A process a designer made uses
the serial process's dictionary (the same engine structure, other names). The dictionaries are built
once by `python -m app.engine.dictionary` and shipped as files named by their hash under
app/engine/dictionaries/; the state's format names that hash, so a stored state is always read with
the dictionary it was written with. Never edit or delete a shipped dictionary: a new one is a new file
(and `CURRENT` names it), and the old ones stay to read what they wrote.
"""

from __future__ import annotations

import hashlib
import re
import sys
import zlib
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "dictionaries"
# The dictionary new states of each shipped process are written with; GENERIC for any other process.
CURRENT: dict[str, str] = {
    "food_business_license": "c18e601d",
    "construction_permit": "0e8cfa96",
    "public_place_hygiene": "20755783",
    "senior_card": "171dc987",
}
GENERIC = "food_business_license"
MAX_BYTES = 32 * 1024  # zlib uses at most the last 32 KiB of a dictionary
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(rb'"last_state_change":[0-9.]+')


def for_process(key: str) -> tuple[str, bytes]:
    """(name, bytes) of the dictionary a state of process `key` is written with."""
    name = CURRENT.get(key) or CURRENT[GENERIC]
    data = load(name)
    if data is None:
        raise RuntimeError(f"the state dictionary {name} is not shipped")
    return name, data


@cache
def load(name: str) -> bytes | None:
    """The shipped dictionary `name` (its hash prefix), or None when there is none by that name."""
    path = FOLDER / f"{name}.zdict"
    if not path.is_file():
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest()[:8] != name:
        raise RuntimeError(f"state dictionary {path} does not match its name")
    return data


def compress(data: bytes, dictionary: bytes) -> bytes:
    """`data` deflated with `dictionary` preset (level 1: the state is written at every step)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, dictionary)
    return packer.compress(data) + packer.flush()


def decompress(data: bytes, dictionary: bytes) -> bytes:
    """The inverse of `compress`."""
    unpacker = zlib.decompressobj(zlib.MAX_WBITS, dictionary)
    return unpacker.decompress(data) + unpacker.flush()


def blanked(state_json: bytes) -> bytes:
    """A state's JSON with every task id and timestamp replaced by a constant: structure only."""
    state_json = _UUID.sub(b"00000000-0000-0000-0000-000000000000", state_json)
    return _STAMP.sub(b'"last_state_change":1800000000.0', state_json)


def build(bpmn_dir: Path, catalog: dict) -> dict[str, bytes]:
    """Each shipped process's dictionary: its end state along its main path, blanked."""
    from app.deadlines import functions
    from app.engine import serializer
    from app.engine.parser import load_definition
    from app.engine.runtime import Run

    functions.register()
    now = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    facts = {
        "accepted_at": now.isoformat(),
        "promised_due": (now + timedelta(days=14)).isoformat(),
        "statutory_due": (now + timedelta(days=28)).isoformat(),
    }
    out = {}
    for matter in catalog["matter"]:
        definition = load_definition((bpmn_dir / f"{matter['process_key']}.bpmn").read_bytes())
        data = {**matter.get("process_data", {}), "matter_code": matter["code"], "materials_deferred": []}
        run = Run.start(definition, data, at=now, facts=facts)
        for _ in range(40):
            ready = run.ready_tasks()
            if not ready:
                break
            task = ready[0]
            run.complete(task.id, _main_path(task.spec.fields or ()), at=now)
        out[matter["process_key"]] = blanked(serializer.dump_plain(run.workflow))[-MAX_BYTES:]
    return out


def _main_path(fields) -> dict:
    """A submission that goes the usual way: yes to every question, a short text, the first choice."""
    out = {}
    for f in fields:
        if f.type == "boolean":
            out[f.name] = f.name not in ("needs_inspection",)
        elif f.type == "long":
            out[f.name] = 1
        elif f.type == "date":
            out[f.name] = "2026-01-05"
        elif f.type == "enum":
            out[f.name] = f.choices[0][0] if f.choices else ""
        elif f.type == "materials":
            out[f.name] = []
        else:
            out[f.name] = "同意"
    return out


def main(argv: list[str]) -> int:
    """Build the dictionaries from bpmn/ and write each under its hash (prints CURRENT's lines). The working-day
    functions some processes call read the holiday calendar: run it with DATABASE_URL naming a
    database where `flask calendar seed` has run."""
    import tomllib

    from app import create_app

    root = Path(__file__).resolve().parents[2]
    catalog = tomllib.loads((root / "bpmn" / "catalog.toml").read_text(encoding="utf-8"))
    with create_app().app_context():
        built = build(root / "bpmn", catalog)
    FOLDER.mkdir(exist_ok=True)
    for key, data in built.items():
        name = hashlib.sha256(data).hexdigest()[:8]
        (FOLDER / f"{name}.zdict").write_bytes(data)
        print(f'    "{key}": "{name}",  # {len(data)} bytes')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

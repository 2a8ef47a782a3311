"""The preset dictionary the workflow state is compressed with (zlib's `zdict`).

A stored state is a small JSON document (about 8 KB before compression) whose structure repeats from
case to case: the same keys, the same task specs, the same deltas. zlib alone compresses it to about
1.7 KB, mostly spent on that structure; primed with a dictionary that already holds it, the same state
takes about 1.1 KB, and the case_state row, rewritten at every step, packs several cases per page.

Each shipped process (bpmn/) has its own dictionary: its end state along its main path, driven by
the engine alone, its tasks referring to each other by place (as a state stores them, app/engine/serializer.py)
and its timestamps blanked, so it holds structure and no case's data (about 2-6 KB: priming zlib costs
time in proportion to the dictionary). A process a designer made uses
the serial process's dictionary (the same engine structure, other names). The dictionaries are built
once by `python -m app.engine.dictionary_build` and shipped as files named by their hash under
app/engine/dictionaries/; the state's format names that hash, so a stored state is always read with
the dictionary it was written with. Never edit or delete a shipped dictionary: a new one is a new file
(and `CURRENT` names it), and the old ones stay to read what they wrote.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "dictionaries"
# The dictionary new states of each shipped process are written with; GENERIC for any other process.
# (c18e601d, 0e8cfa96, 20755783, 171dc987: the spec-free-2 states' dictionaries, ids as blanked text.)
CURRENT: dict[str, str] = {
    "food_business_license": "60eb7d34",
    "construction_permit": "336b885d",
    "public_place_hygiene": "be3a0a98",
    "senior_card": "4df069df",
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

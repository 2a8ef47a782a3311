"""Builds the workflow-state dictionaries of the shipped processes (app/engine/dictionary.py).

`python -m app.engine.dictionary_build` drives each shipped process (bpmn/) along its main path with
the engine alone, writes its end state with tasks referring to each other by place (as a state is
stored), blanks its timestamps, and writes the result under app/engine/dictionaries/ named by its hash; it prints the
lines of `dictionary.CURRENT` to paste. The
working-day functions some processes call read the holiday calendar: run it with DATABASE_URL naming a
database where `flask calendar seed` has run. A shipped dictionary is never rewritten (see there).
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.engine.dictionary import FOLDER, MAX_BYTES, blanked


def build(bpmn_dir: Path, catalog: dict) -> dict[str, bytes]:
    """Each shipped process's dictionary: its end state along its main path, tasks by place, blanked."""
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
        _, text = serializer.tabled_plain(run.workflow)  # tasks by place, as a state is stored
        out[matter["process_key"]] = blanked(text)[-MAX_BYTES:]
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
    """Build the dictionaries from bpmn/ and write each under its hash (prints CURRENT's lines)."""
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

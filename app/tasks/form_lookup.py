"""Which form a task row takes: its process version's declared form (or the legacy kind), with choices."""

from __future__ import annotations

from typing import Any

from app.engine.parser import FormField
from app.matters import service as matters
from app.processes import service as processes
from app.tasks import forms
from app.tasks.models import Task
from app.tasks.service import PLATFORM_TASK


def form_of(task: Task, *, process_version_id: int) -> tuple[FormField, ...]:
    """The fields of a task row, read from the parsed (cached) process version its case runs on."""
    spec = None
    if not task.engine_task_id.startswith(PLATFORM_TASK):
        spec = processes.definition(process_version_id).human_tasks.get(task.name)
    return forms.fields_of(spec, task.form)


def deferred_materials(case: Any) -> list[str]:
    """The required, deferrable materials the applicant had not handed in at acceptance."""
    matter = matters.get(code=case.matter_code)
    provided = {m["name"] for m in case.materials if m.get("provided")}
    catalog = matter.materials if matter else []
    return [m["name"] for m in catalog if m["required"] and m["deferrable"] and m["name"] not in provided]


def fields_for(task: Task, case: Any) -> list[dict[str, Any]]:
    """The task's fields as api.md shapes them, a `materials` field offering the case's deferred materials."""
    form = form_of(task, process_version_id=case.process_version_id)
    return forms.describe(form, materials=deferred_materials(case))

"""Tasks: the inbox, claim, unclaim, delegate, complete."""

from flask.views import MethodView

from app.cases import runtime
from app.cases.models import Case
from app.extensions import Blueprint, db
from app.identity.principal import current
from app.tasks import form_lookup, handover, service
from app.tasks.schemas import (
    CompletedTaskSchema,
    CompleteSchema,
    DelegateSchema,
    ReassignSchema,
    TaskDetailSchema,
    TaskListSchema,
    TaskSchema,
    TaskScopeArgs,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="待办任务 Tasks")


@blp.route("")
class Tasks(MethodView):
    @blp.arguments(TaskScopeArgs, location="query")
    @blp.response(200, TaskListSchema)
    def get(self, args):
        """scope=mine: tasks I hold; scope=claimable: ready tasks of my groups.

        Filters: matter_code, warning, q (a whole case number or applicant name); sort: due (default), -due, created."""
        rows, total = service.list_tasks(principal=current(), **args)
        return {"items": rows, "total": total}


@blp.route("/<int:task_id>")
class TaskItem(MethodView):
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id):
        """One task with its form fields and case summary."""
        task = service.get_visible(task_id=task_id, principal=current())
        case = db.session.get(Case, task.case_id)
        return {**_as_dict(task), "fields_": form_lookup.fields_for(task, case), "case": case}


@blp.route("/<int:task_id>/claim")
class Claim(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Take a ready task of one's group (409 if someone else was first)."""
        return service.claim(task_id=task_id, principal=current())


@blp.route("/<int:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Give a task one holds back to its group."""
        return service.unclaim(task_id=task_id, principal=current())


@blp.route("/<int:task_id>/delegate")
class Delegate(MethodView):
    @blp.arguments(DelegateSchema)
    @blp.response(200, TaskSchema)
    def post(self, body, task_id):
        """Hand a task one holds to a colleague of its group, with a reason."""
        return service.delegate(task_id=task_id, principal=current(), **body)


@blp.route("/<int:task_id>/reassign")
class Reassign(MethodView):
    @blp.arguments(ReassignSchema)
    @blp.response(200, TaskSchema)
    def post(self, body, task_id):
        """A leader of the task's department (or an admin) moves an open task to a member of its group."""
        return handover.reassign(task_id=task_id, principal=current(), **body)


@blp.route("/<int:task_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.response(200, CompletedTaskSchema)
    def post(self, body, task_id):
        """Finish a task one holds; decision tasks need `approved`, and an opinion when rejecting.

        The answer carries the case's status and its open tasks afterwards."""
        task, case, open_rows = runtime.complete(task_id=task_id, principal=current(), data=body["data"])
        progress = {"id": case.id, "status": case.status, "result": case.result, "open_tasks": open_rows}
        return {**_as_dict(task), "case": progress}


TASK_FIELDS = tuple(TaskSchema().fields)  # once, not a schema instance per request


def _as_dict(task) -> dict:
    return {name: getattr(task, name, None) for name in TASK_FIELDS}

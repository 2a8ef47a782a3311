"""Cases: accept, list, show."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.cases import lifecycle, runtime, service
from app.cases.schemas import (
    CaseCreateSchema,
    CaseFilterArgs,
    CaseListSchema,
    CaseSchema,
    ReasonSchema,
    ResumeSchema,
    SuspendSchema,
)
from app.identity.principal import current

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="办件 Cases")


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseFilterArgs, location="query")
    @blp.response(200, CaseListSchema)
    def get(self, args):
        """Cases the caller may see, filtered by status, matter_code, warning, department."""
        principal = current()
        rows, total = service.list_cases(principal=principal, **args)
        return service.page(rows, total, principal)

    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema)
    def post(self, body):
        """受理: accept an application of a matter; the case runs to its first human tasks."""
        principal = current()
        case = runtime.accept(principal=principal, **body)
        return service.view(case, principal, service.open_tasks([case.id])[case.id])


@blp.route("/<int:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """One case with its deadlines and open tasks."""
        principal = current()
        case = service.get_visible(case_id=case_id, principal=principal)
        return service.view(case, principal, service.open_tasks([case.id])[case.id])


def _shown(case):
    principal = current()
    return service.view(case, principal, service.open_tasks([case.id])[case.id])


@blp.route("/<int:case_id>/suspend")
class Suspend(MethodView):
    @blp.arguments(SuspendSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """挂起: stop both clocks for a correction (补正) or a special procedure (特别程序)."""
        return _shown(lifecycle.suspend(case_id=case_id, principal=current(), **body))


@blp.route("/<int:case_id>/resume")
class Resume(MethodView):
    @blp.arguments(ResumeSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """恢复: restart the clocks; the working days suspended move both due dates."""
        return _shown(lifecycle.resume(case_id=case_id, principal=current(), **body))


@blp.route("/<int:case_id>/extend")
class Extend(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """延期: extend the statutory limit once (leader): +10 working days, +15 for joint handling."""
        return _shown(lifecycle.extend(case_id=case_id, principal=current(), **body))


@blp.route("/<int:case_id>/withdraw")
class Withdraw(MethodView):
    @blp.arguments(ReasonSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """撤回: the applicant withdraws; open tasks are cancelled."""
        return _shown(lifecycle.withdraw(case_id=case_id, principal=current(), **body))

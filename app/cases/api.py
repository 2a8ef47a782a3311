"""Cases: accept, list, show."""

from flask.views import MethodView

from app.cases import intake, lifecycle, service
from app.cases.schemas import (
    CaseAcceptSchema,
    CaseCreateSchema,
    CaseFilterArgs,
    CaseListSchema,
    CaseSchema,
    ReasonSchema,
    ResumeSchema,
    SuspendSchema,
)
from app.documents import service as documents
from app.extensions import Blueprint
from app.identity.principal import current

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="办件 Cases")


@blp.route("")
class Cases(MethodView):
    @blp.arguments(CaseFilterArgs, location="query")
    @blp.response(200, CaseListSchema)
    def get(self, args):
        """Cases the caller may see, filtered by status, matter_code, warning, department, number, applicant_name
        and (front desk only) applicant_id_number."""
        principal = current()
        rows, total = service.list_cases(principal=principal, **args)
        return service.page(rows, total, principal)

    @blp.arguments(CaseCreateSchema)
    @blp.response(201, CaseSchema)
    def post(self, body):
        """The window's answer: accept (default), `intake: "correct"` (补正) or `intake: "refuse"` (不予受理).

        The answer's documents (受理通知书, 容缺受理告知书, 补正材料通知书, 不予受理决定书) are listed in
        `documents`.
        """
        principal = current()
        return _with_documents(intake.receive(principal=principal, **body), principal)


@blp.route("/<int:case_id>")
class CaseItem(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """One case with its deadlines and open tasks."""
        principal = current()
        case = service.get_visible(case_id=case_id, principal=principal)
        return service.view(case, principal, service.open_tasks([case.id])[case.id])


@blp.route("/<int:case_id>/accept")
class AcceptCorrected(MethodView):
    @blp.arguments(CaseAcceptSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """受理 a case awaiting correction once corrected: the workflow and the clocks start now."""
        principal = current()
        return _with_documents(intake.accept_corrected(case_id=case_id, principal=principal, **body), principal)


def _with_documents(case, principal):
    """The case as answered to the window, with its documents; what the acceptance just made (its open
    tasks, a new case's papers) is taken as it is, not read back."""
    opened = getattr(case, "open_after_accept", None)
    shown = service.view(case, principal, opened if opened is not None else service.open_tasks([case.id])[case.id])
    issued = getattr(case, "papers_issued", None)
    papers = issued if issued is not None else documents.list_for_case(case_id=case.id)
    shown["documents"] = [documents.view(d) for d in papers]
    return shown


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

"""窗口受理 `/accept` and the printable 受理通知书 `/cases/<id>/receipt` (front desk)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.cases import intake
from app.cases import service as cases
from app.cases.schemas import ID_CHECKS
from app.documents import service as documents
from app.errors import Forbidden
from app.matters import service as matters
from app.schemas import name_problem
from app.web.blueprint import bp
from app.web.support import attempt_or_flash, field_errors, principal

# The window's three answers (行政许可法 art. 32): label, what the page says once given.
ANSWERS = {
    "accept": {"label": "受理", "done": "受理成功"},
    "correct": {"label": "一次性告知补正", "done": "已出具补正材料通知书"},
    "refuse": {"label": "不予受理", "done": "已出具不予受理决定书"},
}


def _require_window() -> None:
    if not principal().has_role("window"):
        raise Forbidden("只有窗口人员可以受理 Only front-desk staff can accept applications.")


def _form_values() -> dict:
    """What the clerk typed, to show again (a refused application keeps it)."""
    form = request.form
    return {
        "matter_code": form.get("matter_code", request.args.get("matter_code", "")).strip(),
        "applicant_name": form.get("applicant_name", "").strip(),
        "applicant_id_type": "credit_code" if form.get("applicant_id_type") == "credit_code" else "id_card",
        "applicant_id_number": form.get("applicant_id_number", "").strip().upper(),
        "applicant_phone": form.get("applicant_phone", "").strip(),
        "materials": form.getlist("materials"),
        "intake": form.get("intake", "accept"),
        "corrections": form.get("corrections", ""),
        "reason": form.get("reason", "").strip(),
    }


def _render(values: dict, errors: dict | None = None, status: int = 200, done=None):
    catalog, _ = matters.list_matters(per_page=200)
    chosen = next((m for m in catalog if m.code == values["matter_code"]), None)
    papers = documents.list_for_case(case_id=done.id) if done is not None else []
    page = render_template(
        "web/accept.html",
        catalog=catalog,
        chosen=chosen,
        values=values,
        errors=errors or {},
        done=done,
        papers=papers,
        answers=ANSWERS,
    )
    return page, status


@bp.route("/accept", methods=["GET"])
def accept():
    """The acceptance desk: a matter, its checklist, the applicant (and the last case accepted, if any)."""
    _require_window()
    done = None
    if request.args.get("done", "").isdigit():
        done = cases.get_visible(case_id=int(request.args["done"]), principal=principal())
    return _render(_form_values(), done=done)


@bp.route("/accept/checklist")
def accept_checklist():
    """The chosen matter's materials checklist alone (swapped in place when the matter changes)."""
    _require_window()
    chosen = matters.get(code=request.args.get("matter_code", ""))
    return render_template("web/_checklist.html", chosen=chosen, values={"materials": []}, errors={})


def _check_applicant(values: dict) -> dict[str, list[str]]:
    """Field messages for what the desk checks before the service: a name of one line, the number by its type."""
    errors: dict[str, list[str]] = {}
    if not values["matter_code"]:
        errors["matter_code"] = ["请选择事项"]
    if not values["applicant_name"]:
        errors["applicant_name"] = ["请填写申请人姓名或名称"]
    elif problem := name_problem(values["applicant_name"]):
        errors["applicant_name"] = [problem]
    problem = ID_CHECKS[values["applicant_id_type"]](values["applicant_id_number"])
    if problem:
        errors["applicant_id_number"] = [problem]
    return errors


@bp.route("/accept", methods=["POST"])
def accept_submit():
    """受理: check the applicant here, then accept through the same service as POST /api/cases."""
    _require_window()
    values = _form_values()
    errors = _check_applicant(values)
    if errors:
        flash("请更正标出的项目后再受理", "error")
        return _render(values, errors, 422)
    matter = matters.get(code=values["matter_code"])
    catalog = matter.materials if matter else []
    applicant = {
        "name": values["applicant_name"],
        "id_type": values["applicant_id_type"],
        "id_number": values["applicant_id_number"],
    }
    if values["applicant_phone"]:
        applicant["phone"] = values["applicant_phone"]
    case, err = attempt_or_flash(
        intake.receive,
        principal=principal(),
        matter_code=values["matter_code"],
        applicant=applicant,
        materials=[{"name": m["name"], "provided": m["name"] in values["materials"]} for m in catalog],
        data={},
        intake=values["intake"] if values["intake"] in ANSWERS else "accept",
        corrections=[line.strip() for line in values["corrections"].splitlines() if line.strip()],
        reason=values["reason"] or None,
    )
    if err is not None:
        return _render(values, field_errors(err), err.status)
    flash(f"{ANSWERS[values['intake']]['done']}，办件编号 {case.number}", "success")
    return redirect(url_for("web.accept", done=case.id))


@bp.route("/cases/<int:case_id>/accept", methods=["POST"])
def accept_corrected(case_id: int):
    """补正后受理: the materials as now provided; the same service as POST /api/cases/{id}/accept."""
    _require_window()
    found = cases.get_visible(case_id=case_id, principal=principal())
    matter = matters.get(code=found.matter_code)
    chosen = set(request.form.getlist("materials"))
    materials = [{"name": m["name"], "provided": m["name"] in chosen} for m in (matter.materials if matter else [])]
    _, err = attempt_or_flash(
        intake.accept_corrected, case_id=case_id, principal=principal(), materials=materials, data={}
    )
    if err is None:
        flash(f"补正后已受理，办件编号 {found.number}", "success")
        return redirect(url_for("web.accept", done=case_id))
    return redirect(url_for("web.case", case_id=case_id))


@bp.route("/cases/<int:case_id>/receipt")
def receipt(case_id: int):
    """受理通知书 to print: the numbered notice issued at acceptance (the bytes the case's audit chain
    holds), framed under a toolbar (print, PDF, back to the case). One paper, never a second, unnumbered
    rendering beside it; a case never accepted has none (404 with a message).
    """
    _require_window()
    case = cases.get_visible(case_id=case_id, principal=principal())
    issued = documents.latest(case_id=case.id, kind="receipt")
    status = 200 if issued is not None else 404
    return render_template("web/receipt.html", case=case, issued=issued), status

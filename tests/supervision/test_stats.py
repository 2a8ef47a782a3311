"""Period statistics against a hand-counted center: two departments, two months, every figure; and the
CSV and XLSX exports parsed back to the same numbers.

market (SC-001, promised 10 / statutory 20 working days) and civil (MZ-001, 即办件, 0 days), 2026:
  A market  accepted Mon Oct 19, completed Wed Oct 21 (approved)        2 days, on time, evaluated 满意
  B market  accepted Tue Oct 20, rejected Thu Oct 22                    2 days, on time (filed)
  E civil   accepted Wed Oct 21 10:00, completed 11:00 the same day      0 days, on time, 非常满意
  C market  accepted Mon Oct 26, completed Wed Nov 11 (promised Nov 9)  12 days, overdue, 不满意 (not followed up)
  D market  accepted Mon Nov 2, open on Nov 20 (promised Nov 16)         overdue
  F civil   accepted Tue Nov 3, completed Wed Nov 4 (due Nov 3)  1 day, overdue, breach, 非常不满意 (followed up)
  a refusal at the window (market) on Thu Nov 5
"""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from app import clock
from app.extensions import db
from app.identity.models import User
from app.supervision import filings
from tests.factories import FOOD
from tests.processes.scenarios import SENIOR, accept, drive, open_tasks, reject
from tests.timekeeping import bj, run_pass

PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}
FIELDS = ("accepted", "completed", "on_time", "on_time_rate", "immediate_rate", "overdue", "breach")
FIELDS += ("not_accepted", "avg_working_days", "evaluations", "satisfaction_rate", "bad_followed_up_rate")
BY_DEPARTMENT = {
    "market": (4, 3, 2, 0.6667, 0.0, 2, 0, 1, 5.33, 2, 0.5, 0.0),
    "civil": (2, 2, 1, 0.5, 1.0, 1, 1, 0, 0.5, 2, 0.5, 1.0),
}
BY_MONTH = {
    "2026-10": (4, 3, 3, 1.0, 0.3333, 1, 0, 0, 1.33, 2, 1.0, None),
    "2026-11": (2, 2, 0, 0.0, 0.5, 2, 1, 1, 6.5, 2, 0.0, 0.5),
}
TOTAL = (6, 5, 3, 0.6, 0.4, 3, 1, 1, 3.4, 4, 0.5, 0.5)  # 17 working days over 5 completed


def at(as_user, when, fn, *args, **kw):
    clock.freeze(when)
    return fn(as_user, *args, **kw)


def evaluate(as_user, case_id: str, level: str) -> None:
    response = as_user("window1").post(f"/api/cases/{case_id}/evaluation", json={"level": level})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def center(app, as_user) -> dict[str, str]:
    ids = {}
    ids["A"] = at(as_user, bj(2026, 10, 19), accept, FOOD)["id"]
    ids["B"] = at(as_user, bj(2026, 10, 20), accept, FOOD)["id"]
    ids["E"] = at(as_user, bj(2026, 10, 21), accept, SENIOR)["id"]
    at(as_user, bj(2026, 10, 21, 11), drive, ids["E"])
    at(as_user, bj(2026, 10, 21, 15), drive, ids["A"])
    at(as_user, bj(2026, 10, 22), drive, ids["B"], {"decide": reject("场所不符合要求")})
    ids["C"] = at(as_user, bj(2026, 10, 26), accept, FOOD)["id"]
    ids["D"] = at(as_user, bj(2026, 11, 2), accept, FOOD)["id"]
    ids["F"] = at(as_user, bj(2026, 11, 3), accept, SENIOR)["id"]
    at(as_user, bj(2026, 11, 4), drive, ids["F"])
    clock.freeze(bj(2026, 11, 5))
    with app.app_context():
        filings.file(None, "refusal", "不属于本中心受理范围", actor="window1", department="market", matter_code=FOOD)
        db.session.commit()
        db.session.remove()
    at(as_user, bj(2026, 11, 11, 11), drive, ids["C"], stop_at=())
    clock.freeze(bj(2026, 11, 12))
    for key, level in (("A", "satisfied"), ("C", "dissatisfied"), ("E", "very_satisfied"), ("F", "very_dissatisfied")):
        evaluate(as_user, ids[key], level)
    [follow_up] = [t for t in open_tasks(as_user, ids["F"]) if t["name"] == "evaluation_follow_up"]
    worker = as_user("civil_reviewer")
    assert worker.post(f"/api/tasks/{follow_up['id']}/claim").status_code == 200
    assert (
        worker.post(f"/api/tasks/{follow_up['id']}/complete", json={"data": {"opinion": "已回访整改"}}).status_code
        == 200
    )
    clock.freeze(bj(2026, 11, 20))
    run_pass(app)
    return ids


def stats(as_user, **query):
    return as_user("supervisor").get("/api/supervision/stats", query_string={**PERIOD, **query})


def figures(row: dict) -> tuple:
    return tuple(row[f] for f in FIELDS)


def test_figures_by_department_month_and_total(as_user, center):
    response = stats(as_user, by="department")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["from"], body["to"], body["by"]) == ("2026-10-01", "2026-11-30", "department")
    assert {r["key"]: figures(r) for r in body["rows"]} == BY_DEPARTMENT
    assert figures(body["total"]) == TOTAL
    assert all(r["label"] and r["label"] != r["key"] for r in body["rows"])  # departments' names
    months = stats(as_user, by="month").get_json()
    assert {r["key"]: figures(r) for r in months["rows"]} == BY_MONTH
    assert [r["label"] for r in months["rows"]] == ["2026年10月", "2026年11月"]
    clerks = stats(as_user, by="clerk").get_json()["rows"]
    assert [(r["key"], r["accepted"], r["not_accepted"]) for r in clerks] == [("window1", 6, 1)]
    matters = {r["key"]: r["completed"] for r in stats(as_user, by="matter").get_json()["rows"]}
    assert matters == {"SC-001": 3, "MZ-001": 2}


def test_a_narrower_period_counts_only_its_days(as_user, center):
    body = stats(as_user, by="department", **{"from": "2026-11-01", "to": "2026-11-30"}).get_json()
    got = {r["key"]: figures(r) for r in body["rows"]}
    assert got["market"] == (1, 1, 0, 0.0, 0.0, 1, 0, 1, 12.0, 1, 0.0, 0.0)
    assert got["civil"] == (1, 1, 0, 0.0, 1.0, 1, 1, 0, 1.0, 1, 0.0, 1.0)


def test_leaders_see_their_department_and_others_are_refused(as_user, center):
    rows = as_user("market_leader").get("/api/supervision/stats", query_string=PERIOD).get_json()["rows"]
    assert [r["key"] for r in rows] == ["market"]
    assert as_user("window1").get("/api/supervision/stats", query_string=PERIOD).status_code == 403
    assert stats(as_user, by="weekday").status_code == 422
    assert stats(as_user, **{"from": "2026-12-01"}).status_code == 422


def _numbers(rows: list[list]) -> dict[str, tuple]:
    """Rows of an export (header first) -> figures by label, blanks as None, numbers as numbers."""
    header, *body = rows
    assert header[0] == "部门" and header[1] == "受理件数" and "按时办结率" in header and "差评整改率" in header
    out = {}
    for row in body:
        values = [None if v in ("", None) else float(v) for v in row[1:]]
        out[row[0]] = tuple(values)
    return out


def _expected(as_user) -> dict[str, tuple]:
    body = stats(as_user, by="department").get_json()
    return {
        r["label"]: tuple(None if r[f] is None else float(r[f]) for f in FIELDS) for r in [*body["rows"], body["total"]]
    }


def test_csv_and_xlsx_exports_carry_the_same_numbers(as_user, center):
    expected = _expected(as_user)
    assert len(expected) == 3 and "合计" in expected
    exported = stats(as_user, by="department", format="csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert _numbers(rows) == expected
    book = stats(as_user, by="department", format="xlsx")
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(book.data)).active
    cells = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert _numbers(cells) == expected


def test_exports_keep_a_hostile_name_as_text(app, as_user, center):
    """A clerk's name that looks like a formula, with a control character an XLSX cannot hold (found by
    the fuzz run: the XLSX export answered 500): both exports answer, and the name stays text. Such a
    name is refused at input now (422), but one stored before that rule must still export."""
    name = '=HYPERLINK("http://x","点我")\x07窗口'
    admin = as_user("admin")
    renamed = admin.client.patch("/api/users/window1", headers=admin.headers, json={"display_name": name})
    assert renamed.status_code == 422, renamed.get_json()
    with app.app_context():
        db.session.execute(update(User).where(User.username == "window1").values(display_name=name))
        db.session.commit()
    book = stats(as_user, by="clerk", format="xlsx")
    assert book.status_code == 200, book.get_data(as_text=True)[:300]
    sheet = load_workbook(io.BytesIO(book.data)).active
    labels = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert '=HYPERLINK("http://x","点我")窗口' in labels  # the bell left out, the rest as typed
    cell = next(c for (c,) in sheet.iter_rows(min_row=3, max_col=1) if c.value.startswith("=HYPERLINK"))
    assert cell.data_type == "s"  # a string, not a formula
    exported = stats(as_user, by="clerk", format="csv")
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert exported.status_code == 200 and ["'" + name] == [r[0] for r in rows if "HYPERLINK" in r[0]]
    assert len(rows) == len(labels) + 1 and rows[-1][0] == labels[-1] == "合计"  # header, clerks, total

"""Documents: frozen bytes, the PDF, decisions, extension and delivery papers, numbering under concurrency,
and the matter's 一次性告知单."""

import base64
import hashlib
import io
import re
import threading

import pypdf
import pytest
from jinja2 import ChoiceLoader, DictLoader

from app.documents import render
from tests.conftest import Actor
from tests.documents.helpers import documents_of, events_of, html_of, kinds
from tests.factories import FOOD_STAFF, accept, application, open_tasks, work

OPINION = {"opinion": "材料齐全，符合要求"}


def _drive(as_user, case_id: str, decisions: dict) -> None:
    while tasks := open_tasks(as_user, case_id):
        task = tasks[0]
        work(as_user, task, decisions.get(task["name"], OPINION), user=FOOD_STAFF[task["name"]])


def test_the_same_bytes_on_every_download_and_their_hash_in_the_chain(as_user):
    case = accept(as_user)
    receipt = documents_of(as_user, case["id"])[0]
    first = as_user("auditor").get(f"/api/documents/{receipt['id']}").data
    second = as_user("market_reviewer1").get(f"/api/documents/{receipt['id']}").data
    assert first == second
    event = next(e for e in events_of(as_user, case["id"]) if e["type"] == "document_issued")
    assert event["payload"]["sha256"] == hashlib.sha256(first).hexdigest() == receipt["sha256"]
    assert event["payload"]["number"] == receipt["number"]
    assert as_user("housing_reviewer").get(f"/api/documents/{receipt['id']}").status_code == 403
    assert as_user("auditor").get("/api/documents/999999").status_code == 404


def test_a_changed_template_does_not_change_an_issued_document(as_user, monkeypatch):
    case = accept(as_user)
    receipt = documents_of(as_user, case["id"])[0]
    before = html_of(as_user, receipt)
    changed = DictLoader({"documents/receipt.html": "<p>改版的受理通知书 {{ number }}</p>"})
    monkeypatch.setattr(render._env, "loader", ChoiceLoader([changed, render._env.loader]))
    render._env.cache.clear()
    try:
        assert html_of(as_user, receipt) == before
        later = accept(as_user)
        assert "改版的受理通知书" in html_of(as_user, later["documents"][0])
    finally:
        render._env.cache.clear()


def test_the_pdf_opens_has_the_case_number_and_never_changes(as_user):
    case = accept(as_user)
    receipt = documents_of(as_user, case["id"])[0]
    response = as_user("window1").get(f"/api/documents/{receipt['id']}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages)
    assert case["number"] in text and "受理通知书" in text.replace(" ", "")
    again = as_user("auditor").get(f"/api/documents/{receipt['id']}.pdf").data
    assert again == response.data
    listed = documents_of(as_user, case["id"])[0]
    assert listed["pdf_sha256"] == hashlib.sha256(again).hexdigest()


@pytest.mark.parametrize("approved", [True, False])
def test_a_decision_document_for_approval_and_rejection(as_user, approved):
    case = accept(as_user)
    reason = "经营场所与污染源距离不符合要求" if not approved else "符合法定条件"
    _drive(as_user, case["id"], {"decide": {"approved": approved, "opinion": reason}})
    documents = documents_of(as_user, case["id"])
    decision = next(d for d in documents if d["kind"] == "decision")
    html = html_of(as_user, decision)
    assert re.fullmatch(r"市监许〔\d{4}〕0001号", decision["number"])
    # Either decision is delivered (出件 / 告知不予许可), with its 送达回证 naming it.
    assert kinds(documents) == ["receipt", "decision", "delivery_receipt"]
    delivery = html_of(as_user, documents[-1])
    assert "送达回证" in delivery and decision["number"] in delivery and "张三" in delivery
    if approved:
        assert decision["title"] == "准予行政许可决定书" and "决定准予行政许可" in html
    else:
        assert decision["title"] == "不予行政许可决定书" and reason in html and "行政复议" in html


def test_an_extension_issues_its_notice(as_user):
    case = accept(as_user)
    response = as_user("market_leader").post(f"/api/cases/{case['id']}/extend", json={"reason": "需要补充现场核查"})
    assert response.status_code == 200, response.get_json()
    notice = documents_of(as_user, case["id"])[-1]
    assert notice["kind"] == "extension_notice" and notice["title"] == "延期告知书"
    html = html_of(as_user, notice)
    assert "需要补充现场核查" in html and "延长10个工作日" in html


def test_twenty_concurrent_acceptances_get_twenty_consecutive_numbers(app, as_user):
    # On PostgreSQL the sequence row's lock orders them; on SQLite the write lock (BEGIN IMMEDIATE) does.
    actors = [Actor(app, "window1") for _ in range(20)]
    barrier = threading.Barrier(20)
    answers: list = []
    lock = threading.Lock()

    def go(actor):
        barrier.wait()
        response = actor.post("/api/cases", json=application())
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=go, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.status_code for r in answers) == [201] * 20
    numbers = sorted(r.get_json()["documents"][0]["number"] for r in answers)
    seqs = [int(re.search(r"〕(\d+)号", n).group(1)) for n in numbers]
    assert seqs == list(range(1, 21))


def test_the_guide_tells_everything_once(as_user):
    matter = as_user("window1").get("/api/matters/SC-001").get_json()
    assert matter["legal_basis"].startswith("《中华人民共和国食品安全法》") and matter["fees"] == "不收费。"
    response = as_user("window1").get("/api/matters/SC-001/guide")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode("utf-8")
    for text in ("一次性告知单", "食品安全法", "不收费", "政务服务中心一楼", "20 个工作日", "10 个工作日"):
        assert text in html, text
    for material in matter["materials"]:
        assert material["name"] in html
    assert "必需（可容缺，受理后补齐）" in html and "非必需" in html
    assert as_user("window1").get("/api/matters/NO-SUCH/guide").status_code == 404


def test_the_departments_seal_is_frozen_into_the_document(app, as_user, tmp_path, monkeypatch):
    seal = b"\x89PNG\r\n\x1a\n" + b"seal-of-market"
    (tmp_path / "market.png").write_bytes(seal)
    monkeypatch.setitem(app.config, "DOCUMENT_SEAL_DIR", str(tmp_path))
    case = accept(as_user)
    html = html_of(as_user, case["documents"][0])
    assert "data:image/png;base64," + base64.b64encode(seal).decode() in html and "（印章）" not in html
    (tmp_path / "market.png").write_bytes(b"\x89PNG\r\n\x1a\nanother")
    assert html_of(as_user, case["documents"][0]) == html
    monkeypatch.setitem(app.config, "DOCUMENT_SEAL_DIR", str(tmp_path / "none"))
    assert "（印章）" in html_of(as_user, accept(as_user)["documents"][0])

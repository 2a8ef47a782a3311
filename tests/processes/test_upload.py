"""POST /api/processes: a draft with its report (201), or the report and nothing stored (422); files
from modelling tools; and no byte string, however odd, ever gives a 500."""

import gzip
import hashlib
import io
import random
import zipfile

import pytest

from tests.conftest import row_counts
from tests.processes.bpmn_builder import process
from tests.processes.fixtures import FOOD, entries, line_of, read, upload


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_upload_stores_a_draft_and_answers_with_its_report(as_user, app):
    data = read("camunda7_sole_trader.bpmn")
    response = upload(as_user("designer"), data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["key"], body["version"], body["state"]) == ("sole_trader_registration", 1, "draft")
    assert body["hash"] == hashlib.sha256(data).hexdigest()
    assert body["report"] and all(e["severity"] == "warning" for e in body["report"])
    versions = as_user("designer").get("/api/processes/sole_trader_registration/versions").get_json()
    assert versions["total"] == 1 and versions["items"][0]["state"] == "draft"
    listed = {p["key"]: p for p in as_user("window1").get("/api/processes").get_json()["items"]}
    assert listed["sole_trader_registration"]["published_version"] is None
    assert listed["sole_trader_registration"]["latest_version"] == 1


def test_camunda_extensions_are_ignored_with_a_warning_naming_element_and_line(as_user):
    data = read("camunda7_sole_trader.bpmn")
    report = upload(as_user("designer"), data).get_json()["report"]
    review = entries(report, element="Activity_1n2mq8r")
    assert len(review) == 1 and review[0]["line"] == line_of(data, 'id="Activity_1n2mq8r"')
    for ignored in ("formKey", "candidateGroups", "taskListener"):
        assert ignored in review[0]["message"]
    assert "formData" not in review[0]["message"]  # the platform reads forms (issue 12)
    assert "camunda" in review[0]["message"]
    process_warning = entries(report, element="sole_trader_registration")[0]
    assert "historyTimeToLive" in process_warning["message"] and "versionTag" in process_warning["message"]
    # One warning per element and namespace, never one per nested extension element.
    assert not any("constraint" in e["message"] or "validation" in e["message"] for e in report)


def test_zeebe_export_is_accepted_with_warnings(as_user):
    data = read("zeebe_public_health_permit.bpmn")
    response = upload(as_user("designer"), data)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()["report"]
    assert {e["severity"] for e in report} == {"warning"}
    review = entries(report, element="review")[0]
    assert "zeebe" in review["message"] and "assignmentDefinition" in review["message"]
    assert review["line"] == line_of(data, 'id="review"')
    assert entries(report, element="public_health_permit")[0]["line"] == line_of(data, 'id="public_health_permit"')


def test_bpmn_js_demo_export_is_refused_with_a_report(as_user, app):
    data = read("bpmnjs_demo.bpmn")
    designer = as_user("designer")
    before = row_counts(app)
    body = _problem(upload(designer, data), 422)
    assert row_counts(app) == before
    assert body["key"] == "Process_1" and body.get("version") is None
    errors = entries(body["report"], severity="error")
    assert {e["element"] for e in errors} >= {"Process_1", "Activity_1y2ad9k", "Activity_0s8kt3e", "Flow_1k0p8xq"}
    plain = entries(errors, element="Activity_0n6l1zx")
    assert plain and "bpmn:task" in plain[0]["message"] and plain[0]["line"] == line_of(data, 'id="Activity_0n6l1zx"')
    # bpmn-js colours on diagram shapes are presentation only: no warning about them.
    assert not any("bioc" in e["message"] or "color" in e["message"] for e in body["report"])


def test_collaboration_of_two_executable_pools_is_refused(as_user):
    data = read("collaboration_two_pools.bpmn")
    body = _problem(upload(as_user("designer"), data), 422)
    (error,) = entries(body["report"], severity="error")
    assert error["element"] == "market_review" and "window_intake" in error["message"]
    assert error["line"] == line_of(data, 'id="market_review"')


def test_only_designers_upload(as_user, app):
    actors = [as_user(user) for user in ("window1", "market_leader", "auditor")]
    before = row_counts(app)
    for actor in actors:
        _problem(upload(actor, read("camunda7_sole_trader.bpmn")), 403)
    assert row_counts(app) == before
    assert upload(as_user("admin"), read("camunda7_sole_trader.bpmn")).status_code == 201


def test_a_form_or_json_body_is_415(as_user, app):
    designer = as_user("designer")
    before = row_counts(app)
    for content_type in ("application/json", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"):
        _problem(upload(designer, process("typed"), content_type), 415)
    assert row_counts(app) == before
    assert upload(designer, process("typed"), "text/xml; charset=utf-8").status_code == 201


def test_above_bpmn_max_bytes_is_413_and_stores_nothing(as_user, app, monkeypatch):
    data = process("big_one")
    monkeypatch.setitem(app.config, "BPMN_MAX_BYTES", len(data) - 1)
    designer = as_user("designer")
    before = row_counts(app)
    body = _problem(upload(designer, data), 413)
    assert body["report"][0]["severity"] == "error"
    assert row_counts(app) == before
    monkeypatch.setitem(app.config, "BPMN_MAX_BYTES", len(data))
    assert upload(designer, data).status_code == 201


def test_above_the_request_limit_is_413(as_user, app):
    body = b"<a>" + b" " * (app.config["MAX_CONTENT_LENGTH"] + 1) + b"</a>"
    _problem(upload(as_user("designer"), body), 413)


def test_the_same_bytes_twice_are_one_version(as_user, app):
    designer = as_user("designer")
    first = upload(designer, process("twice")).get_json()
    before = row_counts(app)
    second = upload(designer, process("twice")).get_json()
    assert (second["version"], second["hash"]) == (first["version"], first["hash"])
    assert row_counts(app) == before
    third = upload(designer, process("twice", name="改过的名称")).get_json()
    assert third["version"] == 2


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("food.bpmn", FOOD)
    return buffer.getvalue()


NESTED = b"<a>" * 10_000 + b"</a>" * 10_000
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</bpmn:definitions>"""
BPMN_HEAD = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
GARBAGE = {
    "empty": b"",
    "whitespace": b" \r\n\t ",
    "binary": random.Random(3).randbytes(4096),
    "zip": _zip(),
    "gzip": gzip.compress(FOOD),
    "pdf": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "json": b'{"bpmn": "<definitions/>"}',
    "nested_10000": NESTED,
    "html": b"<!doctype html><html><body>hi</body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>',
    "billion_laughs": BILLION_LAUGHS,
    "xxe_utf16": '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'.encode(
        "utf-16"
    ),
    "no_process": BPMN_HEAD + b"</bpmn:definitions>",
    "process_as_root": b'<bpmn:process xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="p"/>',
    "empty_process": BPMN_HEAD + b'<bpmn:process id="empty_one" isExecutable="true"/></bpmn:definitions>',
    "two_executables": BPMN_HEAD
    + b'<bpmn:process id="one_p" isExecutable="true"/><bpmn:process id="two_p" isExecutable="true"/>'
    + b"</bpmn:definitions>",
    "collaboration_only": BPMN_HEAD
    + b'<bpmn:collaboration id="c"><bpmn:participant id="pa" processRef="nowhere"/></bpmn:collaboration>'
    + b"</bpmn:definitions>",
    "truncated": FOOD[: len(FOOD) // 2],
    "invalid_utf8": FOOD.replace("食品经营许可".encode(), b"\xff\xfe\xfd", 1),
    "nul_bytes": FOOD.replace(b"review", b"rev\x00iew", 1),
    "quote_in_id": process("o'brien"),
    "chinese_key": process("食品许可"),
    "huge_attribute": process("huge_attr", name="名" * 200_000),
    "deep_expression": process("deep_expr", condition="(" * 300 + "1" + ")" * 300),
    "long_expression": process("long_expr", condition=" + ".join(["1"] * 3000) + " == 3000"),
    "unary_chain": process("unary_chain", condition="-" * 1990 + "1 == 1"),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_any_bytes_give_a_4xx_or_201_never_500(as_user, app, name):
    designer = as_user("designer")
    before = row_counts(app)
    response = upload(designer, GARBAGE[name])
    assert response.status_code in (201, 413, 422), (response.status_code, response.get_data(as_text=True)[:500])
    if response.status_code != 201:
        body = _problem(response, response.status_code)
        assert entries(body["report"], severity="error"), body
        assert all(set(e) == {"severity", "element", "line", "message"} for e in body["report"])
        assert row_counts(app) == before


def test_dtd_is_refused_before_parsing(as_user):
    body = _problem(upload(as_user("designer"), BILLION_LAUGHS), 422)
    assert len(body["report"]) == 1 and "DOCTYPE" in body["report"][0]["message"]
    body = _problem(upload(as_user("designer"), GARBAGE["xxe_utf16"]), 422)
    assert "DOCTYPE" in body["report"][0]["message"]


def test_nesting_is_refused_by_the_parser_with_a_line(as_user):
    body = _problem(upload(as_user("designer"), NESTED), 422)
    (error,) = body["report"]
    assert error["line"] == 1 and "depth" in error["message"]


def test_truncated_file_reports_not_well_formed_with_its_line(as_user):
    body = _problem(upload(as_user("designer"), GARBAGE["truncated"]), 422)
    (error,) = body["report"]
    assert "not well-formed" in error["message"] and error["line"] and error["line"] > 1

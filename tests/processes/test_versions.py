"""Versions: immutable and downloadable byte for byte; publish (re-checked) switches new cases to a
version while running cases finish on the one they started on."""

import hashlib

from app.engine.runtime import definitions
from app.extensions import db
from app.identity import organisation
from app.identity import service as identity
from tests.conftest import row_counts
from tests.factories import FOOD_STAFF, accept, open_tasks, work
from tests.processes.bpmn_builder import process
from tests.processes.fixtures import FOOD, entries, upload
from tests.processes.scenarios import events as case_events

KEY = "food_business_license"
STAFF = {**FOOD_STAFF, "legal_review": "market_chief"}
DECISION = {"decide": {"approved": True, "opinion": "同意"}}
LEGAL_REVIEW = """    <bpmn:userTask id="legal_review" name="法制审核">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="form" value="opinion" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_audit_decide</bpmn:incoming>
      <bpmn:outgoing>f_legal_decide</bpmn:outgoing>
    </bpmn:userTask>
"""


def food_v2() -> bytes:
    """bpmn/food_business_license.bpmn with a legal review (法制审核) between audit and decision."""
    text = FOOD.decode()
    edits = [
        ('<bpmn:userTask id="decide"', LEGAL_REVIEW + '    <bpmn:userTask id="decide"'),
        (
            "<bpmn:incoming>f_audit_decide</bpmn:incoming>\n      <bpmn:outgoing>f_decide_gw",
            "<bpmn:incoming>f_legal_decide</bpmn:incoming>\n      <bpmn:outgoing>f_decide_gw",
        ),
        (
            'sourceRef="audit" targetRef="decide" />',
            'sourceRef="audit" targetRef="legal_review" />\n'
            '    <bpmn:sequenceFlow id="f_legal_decide" sourceRef="legal_review" targetRef="decide" />',
        ),
        (
            "<bpmn:flowNodeRef>audit</bpmn:flowNodeRef>",
            "<bpmn:flowNodeRef>audit</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>legal_review</bpmn:flowNodeRef>",
        ),
    ]
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode()


def _drive(as_user, case_id: str) -> list[str]:
    path = []
    while tasks := open_tasks(as_user, case_id):
        task = tasks[0]
        path.append(task["name"])
        work(as_user, task, DECISION.get(task["name"], {"opinion": "同意"}), user=STAFF[task["name"]])
    return path


def _publish(as_user, key: str, version: int):
    return as_user("designer").post(f"/api/processes/{key}/versions/{version}/publish")


def test_running_cases_finish_on_their_version_and_new_cases_take_the_published_one(as_user):
    old = accept(as_user)
    work(as_user, open_tasks(as_user, old["id"])[0], {"opinion": "材料齐全"}, user=STAFF["review"])
    uploaded = upload(as_user("designer"), food_v2())
    assert uploaded.status_code == 201, uploaded.get_json()
    assert (uploaded.get_json()["version"], uploaded.get_json()["report"]) == (2, [])
    published = _publish(as_user, KEY, 2)
    assert published.status_code == 200, published.get_json()
    new = accept(as_user)
    definitions.clear()  # the old case reloads v1 from its own stored bytes
    assert _drive(as_user, old["id"]) == ["audit", "decide", "certify", "deliver"]
    assert _drive(as_user, new["id"]) == ["review", "audit", "legal_review", "decide", "certify", "deliver"]
    for case, version in ((old, 1), (new, 2)):
        final = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()
        assert (final["status"], final["result"]) == ("completed", "approved")
        events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
        assert events[0]["payload"]["process_version"] == version


def test_publish_retires_the_previous_version(as_user):
    upload(as_user("designer"), food_v2())
    body = _publish(as_user, KEY, 2).get_json()
    assert body["state"] == "published" and body["published_at"] and body["version"] == 2
    versions = as_user("window1").get(f"/api/processes/{KEY}/versions").get_json()
    assert versions["total"] == 2
    assert [(v["version"], v["state"]) for v in versions["items"]] == [(2, "published"), (1, "retired")]
    for item in versions["items"]:
        assert {"version", "state", "hash", "created_at", "published_at"} <= set(item)
        assert item["created_at"].endswith("+08:00")
    listed = {p["key"]: p for p in as_user("window1").get("/api/processes").get_json()["items"]}
    assert listed[KEY]["published_version"] == 2


def test_a_published_version_cannot_be_published_again(as_user, app):
    upload(as_user("designer"), food_v2())
    assert _publish(as_user, KEY, 2).status_code == 200
    designer = as_user("designer")
    before = row_counts(app)
    response = designer.post(f"/api/processes/{KEY}/versions/2/publish")
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert designer.post(f"/api/processes/{KEY}/versions/9/publish").status_code == 404
    assert designer.post("/api/processes/nothing/versions/1/publish").status_code == 404
    assert row_counts(app) == before


def test_rollback_publishes_a_retired_version_again_and_is_recorded(as_user):
    designer = as_user("designer")
    upload(designer, food_v2())
    assert _publish(as_user, KEY, 2).status_code == 200
    rolled = _publish(as_user, KEY, 1)  # v2 turned out bad: back to v1
    assert rolled.status_code == 200, rolled.get_json()
    versions = designer.get(f"/api/processes/{KEY}/versions").get_json()["items"]
    assert [(v["version"], v["state"]) for v in versions] == [(2, "retired"), (1, "published")]
    case = accept(as_user)
    assert case_events(as_user, case["id"])[0]["payload"]["process_version"] == 1
    log = as_user("auditor").get(f"/api/processes/{KEY}/publications").get_json()
    assert [(p["version"], p["previous_version"], p["rollback"], p["published_by"]) for p in log["items"]][:2] == [
        (1, 2, True, "designer"),
        (2, 1, False, "designer"),
    ]
    assert as_user("window1").get(f"/api/processes/{KEY}/publications").status_code == 403
    assert designer.get("/api/processes/nothing/publications").status_code == 404


def test_only_designers_publish(as_user):
    upload(as_user("designer"), food_v2())
    assert as_user("market_leader").post(f"/api/processes/{KEY}/versions/2/publish").status_code == 403
    states = [v["state"] for v in as_user("designer").get(f"/api/processes/{KEY}/versions").get_json()["items"]]
    assert states == ["draft", "published"]


def test_publish_checks_again_because_groups_change(as_user, app):
    with app.app_context():
        organisation.ensure_group(code="market.temp", name="临时岗", department="market")
        db.session.commit()
    assert upload(as_user("designer"), process("temp_lane", lane="market.temp")).status_code == 201
    with app.app_context():
        db.session.delete(identity.get_group(code="market.temp"))
        db.session.commit()
    identity._principal_cache.clear()
    response = _publish(as_user, "temp_lane", 1)
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert (body["key"], body["version"], body["state"]) == ("temp_lane", 1, "draft")
    assert entries(body["report"], severity="error", element="review")
    versions = as_user("designer").get("/api/processes/temp_lane/versions").get_json()["items"]
    assert versions[0]["state"] == "draft" and versions[0]["published_at"] is None


def test_versions_are_downloadable_byte_for_byte(as_user):
    odd = b"\xef\xbb\xbf" + FOOD.replace("承办人审查".encode(), "承办人审查\t ".encode()).replace(b"\n", b"  \r\n")
    odd = odd.replace(b"<bpmn:laneSet", b"\t\t\r\n\r\n   <bpmn:laneSet", 1)
    response = upload(as_user("designer"), odd)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["hash"] == hashlib.sha256(odd).hexdigest()
    download = as_user("window1").get(f"/api/processes/{KEY}/versions/2/xml")
    assert download.status_code == 200 and download.mimetype == "application/xml"
    assert download.data == odd
    assert download.headers["ETag"] == f'"{hashlib.sha256(odd).hexdigest()}"'
    listed = as_user("window1").get(f"/api/processes/{KEY}/versions").get_json()["items"]
    first = as_user("window1").get(f"/api/processes/{KEY}/versions/1/xml").data
    assert hashlib.sha256(first).hexdigest() == listed[-1]["hash"] != listed[0]["hash"]
    assert as_user("window1").get(f"/api/processes/{KEY}/versions/3/xml").status_code == 404


def test_version_lists_page(as_user):
    designer = as_user("designer")
    for n in range(3):
        upload(designer, FOOD.replace(b"</bpmn:definitions>", f"<!-- {n} --></bpmn:definitions>".encode()))
    page = designer.get(f"/api/processes/{KEY}/versions?per_page=2&page=2").get_json()
    assert page["total"] == 4 and [v["version"] for v in page["items"]] == [2, 1]
    assert designer.get("/api/processes/unknown_key/versions").status_code == 404
    assert designer.get(f"/api/processes/{KEY}/versions?per_page=500").status_code == 422
    everything = designer.get("/api/processes").get_json()
    assert everything["total"] == len(everything["items"]) >= 1
    assert {p["key"]: p for p in everything["items"]}[KEY]["latest_version"] == 4
    one = designer.get("/api/processes?per_page=1").get_json()
    assert one["total"] == everything["total"] and one["items"] == everything["items"][:1]


def test_sync_refuses_two_files_with_one_key(runner, tmp_path, as_user):
    (tmp_path / "a.bpmn").write_bytes(process("same_key"))
    (tmp_path / "b.bpmn").write_bytes(process("same_key", name="另一个"))
    result = runner.invoke(args=["processes", "sync", "--dir", str(tmp_path)])
    assert result.exit_code != 0 and "b.bpmn" in result.output and "a.bpmn" in result.output
    listed = {p["key"] for p in as_user("designer").get("/api/processes").get_json()["items"]}
    assert "same_key" not in listed


def test_sync_is_idempotent(runner, tmp_path, as_user):
    (tmp_path / "one.bpmn").write_bytes(process("synced_one"))
    first = runner.invoke(args=["processes", "sync", "--dir", str(tmp_path)])
    second = runner.invoke(args=["processes", "sync", "--dir", str(tmp_path)])
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "synced_one v1 published" in first.output and "synced_one v1 unchanged" in second.output
    versions = as_user("designer").get("/api/processes/synced_one/versions").get_json()
    assert versions["total"] == 1 and versions["items"][0]["state"] == "published"

"""The history for people: a Chinese timeline (JSON) and a printable document."""

from tests.audit import tamper
from tests.audit.scenarios import food_delegate, food_suspend_extend, ok
from tests.factories import accept


def _history(as_user, case_id, user="auditor"):
    return ok(as_user(user).get(f"/api/cases/{case_id}/history"))


def test_timeline_in_chinese(as_user):
    case_id = food_delegate(as_user)
    history = _history(as_user, case_id)
    items = history["items"]
    events = ok(as_user("auditor").get(f"/api/cases/{case_id}/events"))["items"]
    assert history["total"] == len(items) == len(events) and history["number"].startswith("YC")
    assert [i["seq"] for i in items] == [e["seq"] for e in events]

    accepted = items[0]
    assert (accepted["step"], accepted["action"], accepted["actor_name"], accepted["department"]) == (
        "窗口受理",
        "受理",
        "王窗口",
        "政务服务中心",
    )
    assert accepted["deadline_status"] == "正常" and accepted["at"].endswith("+08:00")

    delegated = next(i for i in items if i["type"] == "task_delegated")
    assert delegated["step"] == "承办人审查" and delegated["action"] == "转交"
    assert delegated["actor_name"] == "张审查" and delegated["opinion"] == "转交给赵审查：AB岗：A岗外出"

    reviewed = next(i for i in items if i["type"] == "task_completed")
    assert reviewed["actor_name"] == "赵审查" and reviewed["department"] == "市场监督管理局"
    assert reviewed["action"] == "办理" and reviewed["opinion"] == "材料齐全，符合要求"

    decided = next(i for i in items if i["type"] == "task_completed" and i["step"] == "分管领导审批决定")
    assert (decided["action"], decided["actor_name"], decided["opinion"]) == ("审批：准予", "孙局长", "同意")

    ready = next(i for i in items if i["type"] == "task_ready")
    assert ready["actor_name"] == "系统" and ready["action"] == "流转" and ready["department"] is None
    assert (items[-1]["action"], items[-1]["opinion"]) == ("办结", "准予许可")


def test_suspension_shows_in_the_deadline_status(as_user):
    case_id = food_suspend_extend(as_user)
    items = _history(as_user, case_id)["items"]
    suspended = next(i for i in items if i["type"] == "case_suspended")
    assert suspended["action"] == "挂起" and suspended["opinion"] == "补正：营业执照复印件不清晰，请补正"
    assert suspended["deadline_status"] == "正常（暂停计时）"
    resumed = next(i for i in items if i["type"] == "case_resumed")
    assert resumed["action"] == "恢复" and resumed["opinion"].startswith("已补正（顺延 ")
    assert resumed["deadline_status"] == "正常"
    extended = next(i for i in items if i["type"] == "case_extended")
    assert extended["actor_name"] == "孙局长" and "法定时限延长 10 个工作日" in extended["opinion"]


def test_printable_document(as_user):
    case_id = food_delegate(as_user)
    response = as_user("auditor").get(f"/api/cases/{case_id}/history.html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    case = ok(as_user("auditor").get(f"/api/cases/{case_id}"))
    head = ok(as_user("auditor").get(f"/api/cases/{case_id}/events"))["items"][-1]["hash"]
    for text in (case["number"], "食品经营许可（新办）", "市场监督管理局", "张三", "3301**********1234", head):
        assert text in page, text
    assert "330102199001011234" not in page
    assert "分管领导审批决定" in page and "转交给赵审查" in page and "@media print" in page
    assert "完整" in page and "一致" in page and "已被破坏" not in page


def test_document_shows_a_broken_chain(app, as_user):
    case_id = food_delegate(as_user)
    with tamper.raw_access(app) as session:
        tamper.delete_event(session, int(case_id), 3)
    page = as_user("auditor").get(f"/api/cases/{case_id}/history.html").get_data(as_text=True)
    assert "已被破坏" in page and "第 3 个事件起不可信" in page


def test_history_visibility(as_user):
    case = accept(as_user)
    for path in ("history", "history.html"):
        assert as_user("housing_reviewer").get(f"/api/cases/{case['id']}/{path}").status_code == 403
        assert as_user("market_reviewer1").get(f"/api/cases/{case['id']}/{path}").status_code == 200
        assert as_user("auditor").get(f"/api/cases/999999/{path}").status_code == 404


def test_every_kind_of_event_reads_in_chinese(as_user):
    """The events later issues added (documents, cards) have their words too: no entry shows a raw type."""
    case = accept(as_user)
    body = {"case_id": case["id"], "color": "yellow", "reason": "群众反映办理缓慢", "answer_days": 2}
    card = ok(as_user("supervisor").post("/api/supervision/cards", json=body), 201)
    ok(as_user("market_chief").post(f"/api/supervision/cards/{card['id']}/answer", json={"answer": "已加快办理"}))
    items = _history(as_user, case["id"])["items"]
    assert not [i for i in items if i["type"] in (i["step"], i["action"])], items
    [issued] = [i for i in items if i["type"] == "document_issued"]
    assert (issued["step"], issued["action"]) == ("文书", "出具文书")
    assert issued["opinion"] == f"受理通知书（{case['documents'][0]['number']}）"
    answered = next(i for i in items if i["type"] == "card_answered")
    assert (answered["action"], answered["opinion"]) == ("书面答复", "黄牌：已加快办理")

"""The pages over plain HTTP (Flask's test client): sessions, CSRF, CSP, redirects, the API left as it was."""

import re

from app.identity.idnumber import check_character, credit_check_character, credit_code_problem, id_number_problem
from tests.conftest import row_counts
from tests.factories import accept, application

VALID_ID = "11010519491231002X"


def _token(client, path: str) -> str:
    """The CSRF token a page hands its forms."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, username: str, password: str = "demo123"):
    """Log in through the login form (with its CSRF token), as a browser would."""
    token = _token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_pages_redirect_to_login_and_back(client):
    response = client.get("/inbox?scope=mine")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/inbox?scope%3Dmine")
    token = _token(client, "/login")
    form = {"username": "market_reviewer1", "password": "demo123", "csrf_token": token, "next": "/inbox?scope=mine"}
    back = client.post("/login", data=form)
    assert back.status_code == 302 and back.headers["Location"] == "/inbox?scope=mine"
    assert client.get("/inbox?scope=mine").status_code == 200


def test_login_refuses_a_wrong_password_and_an_outside_next(client):
    token = _token(client, "/login")
    wrong = client.post("/login", data={"username": "window1", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    body = wrong.get_data(as_text=True)
    assert "用户名或密码错误" in body and 'value="window1"' in body
    token = _token(client, "/login")
    away = client.post(
        "/login", data={"username": "window1", "password": "demo123", "csrf_token": token, "next": "//evil.example/x"}
    )
    assert away.headers["Location"] == "/"


def test_session_cookie_is_signed_httponly_and_lax(client):
    response = login(client, "window1")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("onewindow_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.set_cookie("onewindow_session", "forged", domain="localhost")
    assert client.get("/accept").status_code == 302


def test_every_page_carries_a_strict_csp(client):
    login(client, "window1")
    for path in ("/login", "/accept", "/inbox", "/cases"):
        csp = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "default-src 'self'" in csp and "unsafe" not in csp
    assert "Content-Security-Policy" not in client.get("/api/health").headers


def test_a_form_post_without_its_csrf_token_changes_nothing(app, client):
    login(client, "window1")
    before = row_counts(app)
    response = client.post(
        "/accept",
        data={"matter_code": "SC-001", "applicant_name": "张三", "applicant_id_number": VALID_ID, "materials": []},
    )
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)
    assert row_counts(app) == before


def test_login_itself_needs_the_csrf_token(client):
    response = client.post("/login", data={"username": "window1", "password": "demo123"})
    assert response.status_code == 400
    assert client.get("/accept").status_code == 302


def test_the_api_keeps_working_with_bearer_tokens_and_no_csrf(as_user):
    case = accept(as_user)
    assert case["number"]
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{case['open_tasks'][0]['id']}/claim").status_code == 200


def test_the_session_does_not_open_the_api(client):
    login(client, "window1")
    response = client.get("/api/me")
    assert response.status_code == 401


def test_logout_ends_the_session(client):
    login(client, "window1")
    token = _token(client, "/accept")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/accept").status_code == 302


def test_a_page_the_role_may_not_see_is_refused_in_chinese(client):
    login(client, "market_reviewer1")
    response = client.get("/accept")
    assert response.status_code == 403
    assert "只有窗口人员可以受理" in response.get_data(as_text=True)


def test_start_page_by_role(client):
    for username, target in (("window1", "/inbox"), ("auditor", "/cases")):
        login(client, username)
        assert client.get("/").headers["Location"] == target
    login(client, "supervisor")
    assert "电子监察" in client.get("/").get_data(as_text=True)
    login(client, "designer")
    assert "food_business_license" in client.get("/").get_data(as_text=True)


def test_vendor_assets_are_served_from_the_pinned_packages(client):
    htmx = client.get("/assets/vendor/htmx.min.js")
    assert htmx.status_code == 200 and b"htmx" in htmx.data[:2000]
    assert client.get("/assets/vendor/bpmn-viewer.js").status_code == 200
    assert client.get("/assets/vendor/../package.json").status_code == 404
    assert client.get("/assets/vendor/package.json").status_code == 404


def test_id_number_check_digit():
    assert check_character("11010519491231002") == "X"
    assert id_number_problem(VALID_ID) is None
    assert id_number_problem(VALID_ID.lower()) is None
    assert "校验位" in id_number_problem("110105194912310021")
    assert "18 位" in id_number_problem("1101051949")
    assert "18 位" in id_number_problem("１１０１０５１９４９１２３１００２X")  # other scripts' digits


CREDIT_CODE = "91350100M000100Y43"  # 统一社会信用代码, GB 32100-2015


def test_credit_code_check_character():
    # Codes of real registered companies, each with its own check character (0, 9, letters).
    for code in (CREDIT_CODE, "911100001000116829", "91110000802100433B", "91440300708461136T", "9144030071526726XG"):
        assert credit_code_problem(code) is None, code
        assert credit_check_character(code[:17]) == code[17]
    assert credit_code_problem(CREDIT_CODE.lower()) is None
    assert "应为 3" in credit_code_problem(CREDIT_CODE[:17] + "4")
    assert "不含 I、O、Z、S、V" in credit_code_problem(CREDIT_CODE[:17] + "O")
    assert "18 位" in credit_code_problem(CREDIT_CODE[:10])


def test_the_desk_accepts_an_organisation_by_its_credit_code(app, client, as_user):
    """An organisation (单位) applies with its 统一社会信用代码; the desk checks it as it checks a person's
    id number, keeps the kind with the applicant and names it on the case page."""
    login(client, "window1")
    token = _token(client, "/accept")
    form = {
        "matter_code": "SC-001",
        "applicant_name": "某某餐饮管理有限公司",
        "applicant_id_type": "credit_code",
        "applicant_id_number": CREDIT_CODE[:17] + "4",
        "materials": ["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本"],
        "csrf_token": token,
    }
    before = row_counts(app)
    wrong = client.post("/accept", data=form)
    assert wrong.status_code == 422 and "统一社会信用代码校验位不正确" in wrong.get_data(as_text=True)
    person = client.post("/accept", data={**form, "applicant_id_number": VALID_ID})  # a person's number
    assert person.status_code == 422 and "统一社会信用代码校验位不正确" in person.get_data(as_text=True)
    assert row_counts(app) == before
    done = client.post("/accept", data={**form, "applicant_id_number": CREDIT_CODE.lower()})
    assert done.status_code == 302
    case_id = int(re.search(r"done=(\d+)", done.headers["Location"]).group(1))
    case = as_user("window1").get(f"/api/cases/{case_id}").get_json()
    assert case["applicant"]["id_type"] == "credit_code" and case["applicant"]["id_number"] == CREDIT_CODE
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<th>统一社会信用代码</th>" in page and CREDIT_CODE in page


def test_the_api_keeps_the_kind_of_the_applicants_number(as_user):
    clerk = as_user("window1")
    body = application(name="某某餐饮管理有限公司", id_type="credit_code", id_number=CREDIT_CODE)
    created = clerk.post("/api/cases", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["applicant"]["id_type"] == "credit_code"
    refused = clerk.post("/api/cases", json=application(id_type="passport"))
    assert refused.status_code == 422 and "id_type" in refused.get_json()["errors"]["applicant"]
    # With its type said, the number is checked as at the desk, and kept as checked (upper case).
    for id_type, number in (("id_card", "110105194912310021"), ("credit_code", CREDIT_CODE[:17] + "4")):
        wrong = clerk.post("/api/cases", json=application(id_type=id_type, id_number=number))
        assert wrong.status_code == 422, wrong.get_json()
        assert "校验位不正确" in wrong.get_json()["errors"]["applicant"]["id_number"][0]
    lower = clerk.post("/api/cases", json=application(id_type="id_card", id_number=VALID_ID.lower()))
    assert lower.status_code == 201 and lower.get_json()["applicant"]["id_number"] == VALID_ID
    # Without it, as before: the number as given (an older client, another kind of document).
    untyped = clerk.post("/api/cases", json=application(id_number="G12345678"))
    assert untyped.status_code == 201 and untyped.get_json()["applicant"]["id_number"] == "G12345678"


def test_the_desk_searches_cases_by_the_applicants_id_number(client, as_user):
    """/cases: the desk has 证件号码 among its filters and finds the applicant's cases by it; a role that
    sees id numbers masked has no such field, and the parameter is not read for it."""
    mine = accept(as_user, application(name="王五", id_type="id_card", id_number=VALID_ID))
    other = accept(as_user)
    login(client, "window1")
    page = client.get("/cases", query_string={"applicant_id_number": VALID_ID.lower()}).get_data(as_text=True)
    assert 'data-testid="search-id-number"' in page and "共 1 件" in page
    assert f'data-case-number="{mine["number"]}"' in page and f'data-case-number="{other["number"]}"' not in page
    client.post("/logout", data={"csrf_token": _token(client, "/cases")})
    login(client, "auditor")
    page = client.get("/cases", query_string={"applicant_id_number": VALID_ID}).get_data(as_text=True)
    assert 'data-testid="search-id-number"' not in page and "共 2 件" in page


def test_delegate_from_the_task_page(client, as_user, app):
    case = accept(as_user)
    task_id = case["open_tasks"][0]["id"]
    assert as_user("market_reviewer1").post(f"/api/tasks/{task_id}/claim").status_code == 200
    login(client, "market_reviewer1")
    token = _token(client, f"/tasks/{task_id}")
    before = row_counts(app)
    form = {"to": "market_reviewer2", "reason": "", "csrf_token": token}
    blank = client.post(f"/tasks/{task_id}/delegate", data=form)
    assert blank.status_code == 422 and "请填写转交理由" in blank.get_data(as_text=True)
    outsider = {"to": "housing_reviewer", "reason": "出差", "csrf_token": token}
    refused = client.post(f"/tasks/{task_id}/delegate", data=outsider)
    assert refused.status_code == 422 and "转交对象不在该任务的岗位组" in refused.get_data(as_text=True)
    assert row_counts(app) == before
    moved = client.post(f"/tasks/{task_id}/delegate", data={**outsider, "to": "market_reviewer2"})
    assert moved.status_code == 302
    assert as_user("auditor").get(f"/api/tasks/{task_id}").get_json()["assignee"] == "market_reviewer2"


def test_a_refused_case_action_changes_nothing_and_an_evaluation_is_recorded(client, as_user, app):
    from tests.processes.test_food_business_license import _drive

    case = accept(as_user)
    _drive(as_user, case["id"], {"decide": {"approved": True, "opinion": "同意"}})
    login(client, "window1")
    token = _token(client, f"/cases/{case['id']}")
    before = row_counts(app)
    withdrawn = client.post(f"/cases/{case['id']}/withdraw", data={"reason": "申请人撤回", "csrf_token": token})
    assert withdrawn.status_code == 409
    assert row_counts(app) == before
    rated = client.post(f"/cases/{case['id']}/evaluation", data={"level": "satisfied", "csrf_token": token})
    assert rated.status_code == 302
    assert as_user("auditor").get(f"/api/cases/{case['id']}").get_json()["evaluation"] == "satisfied"


def test_inbox_page_filters_use_the_api_rules(client, as_user):
    case = accept(as_user, None)
    login(client, "market_reviewer1")
    page = client.get(f"/inbox?q={case['number']}").get_data(as_text=True)
    assert f'data-case-number="{case["number"]}"' in page
    assert 'data-case-number="' not in client.get("/inbox?q=无此人").get_data(as_text=True)
    bad = client.get("/inbox?warning=red").get_data(as_text=True)
    assert "筛选条件有误" in bad and f'data-case-number="{case["number"]}"' in bad


def test_the_receipt_page_frames_the_issued_notice_and_only_it(client, as_user):
    """/cases/<id>/receipt prints the numbered 受理通知书 issued at acceptance (its stored bytes, framed
    under the toolbar), never a second rendering of its own; before acceptance there is none (404)."""
    case = accept(as_user)
    issued = case["documents"][0]
    login(client, "window1")
    page = client.get(f"/cases/{case['id']}/receipt")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'src="/documents/{issued["id"]}"' in html and f"/documents/{issued['id']}.pdf" in html
    assert issued["number"] in html and case["number"] in html
    assert "你（单位）" not in html  # the notice's text lives in the document, not in this page
    framed = client.get(f"/documents/{issued['id']}")
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]  # the page itself is not framed

    waiting = as_user("window1").post(
        "/api/cases",
        json={**application(materials=[]), "intake": "correct", "corrections": ["营业执照复印件须加盖公章"]},
    )
    assert waiting.status_code == 201, waiting.get_json()
    missing = client.get(f"/cases/{waiting.get_json()['id']}/receipt")
    assert missing.status_code == 404 and "没有受理通知书" in missing.get_data(as_text=True)


def test_the_desk_refuses_an_applicant_name_that_is_not_one_line(app, client):
    login(client, "window1")
    token = _token(client, "/accept")
    before = row_counts(app)
    for name in ("张\x07三", "张三\u2028李四", "名" * 101):
        form = {"matter_code": "SC-001", "applicant_name": name, "applicant_id_number": VALID_ID, "csrf_token": token}
        response = client.post("/accept", data=form)
        assert response.status_code == 422, name
        assert "请更正标出的项目" in response.get_data(as_text=True)
    assert row_counts(app) == before

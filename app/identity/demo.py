"""The demo center: departments, groups and accounts that `flask demo seed` creates (idempotent)."""

from app.identity import organisation

DEMO_PASSWORD = "demo123"

DEPARTMENTS = [
    ("center", "政务服务中心"),
    ("market", "市场监督管理局"),
    ("housing", "住房和城乡建设局"),
    ("health", "卫生健康委员会"),
    ("civil", "民政局"),
    ("fire", "消防救援支队"),
    ("resources", "自然资源和规划局"),
]

GROUPS = [
    ("center.window", "综合窗口", "center"),
    ("market.review", "市场监管局审查岗", "market"),
    ("market.chief", "市场监管局科室负责人", "market"),
    ("market.leader", "市场监管局分管领导", "market"),
    ("housing.review", "住建局审查岗", "housing"),
    ("housing.leader", "住建局分管领导", "housing"),
    ("health.review", "卫健委审查岗", "health"),
    ("health.leader", "卫健委分管领导", "health"),
    ("civil.review", "民政局审查岗", "civil"),
    ("fire.review", "消防审查岗", "fire"),
    ("resources.review", "自然资源审查岗", "resources"),
]

# username, display name, department, groups, roles
USERS = [
    ("window1", "王窗口", "center", ["center.window"], ["window"]),
    ("window2", "李窗口", "center", ["center.window"], ["window"]),
    ("market_reviewer1", "张审查", "market", ["market.review"], ["reviewer"]),
    ("market_reviewer2", "赵审查", "market", ["market.review"], ["reviewer"]),
    ("market_chief", "钱科长", "market", ["market.chief"], ["reviewer"]),
    ("market_leader", "孙局长", "market", ["market.leader"], ["leader"]),
    ("housing_reviewer", "周审查", "housing", ["housing.review"], ["reviewer"]),
    ("housing_leader", "吴局长", "housing", ["housing.leader"], ["leader"]),
    ("health_reviewer", "郑审查", "health", ["health.review"], ["reviewer"]),
    ("health_leader", "冯主任", "health", ["health.leader"], ["leader"]),
    ("civil_reviewer", "陈审查", "civil", ["civil.review"], ["reviewer"]),
    ("fire_reviewer", "褚审查", "fire", ["fire.review"], ["reviewer"]),
    ("resources_reviewer", "卫审查", "resources", ["resources.review"], ["reviewer"]),
    ("designer", "蒋设计", "center", [], ["designer"]),
    ("supervisor", "沈监察", "center", [], ["supervisor"]),
    ("auditor", "韩审计", "center", [], ["auditor"]),
    ("admin", "杨管理员", "center", [], ["admin"]),
]

# AB岗: each post's A and B.
BACKUPS = [
    ("window1", "window2"),
    ("window2", "window1"),
    ("market_reviewer1", "market_reviewer2"),
    ("market_reviewer2", "market_reviewer1"),
]


def seed(*, password: str = DEMO_PASSWORD) -> int:
    """Create or refresh the demo departments, groups and users; returns the number of users."""
    for code, name in DEPARTMENTS:
        organisation.ensure_department(code=code, name=name)
    for code, name, department in GROUPS:
        organisation.ensure_group(code=code, name=name, department=department)
    for username, display_name, department, groups, roles in USERS:
        # The demo password is shorter than the policy asks of real accounts (docs/organisation.md).
        organisation.save_user(
            username=username,
            password=password,
            policy=False,
            display_name=display_name,
            department=department,
            groups=groups,
            roles=roles,
        )
    for username, backup in BACKUPS:
        organisation.save_user(username=username, backup=backup)
    return len(USERS)

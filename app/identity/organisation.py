"""The center's organisation: departments, groups (posts, 岗位组) and people, changed by admins.

Every change goes through here and lands in the organisation log (app/identity/org_log.py) with
who made it and the record before and after; passwords are never logged or returned.
"""

from __future__ import annotations

from flask import current_app
from marshmallow import ValidationError, validate
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.errors import Conflict, Invalid
from app.extensions import db
from app.identity import org_log
from app.identity.models import ROLES, Department, Group, User, user_group
from app.identity.schemas import CODE, GROUP_CODE, USERNAME
from app.identity.service import get_department, get_group, get_user, get_user_or_raise, revoke_tokens
from app.schemas import name_problem

SYSTEM = "system"


def department_view(dept: Department) -> dict:
    """A department as the API shows it."""
    return {"code": dept.code, "name": dept.name}


def group_view(group: Group) -> dict:
    """A group as the API shows it."""
    return {"code": group.code, "name": group.name, "department": group.department.code if group.department else None}


def user_view(user: User) -> dict:
    """A person as the API shows it (never the password)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "department": user.department.code if user.department else None,
        "groups": sorted(g.code for g in user.groups),
        "roles": sorted(user.roles.split()),
        "active": user.active,
        "backup": user.backup.username if user.backup else None,
    }


def list_departments() -> list[Department]:
    """Every department, by code."""
    return list(db.session.scalars(select(Department).order_by(Department.code)))


def list_groups(*, department: str | None = None) -> list[Group]:
    """Every group (of one department when given), by code."""
    query = select(Group).order_by(Group.code)
    if department:
        query = query.join(Department, Department.id == Group.department_id).where(Department.code == department)
    return list(db.session.scalars(query))


def list_users(
    *, page: int = 1, per_page: int = 50, department: str | None = None, group: str | None = None
) -> tuple[list[User], int]:
    """A page of people by username, filtered by department or group."""
    query = select(User)
    if department:
        query = query.join(Department, Department.id == User.department_id).where(Department.code == department)
    if group:
        query = (
            query.join(user_group, user_group.c.user_id == User.id)
            .join(Group, Group.id == user_group.c.group_id)
            .where(Group.code == group)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(query.order_by(User.username).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def create_department(*, actor: str, code: str, name: str) -> Department:
    """A new department (409 when the code is taken)."""
    _check(CODE, "code", code)
    if get_department(code=code) is not None:
        raise Conflict(f"部门 {code} 已存在 The department exists.", errors={"code": ["已存在 exists"]})
    return ensure_department(actor=actor, code=code, name=name)


def ensure_department(*, actor: str = SYSTEM, code: str, name: str) -> Department:
    """Create the department or rename it (idempotent; logged when something changed)."""
    _check_name("name", name)
    dept = get_department(code=code)
    before = department_view(dept) if dept else None
    if dept is None:
        dept = Department(code=code, name=name)
        _add(dept)
    dept.name = name
    _log(actor, "department_saved" if before else "department_created", code, before, department_view(dept))
    return dept


def create_group(*, actor: str, code: str, name: str, department: str | None) -> Group:
    """A new group of a department (409 when the code is taken, 422 for an unknown department)."""
    _check(GROUP_CODE, "code", code)
    if get_group(code=code) is not None:
        raise Conflict(f"岗位组 {code} 已存在 The group exists.", errors={"code": ["已存在 exists"]})
    return ensure_group(actor=actor, code=code, name=name, department=department)


def ensure_group(*, actor: str = SYSTEM, code: str, name: str, department: str | None) -> Group:
    """Create the group or update it (idempotent; logged when something changed)."""
    _check_name("name", name)
    dept = _department_or_invalid(department)
    group = get_group(code=code)
    before = group_view(group) if group else None
    if group is None:
        group = Group(code=code, name=name)
        _add(group)
    group.name, group.department = name, dept
    _log(actor, "group_saved" if before else "group_created", code, before, group_view(group))
    return group


def create_user(*, actor: str, username: str, password: str, **fields) -> User:
    """A new person (409 when the username is taken; 422 for unknown references or a weak password)."""
    _check(USERNAME, "username", username)
    if get_user(username=username) is not None:
        raise Conflict(f"用户 {username} 已存在 The user exists.", errors={"username": ["已存在 exists"]})
    return save_user(actor=actor, username=username, password=password, **fields)


def save_user(
    *,
    actor: str = SYSTEM,
    username: str,
    password: str | None = None,
    policy: bool = True,
    **fields,
) -> User:
    """Create the person or change the fields given (display_name, department, groups, roles, active,
    backup, password); deactivating one revokes their tokens at once. Logged when something changed."""
    user = get_user(username=username)
    before = user_view(user) if user else None
    if user is None:
        if password is None:
            raise Invalid("新用户需要设置密码 A new user needs a password.", errors={"password": ["必填 required"]})
        user = User(username=username, display_name=fields.get("display_name") or username, roles="")
    changes = _checked(user, fields)
    if password is not None:
        if policy:
            check_password_policy(username=username, password=password)
        user.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    for name, value in changes.items():
        setattr(user, name, value)
    _add(user)
    if before is not None and before["active"] and not user.active:
        revoke_tokens(user_id=user.id)
    after = user_view(user)
    if password is not None and before is not None:
        after = {**after, "password": "已重置 reset"}
    _log(actor, "user_saved" if before else "user_created", username, before, after)
    return user


def check_password_policy(*, username: str, password: str) -> None:
    """A new password must be long enough and must not be (or contain) the username (422 otherwise)."""
    minimum = current_app.config.get("PASSWORD_MIN_LENGTH", 8)
    problems = []
    if len(password) < minimum:
        problems.append(f"密码至少 {minimum} 位 at least {minimum} characters")
    if username.lower() in password.lower():
        problems.append("密码不能包含用户名 must not contain the username")
    if problems:
        raise Invalid("密码不符合要求 The password is too weak.", errors={"password": problems})


def _checked(user: User, fields: dict) -> dict:
    """The model values for the given API fields, every reference checked (422 naming the field)."""
    out: dict = {}
    if fields.get("display_name"):
        out["display_name"] = _check_name("display_name", fields["display_name"])
    if "department" in fields:
        out["department"] = _department_or_invalid(fields["department"])
    if "groups" in fields:
        out["groups"] = [_group_or_invalid(code) for code in fields["groups"]]
    if "roles" in fields:
        unknown = sorted(set(fields["roles"]) - set(ROLES))
        if unknown:
            raise Invalid(f"未知角色 Unknown roles: {', '.join(unknown)}", errors={"roles": unknown})
        out["roles"] = " ".join(sorted(set(fields["roles"])))
    if "active" in fields and fields["active"] is not None:
        out["active"] = bool(fields["active"])
    if "backup" in fields:
        out["backup"] = _backup_or_invalid(user, fields["backup"])
    return out


def _check(rule: validate.Validator, field: str, value: str) -> None:
    """A new code or username by the API schema's rule, checked here too because the pages call these
    services without a schema (422 naming `field`)."""
    try:
        rule(value)
    except ValidationError as err:
        raise Invalid(f"{field} 不符合要求 Invalid {field}.", errors={field: err.messages}) from None


def _check_name(field: str, value: str) -> str:
    """A name as the API's schemas take it (one line of visible text, at most 100 characters), checked
    here too because the pages call these services without a schema (422 naming `field`)."""
    problem = name_problem(value)
    if problem:
        raise Invalid(f"名称不符合要求 The name is invalid: {problem}", errors={field: [problem]})
    return value


def _department_or_invalid(code: str | None) -> Department | None:
    if not code:
        return None
    dept = get_department(code=code)
    if dept is None:
        raise Invalid(f"部门 {code} 不存在 Unknown department.", errors={"department": [code]})
    return dept


def _group_or_invalid(code: str) -> Group:
    group = get_group(code=code)
    if group is None:
        raise Invalid(f"岗位组 {code} 不存在 Unknown group.", errors={"groups": [code]})
    return group


def _backup_or_invalid(user: User, username: str | None) -> User | None:
    if not username:
        return None
    backup = get_user(username=username)
    if backup is None or not backup.active or backup.username == user.username:
        raise Invalid(f"B 岗 {username} 不存在、已停用或为本人 Unknown backup.", errors={"backup": [username]})
    return backup


def deactivate(*, actor: str, username: str) -> User:
    """Make a person inactive: no more logins, their tokens stop working at once."""
    get_user_or_raise(username=username)
    return save_user(actor=actor, username=username, active=False)


def _add(row) -> None:
    db.session.add(row)
    db.session.flush()


def _log(actor: str, action: str, target: str, before: dict | None, after: dict | None) -> None:
    if before != after:
        org_log.record(actor=actor, action=action, target=target, before=before, after=after)

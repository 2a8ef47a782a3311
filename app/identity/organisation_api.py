"""The center's organisation: departments, groups, people (admins write, staff read) and its log."""

from flask.views import MethodView

from app.extensions import Blueprint
from app.identity import org_log, organisation
from app.identity.principal import current, require_role
from app.identity.schemas import (
    DepartmentSchema,
    GroupArgs,
    GroupSchema,
    LogArgs,
    LogListSchema,
    LogVerifySchema,
    UserArgs,
    UserChangeSchema,
    UserCreateSchema,
    UserListSchema,
    UserSchema,
)
from app.identity.service import get_user_or_raise

blp = Blueprint("organisation", __name__, url_prefix="/api", description="机构与人员 The center's organisation")


@blp.route("/departments")
class Departments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self):
        """Every department."""
        current()
        return [organisation.department_view(d) for d in organisation.list_departments()]

    @blp.arguments(DepartmentSchema)
    @blp.response(201, DepartmentSchema)
    def post(self, body):
        """A new department (admin; 409 when the code is taken)."""
        actor = require_role("admin").username
        return organisation.department_view(organisation.create_department(actor=actor, **body))


@blp.route("/groups")
class Groups(MethodView):
    @blp.arguments(GroupArgs, location="query")
    @blp.response(200, GroupSchema(many=True))
    def get(self, args):
        """Every group (岗位组), or one department's."""
        current()
        return [organisation.group_view(g) for g in organisation.list_groups(**args)]

    @blp.arguments(GroupSchema)
    @blp.response(201, GroupSchema)
    def post(self, body):
        """A new group of a department (admin; 409 duplicate, 422 unknown department)."""
        actor = require_role("admin").username
        return organisation.group_view(organisation.create_group(actor=actor, **body))


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserArgs, location="query")
    @blp.response(200, UserListSchema)
    def get(self, args):
        """People, by username (filter by department or group)."""
        current()
        rows, total = organisation.list_users(**args)
        return {"items": [organisation.user_view(u) for u in rows], "total": total}

    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, body):
        """A new person (admin; 409 duplicate, 422 unknown references or a weak password)."""
        actor = require_role("admin").username
        return organisation.user_view(organisation.create_user(actor=actor, **body))


@blp.route("/users/<string:username>")
class UserItem(MethodView):
    @blp.response(200, UserSchema)
    def get(self, username):
        """One person."""
        current()
        return organisation.user_view(get_user_or_raise(username=username))

    @blp.arguments(UserChangeSchema, required=False)  # an empty change changes nothing
    @blp.response(200, UserSchema)
    def patch(self, body, username):
        """Change a person (admin): groups, roles, backup, active (false: their tokens stop at once), password."""
        actor = require_role("admin").username
        get_user_or_raise(username=username)
        return organisation.user_view(organisation.save_user(actor=actor, username=username, **body))


@blp.route("/admin/log")
class Log(MethodView):
    @blp.arguments(LogArgs, location="query")
    @blp.response(200, LogListSchema)
    def get(self, args):
        """The organisation log, newest first (admin, auditor): who changed whom, before and after."""
        require_role("admin", "auditor")
        items, total = org_log.list_entries(**args)
        return {"items": items, "total": total}


@blp.route("/admin/log/verify")
class LogVerify(MethodView):
    @blp.response(200, LogVerifySchema)
    def get(self):
        """Re-hash the organisation log's chain (admin, auditor)."""
        require_role("admin", "auditor")
        return org_log.verify()

"""AB岗 absences: recorded by the person, their department's leader or an admin."""

from flask.views import MethodView

from app.extensions import Blueprint
from app.identity.principal import current
from app.tasks import backups
from app.tasks.schemas import AbsenceArgs, AbsenceCreateSchema, AbsenceSchema

blp = Blueprint("absences", __name__, url_prefix="/api/users", description="AB岗 Absences and backups")


@blp.route("/<string:username>/absences")
class Absences(MethodView):
    @blp.arguments(AbsenceArgs, location="query")
    @blp.response(200, AbsenceSchema(many=True))
    def get(self, args, username):
        """A person's absences, newest first (`current=true`: those not yet over)."""
        current()
        rows = backups.list_absences(username=username, current_only=args["current"])
        return [backups.absence_view(a) for a in rows]

    @blp.arguments(AbsenceCreateSchema)
    @blp.response(201, AbsenceSchema)
    def post(self, body, username):
        """Record an absence; while it runs the backup (the person's default unless given) stands in."""
        absence = backups.record_absence(principal=current(), username=username, **body)
        return backups.absence_view(absence)


@blp.route("/<string:username>/absences/<int:absence_id>/end")
class AbsenceEnd(MethodView):
    @blp.response(200, AbsenceSchema)
    def post(self, username, absence_id):
        """End an absence now: cancelled (撤销) if it has not begun, ended early (提前结束) if it runs.

        The person is back at once; the backup keeps the tasks moved to them. 409 when it is over or
        cancelled already."""
        absence = backups.end_absence(principal=current(), username=username, absence_id=absence_id)
        return backups.absence_view(absence)

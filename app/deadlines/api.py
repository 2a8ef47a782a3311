"""The working-day calendar: read and load a year, and when a limit ends."""

from flask.views import MethodView

from app.deadlines import calendar, jobs
from app.deadlines.schemas import CalendarYearOutSchema, CalendarYearSchema, DueArgs, DueSchema
from app.deadlines.workdays import FIRST_YEAR, LAST_YEAR
from app.errors import Invalid
from app.extensions import Blueprint
from app.identity.principal import current, require_role

# The path's year within the supported range (outside it: 422).
YEAR = {"in": "path", "name": "year", "schema": {"type": "integer", "minimum": FIRST_YEAR, "maximum": LAST_YEAR}}

blp = Blueprint("calendar", __name__, url_prefix="/api/calendar", description="工作日日历 Working-day calendar")


@blp.route("/<int:year>", parameters=[YEAR])
class CalendarYearView(MethodView):
    @blp.response(200, CalendarYearOutSchema)
    def get(self, year):
        """A year's days that differ from Monday-Friday (holidays, make-up working days)."""
        current()
        return calendar.get_year(year=year)

    @blp.arguments(CalendarYearSchema)
    @blp.response(200, CalendarYearOutSchema)
    def put(self, body, year):
        """Load a year's official arrangement (admin); provisional deadlines are recomputed."""
        principal = require_role("admin")
        if body["year"] != year:
            raise Invalid(
                "路径与正文中的年份不一致 The year in the path and the body differ.",
                errors={"year": ["must equal the year in the path"]},
            )
        calendar.load_year(year=year, source=body["source"], days=body["days"])
        changed = jobs.recompute_provisional(actor=principal.username, year=year)
        return {**calendar.get_year(year=year), "recomputed_cases": changed}


@blp.route("/due")
class Due(MethodView):
    @blp.arguments(DueArgs, location="query")
    @blp.response(200, DueSchema)
    def get(self, args):
        """When a limit of N working days from an acceptance date ends (to tell the applicant)."""
        current()
        due_date, due_at, provisional = calendar.current().due(args["from_"], args["days"])
        return {
            "from_": args["from_"],
            "days": args["days"],
            "due_date": due_date,
            "due_at": due_at,
            "provisional": provisional,
        }

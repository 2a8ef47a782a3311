"""What the platform told me: list, mark read."""

from flask.views import MethodView

from app.extensions import Blueprint
from app.identity.principal import current
from app.notifications import service
from app.notifications.schemas import NotificationArgs, NotificationListSchema, NotificationSchema

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications", description="通知 Notifications")


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationArgs, location="query")
    @blp.response(200, NotificationListSchema)
    def get(self, args):
        """My notifications, newest first (`unread=true`: only the unread), with the unread count."""
        principal = current()
        rows, total = service.list_for(user_id=principal.user_id, **args)
        return {"items": rows, "total": total, "unread": service.unread_count(user_id=principal.user_id)}


@blp.route("/<int:notification_id>/read")
class Read(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one of my notifications read."""
        return service.mark_read(notification_id=notification_id, user_id=current().user_id)

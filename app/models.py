"""Every model, imported in one place so metadata (and Alembic) sees the whole schema."""

from app.audit.models import Event
from app.cases.models import Case
from app.deadlines.models import CalendarDay, CalendarYear, SchedulerLease, Suspension
from app.documents.models import Document, DocumentSequence
from app.identity.models import ApiToken, Department, Group, LoginEvent, OrgLogEntry, User, user_group
from app.matters.models import Matter
from app.notifications.models import Notification, OutboundMessage
from app.processes.models import ProcessPublication, ProcessVersion
from app.supervision.models import Card, Filing
from app.tasks.models import Absence, Task

__all__ = [
    "Absence",
    "LoginEvent",
    "OrgLogEntry",
    "ApiToken",
    "CalendarDay",
    "Card",
    "CalendarYear",
    "Case",
    "SchedulerLease",
    "Suspension",
    "Department",
    "Document",
    "DocumentSequence",
    "Event",
    "Filing",
    "Group",
    "Matter",
    "Notification",
    "OutboundMessage",
    "ProcessPublication",
    "ProcessVersion",
    "Task",
    "User",
    "user_group",
]

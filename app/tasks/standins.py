"""Who stands in for whom right now (AB岗): read by the inbox, claims and task visibility.

An absence counts from its start to its end by the clock, whether or not the scheduler has applied
it yet, so the backup sees the absent colleague's claimable tasks from the first minute; a cancelled
one never counts (one ended early ends at the time it was ended).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, bindparam, or_, select

from app import clock
from app.extensions import run_core
from app.identity.models import Group, User, user_group
from app.identity.principal import Principal
from app.tasks.models import CANCELLED, Absence
from app.types import UTCDateTime


@dataclass
class Standing:
    """The principal's AB岗 position now: away or not, and the groups they stand in for (group -> names)."""

    absent: bool = False
    groups: dict[str, list[str]] = field(default_factory=dict)

    def offered(self, principal: Principal) -> set[str]:
        """The groups whose ready tasks are offered to the principal: their own unless away, and those stood in for."""
        own = set() if self.absent else set(principal.groups)
        return own | set(self.groups)

    def on_behalf_of(self, group: str | None, principal: Principal) -> str | None:
        """ "张三、李四" when the principal sees a task of `group` only as someone's backup."""
        if group is None or group not in self.groups or (group in principal.groups and not self.absent):
            return None
        return "、".join(self.groups[group])


_NOW = bindparam("p_now", type_=UTCDateTime())
_USER = bindparam("p_user", type_=Integer)
_RUNNING = (  # built once (its cache key too): it runs on every inbox request and every claim by a backup
    select(Absence.user_id, User.display_name, Group.code)
    .join(User, User.id == Absence.user_id)
    .outerjoin(user_group, user_group.c.user_id == Absence.user_id)
    .outerjoin(Group, Group.id == user_group.c.group_id)
    .where(
        or_(Absence.backup_id == _USER, Absence.user_id == _USER),
        Absence.starts_at <= _NOW,
        Absence.ends_at > _NOW,
        Absence.state != CANCELLED,
    )
)


def of(principal: Principal) -> Standing:
    """The principal's standing now, in one indexed query over the running absences."""
    rows = run_core(_RUNNING, {"p_user": principal.user_id, "p_now": clock.now()}).all()
    standing = Standing()
    for user_id, name, group in rows:
        if user_id == principal.user_id:
            standing.absent = True
        elif group is not None and name not in standing.groups.setdefault(group, []):
            standing.groups[group].append(name)
    return standing

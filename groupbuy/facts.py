"""The facts a message about a group carries, as display-ready values. The words for prices, time
left and Beijing dates come from groupbuy/wording.py (the same words the pages, bot and poster use);
the message texts around them live in templates_msg/."""
import datetime as dt

from .models import Group, Seat
from .wording import beijing_time, time_left, yuan


def group_facts(group: Group, now: dt.datetime, paid: int | None = None) -> dict:
    if paid is None:
        paid = Seat.select().where(Seat.group == group.id, Seat.status == 'paid').count()
    return {'course': group.campaign.course.title, 'seats_left': max(group.size - paid, 0),
            'deadline': beijing_time(group.deadline_at), 'share_code': group.share_code,
            'group_id': group.id, 'price': yuan(group.campaign.group_price_fen),
            'time_left': time_left((group.deadline_at - now).total_seconds()) if group.deadline_at else ''}

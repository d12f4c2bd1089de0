"""Append-only business events for analytics (opened, joined, paid, succeeded, failed, ...)."""
import json

from .models import Event, utcnow


def record_event(kind: str, *, user=None, group=None, campaign=None, at=None, **props) -> None:
    Event.create(kind=kind, user=user, group=group, campaign=campaign, at=at or utcnow(),
                 props=json.dumps(props, ensure_ascii=False, default=str))

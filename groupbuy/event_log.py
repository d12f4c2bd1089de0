"""The analytics log: append-only rows of what happened (opened, joined, paid, succeeded, failed, ...).
Written by groupbuy/subscribers.py's `Logged` handlers, inside the transaction of what they log."""
import json

from . import prepared
from .models import Event


def record(kind: str, *, at, user=None, group=None, campaign=None, **props) -> None:
    """`at`: the transition's moment (deps.now()), never the wall clock."""
    prepared.create(Event, kind=kind, user=user, group=group, campaign=campaign, at=at,
                    props=json.dumps(props, ensure_ascii=False, default=str))  # on every join: built once


def first_at(kind: str, *, campaign: int):
    """When the first row of `kind` for `campaign` was logged (None: never)."""
    row = (Event.select(Event.at).where(Event.kind == kind, Event.campaign == campaign)
           .order_by(Event.at).first())
    return row.at if row else None

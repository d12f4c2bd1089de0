"""Room rows when two accounts of one person merge (groupbuy/account_merge.py moves every row pointing at the
dropped user to the kept one). A room holds one visit, subscription and mute per person, so where both
accounts have one the kept account's stays — with the earlier first visit, and reminded if either was."""
from ..models import RoomMute, RoomSubscription, RoomVisit


def before_merge(kept_id: int, dropped_id: int) -> None:
    """Inside the merge's transaction, before the rows move: fold the dropped account's duplicates in."""
    shared = RoomVisit.select(RoomVisit.room).where(RoomVisit.user == kept_id)
    for visit in RoomVisit.select().where(RoomVisit.user == dropped_id, RoomVisit.room.in_(shared)):
        RoomVisit.update(first_at=visit.first_at).where(
            RoomVisit.user == kept_id, RoomVisit.room == visit.room_id, RoomVisit.first_at > visit.first_at).execute()
    RoomVisit.delete().where(RoomVisit.user == dropped_id, RoomVisit.room.in_(shared)).execute()
    shared = RoomSubscription.select(RoomSubscription.room).where(RoomSubscription.user == kept_id)
    for sub in RoomSubscription.select().where(RoomSubscription.user == dropped_id,
                                               RoomSubscription.room.in_(shared),
                                               RoomSubscription.reminded_at.is_null(False)):
        RoomSubscription.update(reminded_at=sub.reminded_at).where(
            RoomSubscription.user == kept_id, RoomSubscription.room == sub.room_id,
            RoomSubscription.reminded_at.is_null()).execute()
    RoomSubscription.delete().where(RoomSubscription.user == dropped_id, RoomSubscription.room.in_(shared)).execute()
    shared = RoomMute.select(RoomMute.room).where(RoomMute.user == kept_id)
    for mute in RoomMute.select().where(RoomMute.user == dropped_id, RoomMute.room.in_(shared)):
        kept = RoomMute.get(RoomMute.user == kept_id, RoomMute.room == mute.room_id)
        if kept.until is not None and (mute.until is None or mute.until > kept.until):  # the longer mute stands
            RoomMute.update(until=mute.until).where(RoomMute.id == kept.id).execute()
    RoomMute.delete().where(RoomMute.user == dropped_id, RoomMute.room.in_(shared)).execute()

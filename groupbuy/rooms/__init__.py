"""Warm-up live rooms (结合直播互动): each campaign can have a room — a scheduled start, staff posting text,
pictures and a stream link (the stream itself is the live provider's), the audience asking questions that
staff answer and pin, moderation (hide, mute), a reminder to subscribers before it opens, and a way into the
campaign. Live updates ride the group page's machinery (`live_events`, topic `room:<id>`); attendance and
questions are analytics rows; `analytics.room_viewers` compares 成团率 of viewers and non-viewers.

Modules: `rooms` (find and schedule a room, open and close it), `staff` (post, answer, pin, hide, mute),
`audience` (what a viewer reads and does: the room, ask, subscribe, attend), `reminders` (the timed jobs),
`words` (the sensitive-word filter hook), `shown` (the public shape of a room, a post, a question),
`reactions` (handlers of the room events, registered in groupbuy/subscribers.py), `people` (account merges).
"""

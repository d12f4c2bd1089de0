"""Tying a follower to their mini-program self: WeChat's unionid (`/cgi-bin/user/info`) is the same
person in both apps (groupbuy.identity merges the two rows).

The follow push asks for it, but someone who followed before Pinke went live, or whose follow
push was lost, never sends another: so any push from a follower without a unionid asks too.
Not on every message: once an hour each way (an app not bound to an open platform never gets a
unionid, and each ask is a call to WeChat).
"""
from gateways.wechat_oa import follower_unionid
from groupbuy import errors, identity
from groupbuy.models import User
from groupbuy.once import first_time, forget

RETRY_S = 3600


def link(rt, oa_openid: str) -> User:
    """Ask WeChat who this follower is across our apps; returns the user (merged if they were two)."""
    unionid = follower_unionid(rt.oa_client, oa_openid)
    return identity.sign_in_official_account(rt.deps, oa_openid, unionid, channel='oa_follow').user


def link_later(rt, user: User) -> None:
    """Queue the link job (jobs/bot_tasks.py) for a follower we cannot tie yet."""
    if not user.unionid and first_time(rt.deps, 'bot-link-later', user.oa_openid, RETRY_S):
        rt.deps.enqueue('link_follower', user.oa_openid)


def linked_now(rt, user: User) -> User | None:
    """The follower, tied now if they were not, for an answer that needs their mini-program self
    (我的拼团): one fast call to WeChat rather than a wrong "no groups". None if WeChat could not
    answer: the job tries again, and so will their next ask."""
    if user.unionid or not first_time(rt.deps, 'bot-link-now', user.oa_openid, RETRY_S):
        return user
    try:
        return link(rt, user.oa_openid)
    except errors.WeChatUnavailable:
        forget(rt.deps, 'bot-link-now', user.oa_openid)
        rt.deps.enqueue('link_follower', user.oa_openid)
        return None

"""What the H5 group page shows, as one dict for `templates/group_page.html`.

Kept apart from the routes so the page can grow (a later issue makes it live: an SSE countdown
and avatars joining) by adding keys here and markup in the template, nothing else.
"""
from groupbuy import accounts, groups, referrals, sharing, wording
from groupbuy.ports import OFFICIAL_ACCOUNT
from groupbuy.progress import progress_of

from .auth import issue_token
from .presenters import group_json


def group_page_context(rt, share_code: str, viewer, passed_ref: str | None, *, in_wechat: bool,
                       joining: bool, page_url: str, jssdk=None) -> dict:
    """Everything the page needs. `viewer` is the signed-in H5 user or None; a share from this page
    carries the viewer's own ref (they are the sharer now), else the ref they came with."""
    settings, now = rt.settings, rt.deps.now()
    group = groups.find_group(share_code)
    progress = progress_of(share_code)
    ref = referrals.share_ref(settings.secret_key, viewer.id) if viewer else passed_ref
    suffix = f'?from={ref}' if ref else ''
    base = settings.public_base_url
    shown = group_json(group, now, viewer, progress)  # members with avatars, seats, deadline, server_time
    pay_here = pays_in_wechat(rt, viewer, in_wechat, joining)
    return {
        'group': shown,
        'page_state': page_state(shown),
        'courses': {c['id']: c['title'] for c in shown['campaign']['courses']},  # a cross-course group's picks
        'campaign_url': f'/c/{group.campaign_id}',
        'live': {'page': 'group', 'shareCode': group.share_code, 'apiBase': '', 'group': shown,
                 'token': issue_token(viewer) if viewer else None,
                 'payVia': OFFICIAL_ACCOUNT if pay_here else None,  # pinke.js: join and pay through WeixinJSBridge
                 'sandbox': settings.wechat_pay_base_url.rstrip('/') if settings.uses_sandbox else None},
        'progress': progress,
        'title': sharing.share_title(progress, now),
        'status_line': sharing.status_line(progress, now),
        # what a member pays; a tiered group that succeeded: what everyone paid in the end (the difference went back)
        'price': wording.yuan(shown['tier']['price_now_fen'] if shown['tier'] and progress.status == 'succeeded'
                              else progress.price_fen),
        'list_price': wording.yuan(progress.list_price_fen),
        'deadline_text': wording.deadline_text(progress.deadline_at) if progress.status == 'forming' else '',
        'joinable': progress.joinable(now),
        'viewer': viewer,
        'in_wechat': in_wechat,
        'pay_in_wechat': pay_here,
        'joining': joining,
        'code_url': f'/g/{progress.share_code}/code.png{suffix}',
        'join_url': f'/g/{progress.share_code}?join=1' + (f'&from={passed_ref}' if passed_ref else ''),
        'miniapp': {'username': settings.wechat_app_username,
                    'path': sharing.miniapp_path(settings.miniapp_group_page, progress.share_code, ref)},
        'share': {'title': sharing.share_title(progress, now), 'desc': sharing.status_line(progress, now),
                  'link': f'{base}/g/{progress.share_code}{suffix}',
                  'img_url': progress.cover_url or f'{base}/api/groups/{progress.share_code}/card.png'},
        'jssdk': jssdk,
        'page_url': page_url,
    }


def pays_in_wechat(rt, viewer, in_wechat: bool, joining: bool) -> bool:
    """Whether the page joins and pays right here, in WeChat's browser, through the official account's appid: someone
    H5 OAuth signed in (their official-account openid), once they asked to join or we already have their profile (a
    first tap on 我要参团 asks for it: groups show faces). Otherwise the page offers the mini-program, as before."""
    return bool(in_wechat and rt.oa_pay is not None and viewer is not None and viewer.oa_openid
                and (joining or not accounts.needs_profile(viewer)))


def page_state(group: dict) -> str:
    """Which panel the page opens on: forming, full (every seat taken or held), or an end state."""
    if group['status'] == 'forming' and group['paid_count'] + group.get('reserved_count', 0) >= group['size']:
        mine = group.get('my_seat')
        return 'forming' if mine and mine['status'] != 'released' else 'full'
    return group['status']

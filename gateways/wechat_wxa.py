"""Mini-program server APIs beyond login and pay: the unlimited mini-program code (a poster's
scannable door into a group) and the code-based phone number (not wrapped by wechatpy 1.8.18)."""
import requests
from wechatpy.exceptions import WeChatClientException

from groupbuy import errors


def wxa_code_png(client, scene: str, page: str, width: int = 430) -> bytes:
    """PNG of the mini-program code that opens `page` with `scene`. Raises WeChatUnavailable."""
    try:
        answer = client.wxa.get_wxa_code_unlimited(scene, width=width, page=page)
    except WeChatClientException as exc:
        raise errors.WeChatUnavailable(f'WeChat refused the mini-program code: {exc.errcode} {exc.errmsg}')
    except requests.RequestException as exc:
        raise errors.WeChatUnavailable(f'WeChat could not be reached: {type(exc).__name__}')
    content = getattr(answer, 'content', b'')  # wechatpy hands back the response when it is not JSON
    if not content.startswith(b'\x89PNG'):
        raise errors.WeChatUnavailable('WeChat sent no picture for the mini-program code')
    return content


def phone_number(client, app_id: str, code: str) -> dict:
    """{phone, pure_phone, country_code} for a getPhoneNumber `code`. Raises InvalidInput (WeChat
    refused the code) or WeChatUnavailable."""
    try:
        result = client.wxa._post('wxa/business/getuserphonenumber', data={'code': code})
    except WeChatClientException as exc:
        if exc.errcode in (40029, 40163, 47001, 41001):
            raise errors.InvalidInput(f'WeChat rejected the phone code (errcode {exc.errcode})', field='code')
        raise errors.WeChatUnavailable(f'WeChat refused: {exc.errcode} {exc.errmsg}')
    except requests.RequestException as exc:
        raise errors.WeChatUnavailable(f'WeChat could not be reached: {type(exc).__name__}')
    info = result.get('phone_info') or {}
    if (info.get('watermark') or {}).get('appid') != app_id:
        raise errors.InvalidInput('that phone number was issued to another app', field='code')
    return {'phone': info.get('phoneNumber', ''), 'pure_phone': info.get('purePhoneNumber', ''),
            'country_code': info.get('countryCode') or None}

"""Facts that must count once though they arrive many times: WeChat's retried pushes, a replayed
OAuth `state`, a page reloaded in a loop. One Redis SET NX per fact, forgotten after `ttl_s`."""


def first_time(deps, namespace: str, key: str, ttl_s: int) -> bool:
    """True for the first caller with this (namespace, key) within `ttl_s`, False for every later one."""
    return bool(deps.redis.set(f'{deps.key_prefix}once:{namespace}:{key}', 1, nx=True, ex=max(int(ttl_s), 1)))


def forget(deps, namespace: str, key: str) -> None:
    """Undo `first_time` (the first attempt failed; the next one should run)."""
    deps.redis.delete(f'{deps.key_prefix}once:{namespace}:{key}')

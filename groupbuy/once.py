"""Facts that must count once though they arrive many times: WeChat's retried pushes, a replayed
OAuth `state`, a page reloaded in a loop. One Redis SET NX per fact, forgotten after `ttl_s`: one key per
command, so a Redis Cluster spreads the facts over its nodes and needs no hash tag."""


def first_time(deps, namespace: str, key: str, ttl_s: int) -> bool:
    """True for the first caller with this (namespace, key) within `ttl_s`, False for every later one."""
    return bool(deps.redis.set(f'{deps.key_prefix}once:{namespace}:{key}', 1, nx=True, ex=max(int(ttl_s), 1)))


def forget(deps, namespace: str, key: str) -> None:
    """Undo `first_time` (the first attempt failed; the next one should run)."""
    deps.redis.delete(f'{deps.key_prefix}once:{namespace}:{key}')


def same_as_first(deps, namespace: str, key: str, value: str, ttl_s: int) -> bool:
    """True for the first caller with this (namespace, key) within `ttl_s`, and for any later caller
    bringing the same `value` (the same fact arriving again); False for a different value."""
    name = f'{deps.key_prefix}once:{namespace}:{key}'
    for _ in range(2):  # the first value may expire between the two calls: then this one is first
        if deps.redis.set(name, value, nx=True, ex=max(int(ttl_s), 1)):
            return True
        stored = deps.redis.get(name)
        if stored is not None:
            return stored == value.encode()
    return False

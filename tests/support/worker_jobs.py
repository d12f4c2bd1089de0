"""Jobs for tests/integration/test_worker_restart.py (RQ imports a job's function by its dotted name)."""
import redis


def shut_down_redis(url: str) -> None:
    """Redis goes away while this job is still the worker's: RQ's bookkeeping after it fails."""
    try:
        redis.Redis.from_url(url).shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the answer to SHUTDOWN is the connection closing


def mark(url: str, key: str) -> None:
    redis.Redis.from_url(url).set(key, 'done')

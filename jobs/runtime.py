"""The worker process's Runtime, built once from the environment (jobs get ids, not objects)."""
_runtime = None


def install(runtime) -> None:
    global _runtime
    _runtime = runtime


def current():
    global _runtime
    if _runtime is None:
        from config.settings import Settings
        from config.wiring import bootstrap
        _runtime = bootstrap(Settings.from_env())
    return _runtime

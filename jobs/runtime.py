"""The worker process's Runtime (jobs get ids, not objects). The composition root installs it: every
process that runs jobs is built by `wsgi.create_app` (`flask worker`, `flask scheduler`, gunicorn)."""
_runtime = None


def install(runtime) -> None:
    global _runtime
    _runtime = runtime


def current():
    if _runtime is None:
        raise RuntimeError('no runtime installed: run jobs through `flask --app wsgi worker` (wsgi.create_app installs it)')
    return _runtime

"""The current app's Runtime (deps, settings, WeChat clients), for route modules."""
from flask import current_app


def runtime():
    return current_app.extensions['pinke']


def deps():
    return runtime().deps

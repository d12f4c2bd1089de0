"""The HTTP API the mini-program, the H5 page and the operator console call (JSON)."""


def init_app(app) -> None:
    """Every route of the API and the H5 pages, the error shape, and the `<id:...>` converter."""
    from . import (admin, admin_money, auth_routes, campaigns, errors, groups, health, live_stream, messages,
                   orders, pay_callbacks, schemas)
    app.url_map.converters['id'] = schemas.IdConverter  # `<id:...>`: ids the database can hold, else 404
    errors.init_app(app)
    from .auth import no_store_when_token_issued
    app.after_request(no_store_when_token_issued)
    for module in (health, auth_routes, campaigns, groups, live_stream, orders, messages, pay_callbacks, admin,
                   admin_money):
        app.register_blueprint(module.bp)
    # Sharing: payloads and pictures, the H5 page /g/<code>, the operator's QR codes.
    from . import admin_share, h5_campaign, h5_pages, share_routes
    h5_pages.init_app(app)
    for module in (share_routes, h5_pages, h5_campaign, admin_share):
        app.register_blueprint(module.bp)
    from . import admin_analytics  # the console's numbers
    app.register_blueprint(admin_analytics.bp)
    from . import h5_room, rooms  # warm-up live rooms: the API and the H5 room page
    app.register_blueprint(rooms.bp)
    app.register_blueprint(h5_room.bp)

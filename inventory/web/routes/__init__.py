"""The pages under /ui: one controller module per page family, one router with the pages' error handling."""

from __future__ import annotations

from litestar import Router

from inventory.web.pages import EXCEPTION_HANDLERS, choose_language
from inventory.web.routes import assets, chair, labels, receive, session


def router() -> Router:
    """Every page and page asset, in the user's language, with errors answered as pages."""
    return Router(
        path="/ui",
        route_handlers=[*session.HANDLERS, *chair.HANDLERS, *receive.HANDLERS, *labels.HANDLERS, *assets.HANDLERS],
        before_request=choose_language,
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )

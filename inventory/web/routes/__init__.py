"""The pages under /ui: one controller module per page family, one router with the pages' error handling."""

from __future__ import annotations

from litestar import Router

from inventory.web.pages import EXCEPTION_HANDLERS, choose_language
from inventory.web.routes import (
    alerts,
    assets,
    audit,
    catalog,
    chair,
    clients,
    labels,
    purchasing,
    recall,
    receive,
    session,
    stock,
    stocktake,
    users,
    vigilance,
)

# One entry per page family (assets last: its catch-all path reads best at the end).
FAMILIES = [
    session,
    chair,
    receive,
    labels,
    stock,
    stocktake,
    clients,
    catalog,
    alerts,
    purchasing,
    recall,
    vigilance,
    users,
    audit,
    assets,
]


def router() -> Router:
    """Every page and page asset, in the user's language, with errors answered as pages."""
    return Router(
        path="/ui",
        route_handlers=[handler for family in FAMILIES for handler in family.HANDLERS],
        before_request=choose_language,
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )

"""What every page shares: who is signed in, the language, rendering, forms with CSRF tokens, flash messages.

Page controllers stay thin: `signed_in(request)` (or a `page_guard`), `await read_form(request)` (checks the
CSRF token), one service call, then `render(...)` or `redirect(...)` (POST → redirect → GET).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template

from inventory.config import Settings
from inventory.domain.errors import Forbidden, InventoryError
from inventory.services import page_sessions
from inventory.services.page_sessions import PageSignIn
from inventory.web import i18n
from inventory.web.i18n import N_, gettext

log = logging.getLogger("inventory.web")

SESSION_COOKIE = "meso_session"
SIGN_IN_COOKIE = "meso_signin"
LANGUAGE_COOKIE = "meso_lang"
FLASH_COOKIE = "meso_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

# No inline scripts or styles, nothing from elsewhere, no framing, no plugins. 'wasm-unsafe-eval' lets the
# chair compile the self-hosted barcode decoder (WebAssembly only; JavaScript eval stays refused).
_CSP = (
    "default-src 'self'; script-src 'self'{wasm}; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY = _CSP.format(wasm="")
CHAIR_CONTENT_SECURITY_POLICY = _CSP.format(wasm=" 'wasm-unsafe-eval'")
PAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Pages show clients' names and allergies: never kept by a browser's or a proxy's cache.
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    """A link of the top bar: where, its label, and the role it needs."""

    path: str
    label: str
    role: str
    text: str


NAV = (
    NavItem("/ui/scan", N_("Scan"), "staff", N_("Record each ampoule used on a client's session.")),
    NavItem("/ui/receive", N_("Receive"), "staff", N_("Book a delivery in by scanning its boxes, and label it.")),
    NavItem("/ui/stock", N_("Stock"), "staff", N_("Lots on the shelves, and the ones to reconcile.")),
    NavItem("/ui/stocktake", N_("Stocktake"), "staff", N_("Count the shelves; managers review and approve.")),
    NavItem("/ui/labels", N_("Labels"), "staff", N_("Print labels for lots.")),
    NavItem("/ui/clients", N_("Clients"), "staff", N_("Clients, allergies, courses and what they received.")),
    NavItem("/ui/catalog", N_("Catalog"), "staff", N_("Brands, products, locations and stock rules.")),
    NavItem("/ui/alerts", N_("Alerts"), "manager", N_("What to reorder, what expires, what to reconcile.")),
    NavItem("/ui/orders", N_("Orders"), "manager", N_("Purchase orders from the reorder alerts, sent and received.")),
    NavItem("/ui/suppliers", N_("Suppliers"), "manager", N_("Who sells each product: pack, lead time, reference.")),
    NavItem("/ui/recall", N_("Recall"), "manager", N_("Trace a lot, recall it and contact the clients.")),
    NavItem(
        "/ui/vigilance", N_("Vigilance"), "manager", N_("Reactions to products, the lots they signal, follow-ups.")
    ),
    NavItem("/ui/audit", N_("Audit"), "manager", N_("Who did what, and when.")),
    NavItem("/ui/users", N_("Users"), "admin", N_("Accounts and roles.")),
)
ROLE_NAMES = {"staff": N_("Staff"), "manager": N_("Manager"), "admin": N_("Administrator")}


class SignInRequired(Exception):
    """The page needs a signed-in user; answered by a redirect to the sign-in form."""


class FormExpired(InventoryError):
    """A form came without the CSRF token of the current sign-in (an old tab, or another site's form)."""

    status = 403
    code = "csrf_failed"
    title = "Form expired"


def settings_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Settings:
    """The service's settings."""
    settings: Settings = connection.app.state.settings
    return settings


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> PageSignIn | None:
    """The page's signed-in user (resolved once per request), or None."""
    state = connection.scope.setdefault("state", {})
    if "page_sign_in" not in state:
        state["page_sign_in"] = await page_sessions.resolve(
            settings=settings_of(connection), cookie=connection.cookies.get(SESSION_COOKIE)
        )
    result: PageSignIn | None = state["page_sign_in"]
    return result


def page_guard(
    role: str,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Coroutine[Any, Any, None]]:
    """A guard: signed out goes to the sign-in form and back; a role too low gets the 403 page."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = await signed_in(connection)
        if user is None:
            raise SignInRequired()
        if not user.actor.has_role(role):
            raise Forbidden(f"This page needs the {role} role.", code="forbidden", required_role=role)

    guard.__name__ = f"page_requires_{role}"
    return guard


staff_page = page_guard("staff")
manager_page = page_guard("manager")
admin_page = page_guard("admin")


async def current_user(request: Request[Any, Any, Any]) -> PageSignIn:
    """The signed-in user of a guarded page."""
    user = await signed_in(request)
    if user is None:
        raise SignInRequired()
    return user


async def choose_language(request: Request[Any, Any, Any]) -> None:
    """Before every page: serve it in the user's language, else the browser's (a router's before_request hook)."""
    user = await signed_in(request)
    choice = (user.locale if user else None) or request.cookies.get(LANGUAGE_COOKIE)
    i18n.use(i18n.negotiate(request.headers.get("accept-language"), choice))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site (`//evil`, `https://…`)."""
    if not target:
        return "/ui/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/ui") or target.startswith("//"):
        return "/ui/"
    return target


def _signature(settings: Settings, payload: bytes) -> str:
    return hmac.new(settings.secret_key.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()[:32]


def _encode_flash(settings: Settings, message: str, kind: str) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"m": message, "k": kind}).encode())
    return f"{payload.decode()}.{_signature(settings, payload)}"


def _decode_flash(settings: Settings, value: str | None) -> dict[str, str] | None:
    if not value or "." not in value:
        return None
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _signature(settings, payload.encode())):
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):
        return None
    if not isinstance(decoded, dict) or not isinstance(decoded.get("m"), str):
        return None
    return {"message": decoded["m"], "kind": str(decoded.get("k", "done"))}


def _nav(user: PageSignIn | None) -> list[dict[str, str]]:
    if user is None:
        return []
    return [
        {"path": item.path, "label": gettext(item.label), "title": gettext(item.label), "text": gettext(item.text)}
        for item in NAV
        if user.actor.has_role(item.role)
    ]


async def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    chair: bool = False,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """A page from `template`, with the layout's context: language, user, navigation, CSRF token, flash message."""
    user = await signed_in(request)
    return _page(request, user, template, status=status, chair=chair, cookies=cookies, **context)


def _page(
    request: Request[Any, Any, Any],
    user: PageSignIn | None,
    template: str,
    *,
    status: int,
    chair: bool = False,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    settings = settings_of(request)
    flash = _decode_flash(settings, request.cookies.get(FLASH_COOKIE))
    all_cookies = list(cookies or [])
    if request.cookies.get(FLASH_COOKIE):
        all_cookies.append(Cookie(key=FLASH_COOKIE, value="", max_age=0, path="/ui", httponly=True, samesite="lax"))
    locale = i18n.current()
    base = {
        "locale": locale,
        "languages": i18n.LANGUAGE_NAMES,
        "user": user,
        "csrf_token": user.csrf_token if user else context.pop("csrf_token", ""),
        "nav": _nav(user),
        "role_names": {role: gettext(name) for role, name in ROLE_NAMES.items()},
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "flash": flash,
        "script_messages": i18n.script_catalog(locale),
    }
    headers = {
        "Content-Security-Policy": CHAIR_CONTENT_SECURITY_POLICY if chair else CONTENT_SECURITY_POLICY,
        **PAGE_HEADERS,
    }
    return Template(
        template_name=template,
        context={**base, **context},
        status_code=status,
        headers=headers,
        cookies=all_cookies,
        media_type="text/html",
    )


def redirect(request: Request[Any, Any, Any], path: str, *, flash: str | None = None, kind: str = "done") -> Redirect:
    """POST → redirect → GET, with a one-time message shown on the next page (already in the page's language)."""
    cookies = []
    if flash:
        cookies.append(
            Cookie(
                key=FLASH_COOKIE,
                value=_encode_flash(settings_of(request), flash, kind),
                path="/ui",
                httponly=True,
                samesite="lax",
                max_age=60,
            )
        )
    return Redirect(path=path, status_code=303, cookies=cookies, headers=dict(PAGE_HEADERS))


async def read_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The submitted form as a dict of its first values (lists under `name[]`); raises FormExpired without the
    current sign-in's CSRF token."""
    user = await current_user(request)
    form = await request.form()
    if not page_sessions.tokens_match(user.csrf_token, form.get(CSRF_FIELD)):
        raise FormExpired("This form has expired; reload the page and try again.")
    values: dict[str, Any] = {}
    for key in form:
        if key.endswith("[]"):
            values[key[:-2]] = [str(v) for v in form.getall(key)]
        else:
            value = form.get(key)
            values[key] = value if not isinstance(value, str) else value.strip()
    return values


async def check_script_token(request: Request[Any, Any, Any]) -> PageSignIn:
    """The signed-in user of a script's POST, which must carry the CSRF token in X-CSRF-Token."""
    user = await current_user(request)
    if not page_sessions.tokens_match(user.csrf_token, request.headers.get(CSRF_HEADER)):
        raise FormExpired("This page has expired; reload it.")
    return user


def client_address(request: Request[Any, Any, Any]) -> str | None:
    """The caller's address, for the sign-in limits."""
    return request.client.host if request.client else None


# The error page's wording per status (the detail of a domain refusal is the API's English sentence).
_ERROR_TITLES = {
    400: N_("This request could not be read."),
    403: N_("You cannot open this page."),
    404: N_("This page does not exist."),
    405: N_("This page does not take that kind of request."),
    409: N_("This conflicts with the current state."),
    422: N_("Some of what was sent is not valid."),
    429: N_("Too many attempts; wait a moment and try again."),
    503: N_("The service is busy or restarting; try again in a moment."),
    500: N_("Something went wrong; it has been logged."),
}
_ERROR_HINTS = {
    "forbidden": N_("Your role does not include this page. Ask a manager or an administrator."),
    "csrf_failed": N_(
        "This form has expired (it was opened before you last signed in). Reload the page and try again."
    ),
}


_NEEDS_ROLE = N_("This page needs the %(role)s role. Ask an administrator if your work needs it.")


def _error_page(
    request: Request[Any, Any, Any], status: int, code: str, required_role: str | None = None
) -> Response[Any]:
    # Exception handlers are synchronous: the user is the one a guard or the language hook already resolved.
    user: PageSignIn | None = request.scope.get("state", {}).get("page_sign_in")
    choice = (user.locale if user else None) or request.cookies.get(LANGUAGE_COOKIE)
    i18n.use(i18n.negotiate(request.headers.get("accept-language"), choice))
    title = gettext(_ERROR_TITLES.get(status, _ERROR_TITLES[400]))
    hint = gettext(_ERROR_HINTS[code]) if code in _ERROR_HINTS else ""
    if required_role is not None and required_role in ROLE_NAMES:  # a guard's refusal: say which role the page needs
        hint = gettext(_NEEDS_ROLE) % {"role": gettext(ROLE_NAMES[required_role])}
    return _page(request, user, "error.html", status=status, title=title, hint=hint, code=code)


def on_sign_in_required(request: Request[Any, Any, Any], _: SignInRequired) -> Response[Any]:
    """Signed out: to the sign-in form, then back here."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(path=f"/ui/?next={quote(target, safe='')}", status_code=303, headers=dict(PAGE_HEADERS))


def on_refusal(request: Request[Any, Any, Any], error: InventoryError) -> Response[Any]:
    """A refusal no form caught: the error page in the page's language."""
    role = error.extra.get("required_role")
    return _error_page(request, error.status, error.code, role if isinstance(role, str) else None)


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """An unknown page, a wrong method, an unreadable request: the error page."""
    status = error.status_code if error.status_code in _ERROR_TITLES else 400
    return _error_page(request, status, "not_found" if isinstance(error, NotFoundException) else "http")


def on_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A database outage is "busy, try again"; anything else is a bug, logged."""
    if isinstance(error, asyncpg.PostgresError | OSError | asyncpg.InterfaceError):
        log.warning("page answered busy: %s", type(error).__name__)
        return _error_page(request, 503, "busy")
    log.exception("unhandled error on a page", exc_info=error)
    return _error_page(request, 500, "internal_error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    SignInRequired: on_sign_in_required,
    InventoryError: on_refusal,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}

"""Signing in and out of the pages, the language choice, the home menu, and the chair's bearer token."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from inventory.domain.errors import TooManyRequests, Unauthorized
from inventory.services import page_sessions
from inventory.web import i18n
from inventory.web.i18n import gettext
from inventory.web.pages import (
    CSRF_FIELD,
    LANGUAGE_COOKIE,
    PAGE_HEADERS,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    FormExpired,
    check_script_token,
    client_address,
    read_form,
    redirect,
    render,
    safe_next,
    settings_of,
    signed_in,
)

# A script signing in (the chair's dialog) sends this header: another site's form cannot, so it needs no token.
SCRIPT_HEADER = "x-meso-script"


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def _session_cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )


async def _sign_in_form(
    request: Request[Any, Any, Any], *, status: int = 200, email: str = "", error: str | None = None
) -> Template:
    nonce = request.cookies.get(SIGN_IN_COOKIE) or page_sessions.new_nonce()
    cookie = Cookie(key=SIGN_IN_COOKIE, value=nonce, path="/ui", httponly=True, secure=_secure(request), samesite="lax")
    return await render(
        request,
        "session/sign_in.html",
        status=status,
        cookies=[cookie],
        csrf_token=page_sessions.anonymous_csrf_token(settings_of(request), nonce),
        next=safe_next(request.query_params.get("next")),
        email=email,
        error=error,
    )


@get("/", include_in_schema=False, security=[])
async def home(request: Request[Any, Any, Any]) -> Template:
    """Signed in: what the user can do; signed out: the sign-in form."""
    if await signed_in(request) is None:
        return await _sign_in_form(request)
    return await render(request, "session/home.html")


@post("/sign-in", include_in_schema=False, security=[], status_code=303)
async def sign_in(request: Request[Any, Any, Any]) -> Response[Any] | Template:
    """Check the password, set the sign-in cookie and go where the user was going."""
    form = await request.form()
    by_script = request.headers.get(SCRIPT_HEADER) == "1"
    if not by_script:
        nonce = request.cookies.get(SIGN_IN_COOKIE) or ""
        expected = page_sessions.anonymous_csrf_token(settings_of(request), nonce)
        if not nonce or not page_sessions.tokens_match(expected, form.get(CSRF_FIELD)):
            raise FormExpired("The sign-in form has expired; reload it.")
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    try:
        if not email or not password:
            raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
        started = await page_sessions.sign_in(
            settings=settings_of(request), email=email, password=password, client=client_address(request)
        )
    except (Unauthorized, TooManyRequests) as refusal:
        message = (
            gettext("Too many failed attempts. Try again in %(seconds)s seconds.")
            % {"seconds": refusal.extra.get("retry_after", 60)}
            if isinstance(refusal, TooManyRequests)
            else gettext("Wrong e-mail or password.")
        )
        if by_script:
            return Response(
                {"code": refusal.code, "detail": message}, status_code=refusal.status, headers=dict(PAGE_HEADERS)
            )
        return await _sign_in_form(request, status=refusal.status, email=email, error=message)
    cookie = _session_cookie(request, started.cookie, started.max_age)
    if by_script:
        token = page_sessions.bearer_for(settings=settings_of(request), signed_in=started.signed_in)
        return Response(
            {**token.as_json(), "csrf_token": started.signed_in.csrf_token},
            cookies=[cookie],
            status_code=200,
            headers=dict(PAGE_HEADERS),
        )
    gone = Cookie(key=SIGN_IN_COOKIE, value="", max_age=0, path="/ui", httponly=True, samesite="lax")
    target = safe_next(str(form.get("next") or ""))
    return Redirect(path=target, status_code=303, cookies=[cookie, gone], headers=dict(PAGE_HEADERS))


@post("/sign-out", include_in_schema=False, security=[], status_code=303)
async def sign_out(request: Request[Any, Any, Any]) -> Redirect:
    """End this sign-in everywhere (the chair's tokens too) and go back to the sign-in form."""
    user = await signed_in(request)
    if user is not None:
        await read_form(request)
        await page_sessions.sign_out(settings=settings_of(request), signed_in=user)
    gone = Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/", httponly=True, samesite="lax")
    return Redirect(path="/ui/", status_code=303, cookies=[gone], headers=dict(PAGE_HEADERS))


@post("/language", include_in_schema=False, security=[], status_code=303)
async def choose_language(request: Request[Any, Any, Any]) -> Redirect:
    """Switch the pages' language: remembered for the user, and in a cookie for the sign-in form."""
    user = await signed_in(request)
    if user is not None:
        form = await read_form(request)
    else:
        raw = await request.form()
        nonce = request.cookies.get(SIGN_IN_COOKIE) or ""
        expected = page_sessions.anonymous_csrf_token(settings_of(request), nonce)
        if not nonce or not page_sessions.tokens_match(expected, raw.get(CSRF_FIELD)):
            raise FormExpired("This form has expired; reload the page.")
        form = {key: str(raw.get(key) or "") for key in raw}
    locale = str(form.get("locale") or "")
    locale = locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE
    if user is not None:
        await page_sessions.choose_locale(actor=user.actor, locale=locale, available=i18n.LOCALES)
    back = redirect(request, safe_next(str(form.get("next") or "")))
    back.cookies.append(
        Cookie(key=LANGUAGE_COOKIE, value=locale, path="/", samesite="lax", secure=_secure(request), max_age=31536000)
    )
    return back


@post("/api-token", include_in_schema=False, security=[], status_code=200)
async def api_token(request: Request[Any, Any, Any]) -> Response[Any]:
    """A bearer token of the page's sign-in for the station's scripts (401 when the sign-in has ended)."""
    user = await check_script_token(request)
    token = page_sessions.bearer_for(settings=settings_of(request), signed_in=user)
    return Response({**token.as_json(), "email": user.actor.email, "role": user.actor.role}, headers=dict(PAGE_HEADERS))


HANDLERS: list[Any] = [home, sign_in, sign_out, choose_language, api_token]

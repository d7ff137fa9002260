"""Sign-in for the pages: a signed, HttpOnly cookie per sign-in, revocable in PostgreSQL, with its CSRF token.

The cookie is a token of its own kind (`use: page`) for the same sign-in model as the API's bearer tokens: one
`jti` per sign-in, revoked in `revoked_token`, cut off by the user's `tokens_valid_after` (deactivation, password
reset), at most `session_max_seconds` long. Every worker checks it against the database, so signing out or
deactivating a user ends the session everywhere at once. The scan station's scripts get bearer tokens of the
same sign-in (`bearer_for`), so signing out of the pages ends the chair's token too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from inventory import db
from inventory.config import Settings
from inventory.domain.errors import Unauthorized, Unprocessable
from inventory.domain.models import Actor
from inventory.services import auth
from inventory.store import audit, users


@dataclass(frozen=True)
class PageSignIn:
    """A page's signed-in user: who, the sign-in's id and start, their language choice, and the form token."""

    actor: Actor
    full_name: str
    jti: str
    auth_time: datetime
    locale: str | None
    csrf_token: str


@dataclass(frozen=True)
class NewSignIn:
    """A fresh sign-in: the cookie's value, how long it may live, and the sign-in itself."""

    cookie: str
    max_age: int
    signed_in: PageSignIn


def csrf_token(settings: Settings, jti: str) -> str:
    """The form token of a sign-in: an HMAC of its id, so it needs no storage and dies with the sign-in."""
    return hmac.new(settings.secret_key.encode(), f"csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def anonymous_csrf_token(settings: Settings, nonce: str) -> str:
    """The sign-in form's token, bound to a random nonce kept in a cookie (double submit, signed)."""
    return hmac.new(settings.secret_key.encode(), f"signin:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    """A random value for the sign-in form's cookie."""
    return secrets.token_urlsafe(24)


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's token."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


async def sign_in(*, settings: Settings, email: str, password: str, client: str | None) -> NewSignIn:
    """Check the password (with the API's limits) and start a page sign-in; raises Unauthorized or TooManyRequests."""
    user = await auth.check_password(
        settings=settings, email=email, password=password, client=client, action="auth.page"
    )
    now = datetime.now(UTC)
    jti = secrets.token_hex(16)
    signed = auth.sign_token(
        settings, user_id=user.id, role=user.role, jti=jti, auth_time=now, now=now, use=auth.PAGE_USE
    )
    started = PageSignIn(
        actor=Actor(id=user.id, role=user.role, email=user.email),
        full_name=user.full_name or "",
        jti=jti,
        # As the cookie carries it (whole seconds), so tokens made from this sign-in match those made from it later.
        auth_time=datetime.fromtimestamp(int(now.timestamp()), UTC),
        locale=user.locale,
        csrf_token=csrf_token(settings, jti),
    )
    return NewSignIn(cookie=signed.access_token, max_age=signed.expires_in, signed_in=started)


async def resolve(*, settings: Settings, cookie: str | None) -> PageSignIn | None:
    """The sign-in behind a page cookie, or None when there is none or it was revoked, expired or cut off."""
    if not cookie:
        return None
    try:
        claims = auth.decode_token(settings, cookie)
        if claims.get("use") != auth.PAGE_USE:
            return None
        auth_time = auth.check_sign_in_age(settings, claims)
        user_id = int(claims["sub"])
        issued_at = float(claims.get("iat", 0))
    except (Unauthorized, TypeError, ValueError):
        return None
    jti = str(claims["jti"])
    async with db.connection() as conn:
        user = await users.get_for_token(conn, user_id, jti, issued_at)
    if user is None:
        return None
    return PageSignIn(
        actor=Actor(id=user.id, role=user.role, email=user.email),
        full_name=user.full_name or "",
        jti=jti,
        auth_time=auth_time,
        locale=user.locale,
        csrf_token=csrf_token(settings, jti),
    )


def bearer_for(*, settings: Settings, signed_in: PageSignIn) -> auth.IssuedToken:
    """A bearer token of this page sign-in for the station's scripts (same jti: signing out ends both)."""
    return auth.sign_token(
        settings,
        user_id=signed_in.actor.id,
        role=signed_in.actor.role,
        jti=signed_in.jti,
        auth_time=signed_in.auth_time,
        now=datetime.now(UTC),
    )


async def sign_out(*, settings: Settings, signed_in: PageSignIn) -> None:
    """End the sign-in everywhere: its cookie and every bearer token made from it are refused by every worker."""
    async with db.transaction() as conn:
        await users.revoke(conn, signed_in.jti, auth.sign_in_ends(settings, signed_in.auth_time))
        await audit.record(
            conn, actor_id=signed_in.actor.id, action="auth.logout", entity="user", entity_id=signed_in.actor.id
        )


async def choose_locale(*, actor: Actor, locale: str | None, available: tuple[str, ...]) -> None:
    """Remember a user's language for the pages (None: follow the browser); raises Unprocessable for others."""
    if locale is not None and locale not in available:
        raise Unprocessable(f"No pages in {locale!r}.", code="validation_error", field="locale")
    async with db.transaction() as conn:
        await users.set_locale(conn, actor.id, locale)

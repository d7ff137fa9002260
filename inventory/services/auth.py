"""Sign-in, bearer tokens, and users."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inventory import db
from inventory.config import Settings
from inventory.domain.errors import Conflict, TooManyRequests, Unauthorized, Unprocessable
from inventory.domain.models import ROLES, Actor
from inventory.store import audit, users

_HASHER = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 10


async def hash_password(password: str) -> str:
    """Argon2id hash of a password, computed off the event loop."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


async def issue_token(*, settings: Settings, email: str, password: str) -> dict[str, Any]:
    """Check credentials and return a signed bearer token; raises Unauthorized or TooManyRequests."""
    async with db.transaction() as conn:
        await users.lock_email(conn, email)
        failures = await users.count_recent_failures(conn, email, settings.login_window_seconds)
        if failures >= settings.login_max_failures:
            raise TooManyRequests(
                "Too many failed sign-in attempts; try again in a few minutes.", code="too_many_attempts"
            )
        attempt_id = await users.claim_attempt(conn, email)
        user = await users.get_by_email(conn, email)
    ok = await _verify(user["password_hash"] if user else _DUMMY_HASH, password)
    ok = ok and user is not None and bool(user["active"])
    if ok and user is not None:
        async with db.transaction() as conn:
            await users.mark_attempt_succeeded(conn, attempt_id)
            await audit.record(conn, actor_id=user["id"], action="auth.token", entity="user", entity_id=user["id"])
    if not ok or user is None:
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
    now = datetime.now(UTC)
    return _sign(settings, user_id=user["id"], role=user["role"], jti=secrets.token_hex(16), auth_time=now, now=now)


def _sign(
    settings: Settings, *, user_id: int, role: str, jti: str, auth_time: datetime, now: datetime
) -> dict[str, Any]:
    """A signed token of the sign-in made at `auth_time` (its `jti`), living at most to the sign-in's end."""
    expires = min(now + timedelta(seconds=settings.token_ttl_seconds), _sign_in_ends(settings, auth_time))
    claims = {
        "sub": str(user_id),
        "role": role,
        "jti": jti,
        "iat": now,
        "exp": expires,
        "auth_time": int(auth_time.timestamp()),
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)
    return {"access_token": token, "token_type": "bearer", "expires_in": int((expires - now).total_seconds())}


def _sign_in_ends(settings: Settings, auth_time: datetime) -> datetime:
    return auth_time + timedelta(seconds=settings.session_max_seconds)


def _auth_time(claims: dict[str, Any]) -> datetime:
    """When the password was typed; tokens issued before `auth_time` existed count from their `iat`."""
    value: Any = claims.get("auth_time", claims.get("iat"))
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token") from error


def _decode(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.secret_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
    except jwt.PyJWTError as error:
        raise Unauthorized("The bearer token is invalid or expired.", code="invalid_token") from error
    return claims


async def authenticate(*, settings: Settings, token: str) -> Actor:
    """The actor behind a bearer token; raises Unauthorized for a bad, expired or revoked token."""
    claims = _decode(settings, token)
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as error:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token") from error
    # Caps hold even for tokens signed before session_max_seconds was lowered.
    _check_sign_in_age(settings, claims)
    async with db.connection() as conn:
        user = await users.get_for_token(conn, user_id, str(claims["jti"]))
    if user is None:
        raise Unauthorized("The bearer token was revoked or its user disabled.", code="invalid_token")
    return Actor(id=user["id"], role=user["role"], email=user["email"])


def _check_sign_in_age(settings: Settings, claims: dict[str, Any]) -> datetime:
    """The sign-in's time; raises Unauthorized(session_expired) once it is older than session_max_seconds."""
    auth_time = _auth_time(claims)
    if datetime.now(UTC) >= _sign_in_ends(settings, auth_time):
        raise Unauthorized(
            "This sign-in is older than the longest a sign-in may last; sign in again with your password.",
            code="session_expired",
        )
    return auth_time


async def refresh_token(*, settings: Settings, actor: Actor, token: str) -> dict[str, Any]:
    """A fresh token for the same sign-in (same `jti`, so signing out still ends it all).

    The caller's token was already authenticated (not revoked, user active). Raises Unauthorized(session_expired)
    when the sign-in is older than `session_max_seconds`; the new token never outlives that limit.
    """
    claims = _decode(settings, token)
    auth_time = _check_sign_in_age(settings, claims)
    issued = _sign(
        settings, user_id=actor.id, role=actor.role, jti=str(claims["jti"]), auth_time=auth_time, now=datetime.now(UTC)
    )
    async with db.transaction() as conn:
        await audit.record(conn, actor_id=actor.id, action="auth.refresh", entity="user", entity_id=actor.id)
    return issued


async def revoke_token(*, settings: Settings, actor: Actor, token: str) -> None:
    """Sign out: the token and every refresh of its sign-in are refused from now on, by every worker."""
    claims = _decode(settings, token)
    # Kept until no token of this sign-in can be valid: refreshed tokens live up to the sign-in's end.
    expires = max(datetime.fromtimestamp(int(claims["exp"]), UTC), _sign_in_ends(settings, _auth_time(claims)))
    async with db.transaction() as conn:
        await users.revoke(conn, str(claims["jti"]), expires)
        await audit.record(conn, actor_id=actor.id, action="auth.logout", entity="user", entity_id=actor.id)


def _check_new_user(email: str, role: str, password: str) -> None:
    if role not in ROLES:
        raise Unprocessable(f"Role must be one of {', '.join(ROLES)}.", code="validation_error")
    if "@" not in email or len(email) > 254 or email != email.strip():
        raise Unprocessable("A valid e-mail address is required.", code="validation_error")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", code="password_too_short"
        )


async def create_user(
    *, actor: Actor | None, email: str, role: str, password: str, full_name: str = ""
) -> dict[str, Any]:
    """Create a user (admin, or the CLI when actor is None); raises Conflict on a taken e-mail."""
    _check_new_user(email, role, password)
    async with db.connection() as conn:
        # Refuse a taken e-mail before the deliberately slow hash; checked again below, in the transaction.
        if await users.get_by_email(conn, email) is not None:
            raise Conflict(f"A user with e-mail {email} already exists.", code="duplicate")
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        if await users.get_by_email(conn, email) is not None:
            raise Conflict(f"A user with e-mail {email} already exists.", code="duplicate")
        user = await users.create(conn, email=email, full_name=full_name, password_hash=password_hash, role=role)
        await audit.record(
            conn,
            actor_id=actor.id if actor else None,
            action="user.create",
            entity="user",
            entity_id=user["id"],
            details={"email": email, "role": role},
        )
    return user


async def list_users() -> list[dict[str, Any]]:
    """All users (admin)."""
    async with db.connection() as conn:
        return await users.list_users(conn)

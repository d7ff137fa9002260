"""Sign-in, bearer tokens, and users."""

from __future__ import annotations

import asyncio
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from inventory import db
from inventory.config import Settings
from inventory.domain import credentials
from inventory.domain.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from inventory.domain.models import ROLES, Actor, UncheckedActor
from inventory.store import audit, users

_HASHER = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = credentials.MIN_PASSWORD_LENGTH
# The `use` claim of a page's sign-in cookie (services.page_sessions); bearer tokens carry none.
PAGE_USE = "page"


async def hash_password(password: str) -> str:
    """Argon2id hash of a password, computed off the event loop."""
    return await asyncio.to_thread(_HASHER.hash, credentials.normalise_password(password))


async def _verify(password_hash: str, password: str) -> bool:
    def check(candidate: str) -> bool:
        try:
            return _HASHER.verify(password_hash, candidate)
        except (VerificationError, InvalidHashError):
            return False

    normal = credentials.normalise_password(password)
    if await asyncio.to_thread(check, normal):
        return True
    # Hashes made before passwords were normalised hold the password as it was typed.
    return normal != password and await asyncio.to_thread(check, password)


def _limited(failures: list[float], limit: int) -> int | None:
    """Seconds until the oldest of the `limit` newest failures leaves the window, or None when under the limit."""
    if len(failures) < limit:
        return None
    return max(1, math.ceil(failures[limit - 1]))


async def _check_limits(conn: db.Connection, settings: Settings, email: str, client: str | None) -> None:
    """Refuse the attempt while this e-mail from this address, or this address at all, has failed too often.

    Failures are counted per (e-mail, address), so an attacker elsewhere cannot lock the real user out,
    and per address across e-mails, so one address cannot guess through the whole staff list.
    """
    window = settings.login_window_seconds
    pair = _limited(
        await users.pair_failures(conn, email, client, window, settings.login_max_failures),
        settings.login_max_failures,
    )
    if pair is not None:
        raise TooManyRequests(
            "Too many failed sign-in attempts for this e-mail from here; try again later.",
            code="too_many_attempts",
            retry_after=pair,
        )
    if client is not None:
        limit = settings.login_max_failures_per_address
        address = _limited(await users.address_failures(conn, client, window, limit), limit)
        if address is not None:
            raise TooManyRequests(
                "Too many failed sign-in attempts from this address; try again later.",
                code="too_many_attempts",
                retry_after=address,
            )


@dataclass(frozen=True)
class IssuedToken:
    """A signed bearer token and how many seconds it lives (as the OAuth 2 token response names them)."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"

    def as_json(self) -> dict[str, object]:
        """The token response body."""
        return {"access_token": self.access_token, "token_type": self.token_type, "expires_in": self.expires_in}


async def issue_token(*, settings: Settings, email: str, password: str, client: str | None = None) -> IssuedToken:
    """Check credentials and return a signed bearer token; raises Unauthorized or TooManyRequests.

    `client` is the caller's network address (None: unknown, e.g. a command run on the server).
    """
    user = await check_password(settings=settings, email=email, password=password, client=client, action="auth.token")
    now = datetime.now(UTC)
    return sign_token(settings, user_id=user.id, role=user.role, jti=secrets.token_hex(16), auth_time=now, now=now)


async def check_password(
    *, settings: Settings, email: str, password: str, client: str | None, action: str
) -> users.Credentials:
    """The active user with this e-mail and password, the success audited as `action`; raises Unauthorized or
    TooManyRequests (the sign-in limits hold for every way of signing in)."""
    email = credentials.normalise_email(email.strip())
    async with db.transaction() as conn:
        # Address first, then e-mail, always in that order: parallel guesses queue and cannot deadlock.
        if client is not None:
            await users.lock_address(conn, client)
        await users.lock_email(conn, email)
        await _check_limits(conn, settings, email, client)
        attempt_id = await users.claim_attempt(conn, email, client)
        user = await users.get_by_email(conn, email)
    ok = await _verify(user.password_hash if user else _DUMMY_HASH, password)
    ok = ok and user is not None and user.active
    if ok and user is not None:
        async with db.transaction() as conn:
            await users.mark_attempt_succeeded(conn, attempt_id)
            await audit.record(conn, actor_id=user.id, action=action, entity="user", entity_id=user.id)
    if not ok or user is None:
        raise Unauthorized("Wrong e-mail or password.", code="invalid_credentials")
    return user


def sign_token(
    settings: Settings,
    *,
    user_id: int,
    role: str,
    jti: str,
    auth_time: datetime,
    now: datetime,
    use: str | None = None,
) -> IssuedToken:
    """A signed token of the sign-in made at `auth_time` (its `jti`), living at most to the sign-in's end.

    A page's cookie (`use` = PAGE_USE) lives to the sign-in's end; a bearer token at most token_ttl_seconds.
    """
    ends = sign_in_ends(settings, auth_time)
    expires = ends if use == PAGE_USE else min(now + timedelta(seconds=settings.token_ttl_seconds), ends)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "jti": jti,
        # Sub-second, so that a sign-in just after a password reset is not taken for one before it.
        "iat": now.timestamp(),
        "exp": expires,
        "auth_time": int(auth_time.timestamp()),
    }
    if use is not None:
        claims["use"] = use
    token = jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)
    return IssuedToken(access_token=token, expires_in=int((expires - now).total_seconds()))


def sign_in_ends(settings: Settings, auth_time: datetime) -> datetime:
    return auth_time + timedelta(seconds=settings.session_max_seconds)


def _auth_time(claims: dict[str, Any]) -> datetime:
    """When the password was typed; tokens issued before `auth_time` existed count from their `iat`."""
    value: Any = claims.get("auth_time", claims.get("iat"))
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token") from error


def decode_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.secret_key, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
    except jwt.PyJWTError as error:
        raise Unauthorized("The bearer token is invalid or expired.", code="invalid_token") from error
    return claims


async def authenticate(*, settings: Settings, token: str) -> Actor:
    """The actor behind a bearer token; raises Unauthorized for a bad, expired or revoked token."""
    claims, user_id, issued_at = _signed(settings, token)
    async with db.connection() as conn:
        user = await users.get_for_token(conn, user_id, str(claims["jti"]), issued_at)
    if user is None:
        raise token_refused()
    return Actor(id=user.id, role=user.role, email=user.email)


def authenticate_signed(*, settings: Settings, token: str) -> UncheckedActor:
    """The actor a bearer token's signature names, for a service that checks it in its transaction (`check`).

    Everything `authenticate` checks but the user's row and the revocation list; raises Unauthorized.
    """
    claims, user_id, issued_at = _signed(settings, token)
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token")
    return UncheckedActor(id=user_id, role=role, email="", jti=str(claims["jti"]), issued_at=issued_at)


async def check(conn: db.Connection, actor: UncheckedActor) -> None:
    """Refuse an unchecked actor's token now if revoked, cut off or its user disabled; raises Unauthorized."""
    if await users.get_for_token(conn, actor.id, actor.jti, actor.issued_at) is None:
        raise token_refused()


def token_refused() -> Unauthorized:
    """The refusal of a well-signed token whose sign-in was revoked or whose user was disabled."""
    return Unauthorized("The bearer token was revoked or its user disabled.", code="invalid_token")


def _signed(settings: Settings, token: str) -> tuple[dict[str, Any], int, float]:
    """A bearer token's verified claims, its user id and when it was issued; raises Unauthorized."""
    claims = decode_token(settings, token)
    if claims.get("use") == PAGE_USE:
        raise Unauthorized("A page's sign-in cookie is not a bearer token.", code="invalid_token")
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as error:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token") from error
    # Caps hold even for tokens signed before session_max_seconds was lowered.
    check_sign_in_age(settings, claims)
    try:
        issued_at = float(claims.get("iat", 0))
    except (TypeError, ValueError) as error:
        raise Unauthorized("The bearer token is invalid.", code="invalid_token") from error
    return claims, user_id, issued_at


def check_sign_in_age(settings: Settings, claims: dict[str, Any]) -> datetime:
    """The sign-in's time; raises Unauthorized(session_expired) once it is older than session_max_seconds."""
    auth_time = _auth_time(claims)
    if datetime.now(UTC) >= sign_in_ends(settings, auth_time):
        raise Unauthorized(
            "This sign-in is older than the longest a sign-in may last; sign in again with your password.",
            code="session_expired",
        )
    return auth_time


async def refresh_token(*, settings: Settings, actor: Actor, token: str) -> IssuedToken:
    """A fresh token for the same sign-in (same `jti`, so signing out still ends it all).

    The caller's token was already authenticated (not revoked, user active). Raises Unauthorized(session_expired)
    when the sign-in is older than `session_max_seconds`; the new token never outlives that limit.
    """
    claims = decode_token(settings, token)
    auth_time = check_sign_in_age(settings, claims)
    issued = sign_token(
        settings, user_id=actor.id, role=actor.role, jti=str(claims["jti"]), auth_time=auth_time, now=datetime.now(UTC)
    )
    async with db.transaction() as conn:
        await audit.record(conn, actor_id=actor.id, action="auth.refresh", entity="user", entity_id=actor.id)
    return issued


async def revoke_token(*, settings: Settings, actor: Actor, token: str) -> None:
    """Sign out: the token and every refresh of its sign-in are refused from now on, by every worker."""
    claims = decode_token(settings, token)
    # Kept until no token of this sign-in can be valid: refreshed tokens live up to the sign-in's end.
    expires = max(datetime.fromtimestamp(int(claims["exp"]), UTC), sign_in_ends(settings, _auth_time(claims)))
    async with db.transaction() as conn:
        await users.revoke(conn, str(claims["jti"]), expires)
        await audit.record(conn, actor_id=actor.id, action="auth.logout", entity="user", entity_id=actor.id)


def _check_new_user(email: str, role: str, password: str) -> tuple[str, str]:
    """The normalised e-mail and password of a new user; raises Unprocessable."""
    if role not in ROLES:
        raise Unprocessable(f"Role must be one of {', '.join(ROLES)}.", code="validation_error")
    email = credentials.check_new_email(email)
    return email, credentials.check_new_password(password, email=email)


async def create_user(*, actor: Actor | None, email: str, role: str, password: str, full_name: str = "") -> users.User:
    """Create a user (admin, or the CLI when actor is None); raises Conflict on a taken e-mail."""
    email, password = _check_new_user(email, role, password)
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
            entity_id=user.id,
            details={"email": email, "role": role},
        )
    return user


async def list_users() -> list[users.User]:
    """All users (admin)."""
    async with db.connection() as conn:
        return await users.list_users(conn)


async def update_user(*, actor: Actor | None, user_id: int, role: str | None, active: bool | None) -> users.User:
    """Change a user's role or active flag (an admin, or the CLI when actor is None); deactivation cuts tokens.

    Raises:
        NotFound: no such user.
        Unprocessable: an unknown role.
        Conflict: `cannot_change_self` (an admin demoting or deactivating themselves) or `last_admin`
            (the change would leave no active admin).
    """
    if role is None and active is None:
        raise Unprocessable("Give the role, active, or both.", code="validation_error")
    if role is not None and role not in ROLES:
        raise Unprocessable(f"Role must be one of {', '.join(ROLES)}.", code="validation_error")
    async with db.transaction() as conn:
        # Admins first, in id order, then the target: two admins demoting each other queue here.
        admins = await users.lock_active_admins(conn)
        if actor is not None and actor.id not in admins:
            raise Forbidden("This needs the admin role.", code="forbidden", required_role="admin")
        user = await users.get_for_update(conn, user_id)
        if user is None:
            raise NotFound.of("user", user_id)
        new_role = role if role is not None else user.role
        new_active = active if active is not None else user.active
        changes = {
            name: [old, new]
            for name, old, new in (("role", user.role, new_role), ("active", user.active, new_active))
            if old != new
        }
        if not changes:
            return user
        if actor is not None and user_id == actor.id:
            raise Conflict(
                "Admins cannot demote or deactivate themselves; ask another admin.", code="cannot_change_self"
            )
        if user_id in admins and (new_role != "admin" or not new_active) and len(admins) == 1:
            raise Conflict("This is the last active admin; make another admin first.", code="last_admin")
        deactivated = user.active and not new_active
        updated = await users.update(
            conn,
            user_id,
            role=new_role,
            active=new_active,
            # Reactivating must not revive the tokens the user had before.
            tokens_valid_after=datetime.now(UTC) if deactivated else None,
        )
        await audit.record(
            conn,
            actor_id=actor.id if actor else None,
            action="user.update",
            entity="user",
            entity_id=user_id,
            details=changes,
        )
    return updated


async def reset_password(*, actor: Actor, user_id: int, password: str) -> None:
    """Set a user's password (admin), under the same rules as a new one; the user's tokens stop working.

    Raises:
        NotFound: no such user.
        Unprocessable: the password breaks a rule (password_too_short, password_too_common, ...).
    """
    async with db.connection() as conn:
        user = await users.get_by_id(conn, user_id)
    if user is None:
        raise NotFound.of("user", user_id)
    password = credentials.check_new_password(password, email=user.email)
    password_hash = await hash_password(password)
    async with db.transaction() as conn:
        if await users.get_for_update(conn, user_id) is None:
            raise NotFound.of("user", user_id)
        await users.set_password(conn, user_id, password_hash, datetime.now(UTC))
        await audit.record(conn, actor_id=actor.id, action="user.password_reset", entity="user", entity_id=user_id)

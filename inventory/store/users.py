"""Users, sign-in attempts and revoked tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inventory import db
from inventory.db import Connection
from inventory.store import query
from inventory.tables import AppUser

_USER_COLUMNS = (AppUser.id, AppUser.email, AppUser.full_name, AppUser.role, AppUser.active, AppUser.created_at)


@dataclass(frozen=True)
class User:
    """An account as the service shows it (never its password hash)."""

    id: int
    email: str
    full_name: str
    role: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class Credentials:
    """What checking a password needs: the account and its hash."""

    id: int
    email: str
    full_name: str
    role: str
    active: bool
    password_hash: str
    locale: str | None


@dataclass(frozen=True)
class SignedInUser:
    """The active user behind a token or a page cookie, with the pages' language they chose."""

    id: int
    email: str
    full_name: str
    role: str
    locale: str | None


def _user(row: Any) -> User:
    return User(row["id"], row["email"], row["full_name"], row["role"], row["active"], row["created_at"])


async def get_by_email(conn: Connection, email: str) -> Credentials | None:
    """A user's credentials by e-mail (case-insensitive)."""
    row = await conn.fetchrow(
        "SELECT id, email, full_name, role, active, password_hash, locale FROM app_user WHERE lower(email) = lower($1)",
        email,
    )
    if row is None:
        return None
    return Credentials(
        row["id"], row["email"], row["full_name"], row["role"], row["active"], row["password_hash"], row["locale"]
    )


async def get_by_id(conn: Connection, user_id: int) -> User | None:
    """A user by id."""
    row = await query.fetchrow(conn, AppUser.select(*_USER_COLUMNS).where(AppUser.id == user_id))
    return _user(row) if row else None


def token_valid_sql(user_id: str, jti: str, issued_at: str) -> str:
    """SQL for "user `user_id` is active and its token `jti`, issued at `issued_at` (epoch), is still good"."""
    return (
        f"u.id = {user_id} AND u.active"
        f" AND (u.tokens_valid_after IS NULL OR {issued_at}::float8 >= extract(epoch FROM u.tokens_valid_after))"
        f" AND NOT EXISTS (SELECT 1 FROM revoked_token r WHERE r.jti = {jti})"
    )


async def get_for_token(conn: Connection, user_id: int, jti: str, issued_at: float) -> SignedInUser | None:
    """The active user behind a token, unless the token was revoked or issued before the user's cut-off."""
    row = await conn.fetchrow(
        "SELECT u.id, u.email, u.full_name, u.role, u.locale FROM app_user u"
        f" WHERE {token_valid_sql('$1', '$2', '$3')}",
        user_id,
        jti,
        issued_at,
    )
    if row is None:
        return None
    return SignedInUser(row["id"], row["email"], row["full_name"], row["role"], row["locale"])


async def set_locale(conn: Connection, user_id: int, locale: str | None) -> None:
    """Remember the pages' language a user chose (None: follow the browser)."""
    await query.execute(conn, AppUser.update({AppUser.locale: locale}).where(AppUser.id == user_id))


async def get_for_update(conn: Connection, user_id: int) -> User | None:
    """A user by id, row-locked until the transaction ends."""
    row = await query.fetchrow(conn, AppUser.select(*_USER_COLUMNS).where(AppUser.id == user_id).lock_rows("UPDATE"))
    return _user(row) if row else None


async def lock_active_admins(conn: Connection) -> list[int]:
    """Ids of the active admins, row-locked in id order so concurrent demotions queue instead of racing."""
    admins = AppUser.select(AppUser.id).where(AppUser.role == "admin", AppUser.active.eq(True))
    rows = await query.fetch(conn, admins.order_by(AppUser.id).lock_rows("UPDATE"))
    return [int(r["id"]) for r in rows]


async def update(
    conn: Connection, user_id: int, *, role: str, active: bool, tokens_valid_after: datetime | None
) -> User:
    """Set a user's role and active flag; with tokens_valid_after, refuse every token issued before it."""
    changes: dict[Any, Any] = {AppUser.role: role, AppUser.active: active}
    if tokens_valid_after is not None:
        changes[AppUser.tokens_valid_after] = tokens_valid_after
    row = await query.fetchrow(conn, AppUser.update(changes).where(AppUser.id == user_id).returning(*_USER_COLUMNS))
    assert row is not None
    return _user(row)


async def set_password(conn: Connection, user_id: int, password_hash: str, tokens_valid_after: datetime) -> None:
    """Replace a user's password hash and refuse every token issued before tokens_valid_after."""
    changes: dict[Any, Any] = {AppUser.password_hash: password_hash, AppUser.tokens_valid_after: tokens_valid_after}
    await query.execute(conn, AppUser.update(changes).where(AppUser.id == user_id))


async def create(conn: Connection, *, email: str, full_name: str, password_hash: str, role: str) -> User:
    """Insert a user."""
    user = AppUser(
        email=email, full_name=full_name, password_hash=password_hash, role=role, active=True, created_at=db.now()
    )
    row = await query.fetchrow(conn, AppUser.insert(user).returning(*_USER_COLUMNS))
    assert row is not None
    return _user(row)


async def list_users(conn: Connection) -> list[User]:
    """All users."""
    return [_user(r) for r in await query.fetch(conn, AppUser.select(*_USER_COLUMNS).order_by(AppUser.id))]


async def pair_failures(
    conn: Connection, email: str, client: str | None, window_seconds: int, limit: int
) -> list[float]:
    """Seconds each recent failure of this e-mail from this address still counts, newest first (at most limit).

    Counted within the window and since the pair's last success. Attempts of unknown origin (client null)
    count against every address, as they did before addresses were kept.
    """
    rows = await conn.fetch(
        "SELECT extract(epoch FROM attempted_at + make_interval(secs => $3) - $5::timestamptz)::float8 AS left"
        " FROM login_attempt WHERE email = lower($1) AND NOT succeeded AND (client = $2 OR client IS NULL)"
        " AND attempted_at > $5::timestamptz - make_interval(secs => $3)"
        " AND attempted_at > coalesce((SELECT max(attempted_at) FROM login_attempt"
        "   WHERE email = lower($1) AND succeeded AND (client = $2 OR client IS NULL)), '-infinity')"
        " ORDER BY attempted_at DESC LIMIT $4",
        email,
        client,
        float(window_seconds),
        limit,
        db.now(),
    )
    return [float(r["left"]) for r in rows]


async def address_failures(conn: Connection, client: str, window_seconds: int, limit: int) -> list[float]:
    """Seconds each recent failure from this address, for any e-mail, still counts, newest first (at most limit).

    A success does not reset it: one valid account must not let an address go on guessing others.
    """
    rows = await conn.fetch(
        "SELECT extract(epoch FROM attempted_at + make_interval(secs => $2) - $4::timestamptz)::float8 AS left"
        " FROM login_attempt WHERE client = $1 AND NOT succeeded"
        " AND attempted_at > $4::timestamptz - make_interval(secs => $2) ORDER BY attempted_at DESC LIMIT $3",
        client,
        float(window_seconds),
        limit,
        db.now(),
    )
    return [float(r["left"]) for r in rows]


async def claim_attempt(conn: Connection, email: str, client: str | None = None) -> int:
    """Record a sign-in attempt as failed until it is proven right; returns its id.

    Claiming before the (slow) password check means parallel guesses each see the others' attempts.
    """
    value = await conn.fetchval(
        "INSERT INTO login_attempt (email, client, succeeded, attempted_at) VALUES (lower($1), $2, false, $3)"
        " RETURNING id",
        email,
        client,
        db.now(),
    )
    return int(value)


async def mark_attempt_succeeded(conn: Connection, attempt_id: int) -> None:
    """The claimed attempt had the right password."""
    await conn.execute("UPDATE login_attempt SET succeeded = true WHERE id = $1", attempt_id)


async def lock_email(conn: Connection, email: str) -> None:
    """Serialise sign-in bookkeeping for one e-mail until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('login:' || lower($1)))", email)


async def lock_address(conn: Connection, client: str) -> None:
    """Serialise sign-in bookkeeping for one client address until the transaction ends (taken before lock_email)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('login-address:' || $1))", client)


async def revoke(conn: Connection, jti: str, expires_at: Any) -> None:
    """Revoke a token until it would have expired anyway."""
    await conn.execute(
        "INSERT INTO revoked_token (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
        jti,
        expires_at,
    )


LOGIN_ATTEMPT_RETENTION = "30 days"


async def purge_login_attempts(conn: Connection) -> int:
    """Delete sign-in attempts past retention; returns how many."""
    result = await conn.execute(
        f"DELETE FROM login_attempt WHERE attempted_at < $1::timestamptz - interval '{LOGIN_ATTEMPT_RETENTION}'",
        db.now(),
    )
    return int(result.split()[-1])


async def purge_revoked_tokens(conn: Connection) -> int:
    """Delete revocations of tokens that have expired anyway; returns how many."""
    result = await conn.execute("DELETE FROM revoked_token WHERE expires_at < $1", db.now())
    return int(result.split()[-1])

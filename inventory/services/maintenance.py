"""Nightly housekeeping: forget what is past its retention (never the ledger, usages or the audit log)."""

from __future__ import annotations

from inventory import db
from inventory.services import idempotency, schedule
from inventory.store import users


async def purge() -> dict[str, int]:
    """Delete expired idempotency keys, old sign-in attempts, revocations of expired tokens, old job periods."""
    keys = await idempotency.purge_expired()
    async with db.transaction() as conn:
        attempts = await users.purge_login_attempts(conn)
        revoked = await users.purge_revoked_tokens(conn)
    periods = await schedule.purge()
    return {"idempotency_keys": keys, "login_attempts": attempts, "revoked_tokens": revoked, "job_periods": periods}

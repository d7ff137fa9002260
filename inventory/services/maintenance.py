"""Nightly housekeeping: forget what is past its retention (never the ledger, usages or the audit log)."""

from __future__ import annotations

from inventory import db
from inventory.services import idempotency

LOGIN_ATTEMPT_RETENTION = "30 days"


async def purge() -> dict[str, int]:
    """Delete expired idempotency keys, old sign-in attempts and revocations of tokens that have expired."""
    keys = await idempotency.purge_expired()
    async with db.transaction() as conn:
        attempts = await conn.execute(
            f"DELETE FROM login_attempt WHERE attempted_at < now() - interval '{LOGIN_ATTEMPT_RETENTION}'"
        )
        revoked = await conn.execute("DELETE FROM revoked_token WHERE expires_at < now()")
    return {
        "idempotency_keys": keys,
        "login_attempts": int(attempts.split()[-1]),
        "revoked_tokens": int(revoked.split()[-1]),
    }

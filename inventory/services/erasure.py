"""Erasing a client: on request (an admin) or at the end of the retention period (the nightly job).

The client row is pseudonymised in place: its name becomes the stable pseudonym, contacts, birth date and allergies
are dropped. Every usage, reaction, recall contact and trace result keeps pointing at the same row, so the lot ↔
client link survives under the pseudonym; nothing that records a use (usage, ledger, reaction, audit) is changed.
A reaction keeps the age band it had at onset (stored when it was recorded), so reports need no birth date.
"""

from __future__ import annotations

from typing import Any

from inventory import clock, db
from inventory.domain.erasure import client_erased, pseudonym, retention_cutoff, scrub
from inventory.domain.errors import NotFound
from inventory.domain.models import Actor
from inventory.services import checks
from inventory.services.clinical import client_view
from inventory.store import audit
from inventory.store import clinical as store

RETENTION_BATCH = 500  # clients erased per transaction by the nightly job


def _personal(row: dict[str, Any]) -> list[str | None]:
    """What erasure removes and no text may keep: the full name, its longer parts, e-mail and phone."""
    name: str = row["full_name"]
    return [name, *(part for part in name.split() if len(part) >= 3), row["email"], row["phone"]]


async def _erase(conn: db.Connection, row: dict[str, Any], *, secret: str) -> dict[str, Any]:
    """Pseudonymise a locked client row and scrub their recall contact notes; returns the new row."""
    alias = pseudonym(row["id"], secret)
    personal = _personal(row)
    for recall_client_id, note in await store.recall_notes(conn, row["id"]):
        cleaned = scrub(note, personal, alias)
        if cleaned != note:
            await store.set_recall_note(conn, recall_client_id, cleaned)
    return await store.pseudonymise_client(conn, row["id"], pseudonym=alias, at=clock.now())


async def erase_client(*, actor: Actor, client_id: int, reason: str, secret: str) -> dict[str, Any]:
    """Erase a client on request; audited with the reason (the client's name and contacts scrubbed out of it).

    Raises NotFound, Unprocessable (reason), Conflict(client_erased) when the client was already erased.
    """
    clean = checks.text(reason, "reason", required=True, limit=1000)
    assert clean is not None

    async def run() -> dict[str, Any]:
        async with db.transaction() as conn:
            row = await store.lock_client(conn, client_id)
            if row is None:
                raise NotFound.of("client", client_id)
            if row["erased_at"] is not None:
                raise client_erased(client_id)
            erased = await _erase(conn, row, secret=secret)
            await audit.record(
                conn,
                actor_id=actor.id,
                action="client.erase",
                entity="client",
                entity_id=client_id,
                details={"reason": scrub(clean, _personal(row), erased["full_name"]), "pseudonym": erased["full_name"]},
            )
        return client_view(erased, actor)

    return await db.with_retries(run)


async def erase_past_retention(*, years: int, secret: str) -> int:
    """Erase every client whose last session is more than `years` old (by the service clock), audited as the
    system; returns how many."""
    cutoff = retention_cutoff(clock.now(), years)
    erased = 0
    while True:
        async with db.transaction() as conn:
            ids = await store.clients_past_retention(conn, before=cutoff, limit=RETENTION_BATCH)
            for client_id in ids:
                row = await store.lock_client(conn, client_id)
                if row is None or row["erased_at"] is not None:
                    continue
                alias = (await _erase(conn, row, secret=secret))["full_name"]
                await audit.record(
                    conn,
                    actor_id=None,
                    action="client.erase",
                    entity="client",
                    entity_id=client_id,
                    details={"reason": f"retention: no session for {years} years", "pseudonym": alias},
                )
                erased += 1
        if len(ids) < RETENTION_BATCH:
            return erased

"""Erasure and retention of a client (pure): the stable pseudonym, what a free text may no longer say, the cut-off.

The pseudonym is an HMAC-SHA256 of the client's id under the deployment's secret: the same client always gets the
same one (every record that names the client stays linked to it), and nobody without the secret can tell which
client it was, even knowing the ids.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from datetime import datetime

from inventory.domain.errors import Conflict

PSEUDONYM_PREFIX = "Erased client "
MIN_RETENTION_YEARS = 1
MAX_RETENTION_YEARS = 100
DEFAULT_RETENTION_YEARS = 20


def client_erased(client_id: int) -> Conflict:
    """The refusal of what would give an erased client new records (sessions, courses) or a second erasure."""
    return Conflict(f"Client {client_id} was erased.", code="client_erased", client_id=client_id)


def pseudonym(client_id: int, secret: str) -> str:
    """ "Erased client 1a2b3c4d5e6f7a8b": 64 bits of HMAC-SHA256(secret, "client:<id>"), stable for this secret."""
    digest = hmac.new(secret.encode(), f"client:{client_id}".encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:16]


def scrub(text: str, personal: Iterable[str | None], replacement: str) -> str:
    """`text` with every occurrence of each personal value (ignoring case) replaced, longest first."""
    values = sorted({v.strip() for v in personal if v and len(v.strip()) >= 2}, key=len, reverse=True)
    for value in values:
        text = re.sub(re.escape(value), replacement, text, flags=re.IGNORECASE)
    return text


def retention_cutoff(now: datetime, years: int) -> datetime:
    """The instant `years` before `now` (29 February falls back to the 28th): older records are past retention."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)

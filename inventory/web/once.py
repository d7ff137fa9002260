"""A page form's write, run once per the Idempotency-Key the form was rendered with: a double submit replays.

Each rendered form carries `<input type="hidden" name="idempotency_key" value="{{ new_key() }}">`. The key is
kept by `services.idempotency` (the same store as the API's Idempotency-Key header) in the write's transaction:
a second submit of the same form gets the first result back and changes nothing; a refused write keeps no key,
so the corrected form can be sent again with it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request

from inventory.services import idempotency
from inventory.web.pages import CSRF_FIELD, current_user

FIELD = "idempotency_key"
Summary = dict[str, Any]  # what the page says about a write (JSON values only): kept and replayed as it was


def new_key() -> str:
    """A fresh key for one rendered form."""
    return str(uuid.uuid4())


def _fingerprint(request: Request[Any, Any, Any], form: dict[str, Any]) -> str:
    # The CSRF token changes with each sign-in and the key is the key: neither is part of what was asked.
    asked = {name: value for name, value in form.items() if name not in (CSRF_FIELD, FIELD)}
    body = json.dumps(asked, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()


async def run_once(
    request: Request[Any, Any, Any], form: dict[str, Any], write: Callable[[], Awaitable[Summary]]
) -> Summary:
    """Run `write` once per the form's key (without a key: every time) and return its summary, replayed or not.

    Raises what `write` raises, and Unprocessable(idempotency_key_reused) when the key came with other values.
    """
    key = form.get(FIELD)
    if not isinstance(key, str) or not key:
        return await write()
    user = await current_user(request)

    async def operation() -> idempotency.StoredResponse:
        summary = await write()
        return idempotency.StoredResponse(200, json.dumps(summary).encode())

    stored = await idempotency.run_once(
        user_id=user.actor.id, key=key, fingerprint=_fingerprint(request, form), operation=operation
    )
    result: Summary = json.loads(stored.body)
    return result

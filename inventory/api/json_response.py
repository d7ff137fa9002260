"""The app's response class: JSON with decimal quantities as JSON numbers (msgspec's default writes strings)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import msgspec
from litestar import Response
from litestar.enums import MediaType
from litestar.serialization import default_serializer
from litestar.types import Serializer

T = TypeVar("T")


@lru_cache(maxsize=8)
def _encoder(enc_hook: Serializer) -> msgspec.json.Encoder:
    return msgspec.json.Encoder(enc_hook=enc_hook, decimal_format="number")


class JsonResponse(Response[T]):
    """A Response whose JSON body writes Decimal 0.3 as 0.3 (whole quantities are ints already)."""

    def render(self, content: Any, media_type: str, enc_hook: Serializer = default_serializer) -> bytes:
        """Render as Litestar does, except JSON, which keeps decimals as numbers."""
        if media_type == MediaType.JSON and not isinstance(content, (bytes, str)):
            try:
                return _encoder(enc_hook).encode(content)
            except (TypeError, ValueError):
                pass  # let Litestar report it as it would
        return super().render(content, media_type, enc_hook)

"""Routes placeholder."""

from typing import Any

HANDLERS: list[Any] = []

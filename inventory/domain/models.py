"""Small value types shared by the layers: the acting user and roles."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("staff", "manager", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Actor:
    """The authenticated user a request acts for."""

    id: int
    role: str
    email: str

    def has_role(self, needed: str) -> bool:
        """True when this actor's role includes everything of `needed` (staff < manager < admin)."""
        return _RANK.get(self.role, -1) >= _RANK[needed]


@dataclass(frozen=True)
class UncheckedActor(Actor):
    """An actor as a bearer token's verified signature names it (role as signed, no email): the service checks in
    its own transaction's first statement that the user is active and the token neither revoked nor cut off."""

    jti: str
    issued_at: float

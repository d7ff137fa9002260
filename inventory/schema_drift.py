"""Fails when inventory/tables.py has changes no migration captures (run in CI beside `piccolo migrations check`)."""

from __future__ import annotations

import asyncio
import sys
from itertools import chain


async def drift() -> list[str]:
    """The statements an auto migration would need; empty when tables and migrations agree."""
    from piccolo.apps.migrations.commands.new import AutoMigrationManager
    from piccolo.conf.apps import Finder

    app_config = Finder().get_app_config("inventory")
    alters = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=app_config)
    return list(chain(*[a.statements for a in alters]))


def main() -> int:
    """Print the drift and exit non-zero when there is any."""
    statements = asyncio.run(drift())
    if statements:
        print("tables.py and migrations/ disagree; run `piccolo migrations new inventory --auto`:")
        print("\n".join(statements))
        return 1
    print("tables.py and migrations/ agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())

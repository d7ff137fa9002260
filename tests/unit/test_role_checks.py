"""Role checks live in one layer, the API's guards; services keep only the rules that depend on the data."""

from __future__ import annotations

import re
from pathlib import Path

import inventory.services

SERVICES = Path(inventory.services.__file__).parent
# The only services that may look at a role, each for a rule about particular rows: staff void only their own
# scans (scanning), client contacts are shown to managers only (clinical), and the acting admin must still be an
# active admin under the lock a user change takes (auth). Which role a route needs is the guard's business.
DATA_RULES = {"scanning.py", "clinical.py", "auth.py"}


def test_services_check_roles_only_where_the_rule_depends_on_the_data() -> None:
    checks = [
        f"{path.name}: {line.strip()}"
        for path in sorted(SERVICES.glob("*.py"))
        if path.name not in DATA_RULES
        for line in path.read_text().splitlines()
        if re.search(r"\.has_role\(|required_role=|\brequire_(manager|admin|staff)\(", line)
    ]
    assert checks == []

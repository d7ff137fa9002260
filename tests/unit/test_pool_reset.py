"""The pool sends no reset on release (db.keep_session): no code may leave session state on a pool connection."""

from __future__ import annotations

import re
from pathlib import Path

import inventory

SOURCE = Path(inventory.__file__).parent

# What would outlive a transaction on a pooled connection, and so need asyncpg's reset query back.
SESSION_STATE = {
    "session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.IGNORECASE),
    "LISTEN": re.compile(r"[\"']\s*LISTEN\s", re.IGNORECASE),
    "listener callback": re.compile(r"\.add_listener\("),
    "session SET": re.compile(r"[\"']\s*(;\s*)?SET\s+(?!LOCAL\b)(SESSION\s+)?\w+\s*(=|TO\b)", re.IGNORECASE),
    "session set_config": re.compile(r"set_config\([^)]*,\s*false\s*\)", re.IGNORECASE),
    "cursor WITH HOLD": re.compile(r"WITH\s+HOLD", re.IGNORECASE),
    "temporary table": re.compile(r"CREATE\s+(TEMP|TEMPORARY)\s", re.IGNORECASE),
    "named PREPARE": re.compile(r"[\"']\s*PREPARE\s", re.IGNORECASE),
}


def test_no_code_leaves_session_state_on_a_pool_connection() -> None:
    found = [
        f"{path.relative_to(SOURCE.parent)}:{number}: {name}: {line.strip()}"
        for path in sorted(SOURCE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for name, pattern in SESSION_STATE.items()
        if pattern.search(line)
    ]
    assert found == []


def test_the_patterns_catch_what_they_name() -> None:
    samples = {
        "session advisory lock": 'conn.execute("SELECT pg_advisory_lock($1)", key)',
        "LISTEN": 'conn.execute("LISTEN jobs")',
        "listener callback": "await conn.add_listener('jobs', relay)",
        "session SET": "conn.execute(\"SET lock_timeout = '5s'\")",
        "session set_config": "SELECT set_config('work_mem', '64MB', false)",
        "cursor WITH HOLD": "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "temporary table": "CREATE TEMP TABLE t (id int)",
        "named PREPARE": 'conn.execute("PREPARE q AS SELECT 1")',
    }
    for name, pattern in SESSION_STATE.items():
        assert pattern.search(samples[name]), name
    harmless = [
        'conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")',
        '"UPDATE usage SET voided_at = $4 WHERE id = $1"',
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)",
    ]
    assert [line for line in harmless if any(p.search(line) for p in SESSION_STATE.values())] == []

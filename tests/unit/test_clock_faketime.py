"""A whole process moved by faketime: the service's clock and the expiry rule follow the process clock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "from datetime import date\n"
    "from inventory import clock\n"
    "from inventory.domain.rules import is_expired\n"
    "print(clock.now().isoformat(timespec='minutes'), is_expired(date(2027, 3, 1), clock.today_in('Europe/Paris')),"
    " is_expired(date(2027, 3, 1), clock.today_in('America/New_York')))\n"
)


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime is not installed")
@pytest.mark.parametrize(
    ("process_time", "expected"),
    [
        ("2027-03-01 22:59:00", "2027-03-01T22:59+00:00 False False"),
        ("2027-03-01 23:30:00", "2027-03-01T23:30+00:00 True False"),  # midnight has passed in Paris only
    ],
)
def test_a_process_under_faketime_refuses_the_lot_from_paris_midnight(process_time: str, expected: str) -> None:
    env = {**os.environ, "TZ": "UTC", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        ["faketime", process_time, sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == expected

"""`inventory serve --workers N`: one scrape sees every worker, JSON access lines, the metrics directory removed."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import Databases

pytestmark = pytest.mark.race

_COUNT = 'inventory_scans_total{outcome="recorded"}'


def _record_one_scan(directory: Path) -> None:
    code = "from inventory import metrics; metrics.scan_recorded([]); metrics.scan_refused('lot_expired')"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


def test_values_written_by_several_processes_add_up_in_one_scrape(tmp_path: Path) -> None:
    _record_one_scan(tmp_path)
    _record_one_scan(tmp_path)
    code = "import sys; from inventory import metrics; sys.stdout.write(metrics.render().decode())"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    text = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, timeout=60, capture_output=True, text=True
    ).stdout
    assert f"{_COUNT} 2.0" in text
    assert 'inventory_scans_total{outcome="lot_expired"} 2.0' in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _sample(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    assert match, (series, text)
    return float(match.group(1))


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_sums_its_workers_in_every_scrape_and_cleans_up_on_sigterm(
    databases: Databases, tmp_path: Path, workers: int
) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "DATABASE_URL": databases.race,
        "INVENTORY_SECRET_KEY": secrets.token_urlsafe(48),
        "INVENTORY_DB_CONNECTIONS": "12",
        "TMPDIR": str(tmp_path),  # where serve makes its metrics directory
    }
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "inventory.cli", "serve", "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [*command, "--no-jobs"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        health = 0
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for _ in range(150):
                try:
                    if http.get("/health").status_code == 200:
                        health += 1
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert health, log.read_text()
            assert [p.name.startswith("inventory-metrics-") for p in tmp_path.iterdir() if p.is_dir()] == [True]
            for _ in range(30):
                # A fresh connection each time, so both workers answer some.
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as fresh:
                    assert fresh.get("/health").status_code == 200
                    health += 1
            time.sleep(0.3)  # both workers have sampled their pools at start
            for _ in range(3):
                text = http.get("/metrics").text
                series = 'inventory_http_requests_total{method="GET",route="/health",status="2xx"}'
                assert _sample(text, series) == health
                # 12 connections shared by the workers (6 each for two), summed over the live workers.
                assert _sample(text, "inventory_db_pool_max_connections") == 12
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    assert code == 0, log.read_text()
    assert not [p for p in tmp_path.iterdir() if p.is_dir()], "the metrics directory was left behind"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "inventory.access" and line["route"] == "/health"]
    assert len(access) == health
    assert all(re.fullmatch(r"[0-9a-f]{16}", line["request_id"]) for line in access)
    assert {line["status"] for line in access} == {200}

"""What each lock file installs: the image gets the runtime only; make run and make test get the rest too."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _pinned(lock: str) -> dict[str, str]:
    text = (ROOT / "requirements" / lock).read_text()
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", text, re.M)
    }


def test_the_image_installs_no_test_tools_and_no_embedded_postgresql() -> None:
    runtime = _pinned("runtime.lock")
    assert {"litestar", "piccolo", "asyncpg", "babel", "jinja2"} <= set(runtime)
    assert "zxing-cpp" in runtime  # labels write GS1 DataMatrix with it
    assert not {"pgserver", "pytest", "playwright", "schemathesis", "hypothesis"} & set(runtime)


def test_make_installs_the_runtime_at_the_same_versions_plus_tests_and_the_embedded_server() -> None:
    runtime, dev = _pinned("runtime.lock"), _pinned("dev.lock")
    assert {"pgserver", "zxing-cpp", "pytest", "playwright"} <= set(dev)
    assert {name: dev.get(name) for name in runtime} == runtime
    # Every pin carries its hashes (installs use --require-hashes).
    for lock in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / lock).read_text()
        assert all("--hash=sha256:" in block for block in re.split(r"\n(?=[A-Za-z])", text) if "==" in block)

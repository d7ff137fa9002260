"""Browser fixtures: Debian's Chromium, the app under uvicorn in the tests' event loop, a tab per test."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from inventory.app import create_app
from inventory.config import Settings
from tests.support.browser import CHROMIUM_ARGS, Tab
from tests.support.pages import Pages


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by pip's playwright; skipped without it, except under CI where that fails."""
    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium is not installed (apt-get install chromium); the /ui browser tests need it"
        if "CI" in os.environ:
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
async def base_url(settings: Settings) -> AsyncIterator[str]:
    """The app under uvicorn on a free port, in the tests' event loop (so it uses the swapped engine pool)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, manage_pool=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(250):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    if not server.started:
        server.should_exit = True
        await task
        pytest.fail("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def tab(browser: Browser, base_url: str, race_pool: None) -> AsyncIterator[Tab]:
    """A tablet-sized page; at the end, no uncaught script error and no CSP violation may have happened.

    Each test starts with the seeded users following their browser's language (a test that chose French for a
    user in the committed race database must not make the next test's pages French).
    """
    from inventory import db

    async with db.connection() as conn:
        await conn.execute("UPDATE app_user SET locale = NULL WHERE locale IS NOT NULL")
    context = await browser.new_context(viewport={"width": 1024, "height": 768}, accept_downloads=True)
    context.set_default_timeout(8000)
    page = await context.new_page()
    opened = Tab(page, base_url)
    try:
        yield opened
    finally:
        await context.close()
    assert opened.problems == []


@pytest.fixture(scope="session")
async def page_cookies(settings: Settings, pool: None) -> dict[str, str]:
    """A page sign-in cookie per seeded user (made once: Argon2 is deliberately slow)."""
    from inventory.services import page_sessions
    from tests.conftest import PASSWORD

    cookies = {}
    for name in ("staff", "staff2", "manager", "admin"):
        started = await page_sessions.sign_in(
            settings=settings, email=f"{name}@clinic.test", password=PASSWORD, client=None
        )
        cookies[name] = started.cookie
    return cookies


@pytest.fixture
async def pages(client: httpx.AsyncClient, settings: Settings) -> Pages:
    """The pages over HTTP in the test's transaction; `pages.sign_in_as(page_cookies[role])` to sign in."""
    return Pages(client, settings)

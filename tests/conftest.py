"""Shared fixtures: an API client, a live server subprocess, and headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


def make_client(**overrides) -> TestClient:
    """A client on an app with some settings changed (limits)."""
    return TestClient(create_app(Settings(**overrides)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The real server (uvicorn) as a subprocess on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLASSBOX_TEST_ASSETS_DIR": str(ROOT / "tests" / "js")}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {(ARTIFACTS / 'server.log').read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("the server did not answer /api/health within 30 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def find_chromium() -> str | None:
    candidates = [os.environ.get("GLASSBOX_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                  shutil.which("chromium-browser"), shutil.which("google-chrome")]
    for c in candidates:
        if c and Path(c).exists():
            return c
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = find_chromium()
    if path is None:
        pytest.fail(
            "No Chromium found for the browser tests. Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) "
            "or point GLASSBOX_CHROMIUM at a Chromium/Chrome binary, then run the tests again.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, request) -> Iterator[object]:
    """A fresh 1280×800 page; console errors fail the test; a screenshot is kept in test-artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    pg.console_errors = errors  # type: ignore[attr-defined]
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test's own result
        pass
    context.close()
    unexpected = [e for e in errors if "favicon" not in e]
    assert not unexpected, f"browser console errors: {unexpected}"

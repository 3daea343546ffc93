"""Shared fixtures: an API client, a live server subprocess, headless Chromium, a Redis server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# The session store of every app the tests make (and of the live server) lives in a temporary folder, never in
# the user's data directory. Set before the app is imported: app.main builds its app at import.
os.environ["GLASSBOX_DATA_DIR"] = tempfile.mkdtemp(prefix="glassbox-test-store-")

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
def client(tmp_path) -> Iterator[TestClient]:
    """The app with its default store: SQLite, in a folder of this test's own."""
    with TestClient(create_app(Settings(data_dir=tmp_path))) as c:
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
         "--log-level", "warning", "--ws-per-message-deflate", "false"],
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


def start_server(port: int, log_name: str, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> subprocess.Popen:
    """`glassbox serve` (uvicorn) as a subprocess, answering /api/health; its output goes to test-artifacts/."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # a file, not a pipe: a full pipe would block the server
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {(ARTIFACTS / log_name).read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not answer /api/health within 30 s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop as a service manager does (SIGTERM: the server writes what it has not written yet, then exits)."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A real redis-server on a free port, for the tests of the Redis store; yields its URL. Fails (never skips)
    when Redis is not installed: the store's suite must run against both backends."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.fail("redis-server is missing: the session store's tests need it. Install it (Debian/Ubuntu: "
                    "`sudo apt-get install -y redis-server`; .ci/run does so) and run the tests again.",
                    pytrace=False)
    port = free_port()
    proc = subprocess.Popen([path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"redis-server did not listen on port {port} within 10 s", pytrace=False)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


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

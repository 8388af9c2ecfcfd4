"""Browser tests: a live server on a fresh database, Debian's Chromium, and every test with and without JS.

Fixtures
- ``live_server`` (session): builds a fresh SQLite database with the real migrations in a temporary
  instance folder, serves the app with gunicorn (``wsgi:app``; ``flask run`` when wsgi.py is missing) on a
  free port, waits for /healthz and stops the server at the end. ``base_url`` points at it, so tests
  use relative URLs (``page.goto("/accounts/register")``).
- ``js_enabled`` (function, parametrised "js"/"nojs"): every test using ``page`` runs twice, once with
  JavaScript on and once with it off. A test that only makes sense with JavaScript parametrises it
  directly: ``@pytest.mark.parametrize("js_enabled", [True], ids=["js"])``.
- ``browser_context_args`` is overridden per test to add ``java_script_enabled``; ``context`` remembers
  the setting on the context (``context.e2e_js_enabled``) for the helpers.
- ``page`` records console messages and fails the test on a Content-Security-Policy report or an
  uncaught script error.

Accessibility checks (``e2e.helpers.check_a11y``) run axe-core in the page itself when JavaScript is on.
With it off, page.evaluate still works but Chromium fires no timers, so axe.run() never finishes; the
page's DOM is then audited as a copy in a JavaScript-enabled context (see ``_axe_on_snapshot``).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e import helpers
from e2e.helpers import assert_no_csp_violations, watch_console

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

expect.set_options(timeout=10_000)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _server_command(port: int) -> list[str]:
    if (ROOT / "wsgi.py").exists() and shutil.which("gunicorn", path=str(Path(sys.executable).parent)):
        return [
            sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", "2", "--threads", "4",
            "wsgi:app",
        ]  # fmt: skip
    return [sys.executable, "-m", "flask", "--app", "portal", "run", "--port", str(port), "--no-reload"]


@pytest.fixture(scope="session")
def server_env(tmp_path_factory) -> dict[str, str]:
    """The environment of the live server: a fresh instance folder and SQLite database, migrated."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance / 'e2e.sqlite3'}",
        "SECRET_KEY": "e2e-only-secret-key",
        "PORTAL_ENV": "development",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_E2E_PORT": str(port),
        "RATELIMIT_STORAGE_URI": "memory://",
        "MAIL_SERVER": "",
        "PROXY_FIX": "0",
        "SESSION_COOKIE_SECURE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", "db", "upgrade", "heads"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, f"flask db upgrade failed:\n{migrate.stdout}\n{migrate.stderr}"
    # The helpers read emails (registration links) from the server's outbox.
    helpers.SERVER_DATABASE["url"] = env["DATABASE_URL"]
    return env


@pytest.fixture(scope="session")
def run_python(server_env):
    """Run a Python script from e2e/ against the live server's database; return what it prints."""

    def run(script: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(ROOT / "e2e" / script), *args],
            cwd=ROOT,
            env=server_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    return run


@pytest.fixture(scope="session")
def live_server(server_env):
    """Serve the portal on a free port with a fresh, migrated SQLite database; yield its base URL."""
    env = server_env
    instance = Path(env["PORTAL_INSTANCE_PATH"])
    port = int(env["PORTAL_E2E_PORT"])
    log_path = instance / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(_server_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    # The queue's worker, as `make run` starts it: mail, matching runs and reminders happen there.
    with open(instance / "worker.log", "wb") as log:
        consumer = [str(Path(sys.executable).parent / "huey_consumer"), "portal.queue.huey", "-w", "2", "-m", "0.5"]
        worker = subprocess.Popen(consumer, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"The portal did not start (exit code {server.poll()}):\n{log_path.read_text()[-4000:]}"
                )
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        worker.terminate()
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server


def _chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), "/usr/bin/chromium"]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    path = _chromium_path()
    if path is None:
        pytest.fail("No Chromium found: install Debian's chromium (make browser) or set CHROMIUM_PATH.")
    return {**browser_type_launch_args, "executable_path": path, "headless": True, "args": CHROMIUM_ARGS}


@pytest.fixture(params=[pytest.param(True, id="js"), pytest.param(False, id="nojs")])
def js_enabled(request) -> bool:
    return request.param


@pytest.fixture
def browser_context_args(browser_context_args, js_enabled):
    # pytest-playwright's fixture is session-scoped; this function-scoped override is what its
    # function-scoped ``new_context`` fixture sees, so each test gets the JavaScript setting it asked for.
    return {**browser_context_args, "java_script_enabled": js_enabled}


@pytest.fixture
def context(new_context, js_enabled):
    context = new_context()
    context.e2e_js_enabled = js_enabled
    context.set_default_timeout(10_000)
    context.set_default_navigation_timeout(15_000)
    return context


@pytest.fixture
def page(context):
    page = context.new_page()
    watch_console(page)
    yield page
    assert_no_csp_violations(page)

"""`goftogu serve` on embedded defaults, as `make run` starts it on a fresh machine."""

import subprocess
from pathlib import Path

import httpx

from tests.e2e.servers import JS_DIR, gateway_process


def test_a_fresh_directory_gets_a_migrated_database_and_a_ready_gateway(tmp_path: Path) -> None:
    with gateway_process(env={}, cwd=tmp_path) as gateway:
        ready = httpx.get(f"{gateway.base_url}/readyz", timeout=5)
    assert ready.status_code == 200
    backends = ready.json()["backends"]
    assert {name: b["embedded"] for name, b in backends.items()} == {
        "database": True,
        "documents": True,
        "presence": True,
        "queue": True,
        "mail": True,
    }
    assert (tmp_path / "var" / "goftogu.db").exists()


def test_the_official_javascript_client_reaches_the_socketio_endpoint(tmp_path: Path) -> None:
    with gateway_process(env={}, cwd=tmp_path) as gateway:
        result = subprocess.run(
            ["node", str(JS_DIR / "handshake.mjs"), gateway.base_url],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    assert result.stdout.strip() == "connected", result.stdout + result.stderr

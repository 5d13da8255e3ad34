"""`goftogu serve` on embedded defaults, as `make run` starts it on a fresh machine."""

from pathlib import Path

import httpx

from tests.e2e.servers import gateway_process


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

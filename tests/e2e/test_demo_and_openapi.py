"""`goftogu openapi` (the web app's API types come from it) and `goftogu demo`
(the README's Quick start)."""

import json
import re
import time
from pathlib import Path

import httpx

from tests.e2e.servers import free_port, goftogu_process, wait_until_healthy
from tests.e2e.test_cli import run_goftogu


def test_openapi_writes_the_document_without_a_server_or_a_database(tmp_path: Path) -> None:
    target = tmp_path / "out" / "openapi.json"
    result = run_goftogu("openapi", "--output", str(target), env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(target.read_text())
    assert document["info"]["title"] == "goftogu"
    assert "/api/v1/support/operators" in document["paths"]
    assert "operator_name" in document["components"]["schemas"]["SupportChatPublic"]["properties"]
    assert not (tmp_path / "var").exists()  # nothing was connected or created


def _accounts(log: Path, timeout: float = 30) -> dict[str, str]:
    """The accounts and passwords `goftogu demo` printed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = dict(re.findall(r"^\s+(demo-\w+)\s+(\S+)\s+\(", text, flags=re.MULTILINE))
        if len(found) == 3 and "customer's page" in text:
            return found
        time.sleep(0.1)
    raise AssertionError(f"demo printed no accounts:\n{log.read_text()}")


def test_demo_seeds_staff_once_serves_a_page_with_the_widget_and_lets_it_frame_the_widget(
    tmp_path: Path,
) -> None:
    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data"), "GOFTOGU_LOG_FORMAT": "text"}
    passwords = []
    for run in ("first", "second"):
        port, page_port = free_port(), free_port()
        args = ("demo", "--port", str(port), "--page-port", str(page_port))
        with goftogu_process(*args, env=env, cwd=tmp_path, name=f"demo-{run}") as demo:
            demo.base_url = f"http://127.0.0.1:{port}"
            accounts = _accounts(demo.log_path)
            wait_until_healthy(demo)
            page = httpx.get(f"http://127.0.0.1:{page_port}/")
            assert page.status_code == 200
            assert f'src="{demo.base_url}/widget.js"' in page.text
            widget = httpx.get(f"{demo.base_url}/widget/")
            policy = widget.headers.get("content-security-policy", "")
            assert f"http://127.0.0.1:{page_port}" in policy
            login = httpx.post(
                f"{demo.base_url}/api/v1/auth/login",
                json={"login": "demo-sara", "password": accounts["demo-sara"]},
            )
            assert login.status_code == 200, login.text
            assert login.json()["user"]["role"] == "operator"
            assert login.json()["user"]["display_name"] == "Sara"
            if passwords:  # the second run: same accounts, the old password is gone
                old = httpx.post(
                    f"{demo.base_url}/api/v1/auth/login",
                    json={"login": "demo-sara", "password": passwords[0]["demo-sara"]},
                )
                assert old.status_code == 401
            passwords.append(accounts)
    assert set(passwords[0]) == set(passwords[1]) == {"demo-admin", "demo-sara", "demo-omid"}


def test_demo_refuses_production(tmp_path: Path) -> None:
    env = {"GOFTOGU_ENV": "production", "GOFTOGU_SECRET_KEY": "x" * 40}
    result = run_goftogu("demo", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "production" in result.stderr

"""The `goftogu` command as an operator runs it."""

import os
import subprocess
import sys
from pathlib import Path


def run_goftogu(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goftogu", *args],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_in_production_without_a_secret_exits_naming_the_setting(tmp_path: Path) -> None:
    result = run_goftogu("serve", env={"GOFTOGU_ENV": "production"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "GOFTOGU_SECRET_KEY" in result.stderr


def test_an_invalid_setting_is_named(tmp_path: Path) -> None:
    result = run_goftogu("migrate", env={"GOFTOGU_PORT": "not-a-port"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "GOFTOGU_PORT" in result.stderr


def test_migrate_creates_the_embedded_database_and_is_idempotent(tmp_path: Path) -> None:
    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data")}
    first = run_goftogu("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "migrated from empty" in first.stdout
    assert (tmp_path / "data" / "goftogu.db").exists()
    second = run_goftogu("migrate", env=env, cwd=tmp_path)
    assert "already at revision" in second.stdout


def test_every_command_explains_itself_and_its_settings(tmp_path: Path) -> None:
    for command in ("serve", "migrate", "create-admin", "worker", "notifier"):
        result = run_goftogu(command, "--help", env={}, cwd=tmp_path)
        assert result.returncode == 0
        assert "GOFTOGU_" in result.stdout


def test_the_worker_names_the_settings_routing_reads(tmp_path: Path) -> None:
    result = run_goftogu("worker", "--help", env={"COLUMNS": "200"}, cwd=tmp_path)
    for setting in (
        "GOFTOGU_BROKER_URL",
        "GOFTOGU_MONGODB_URL",
        "GOFTOGU_REDIS_URL",
        "GOFTOGU_OPERATOR_CAPACITY",
        "GOFTOGU_SUPPORT_SWEEP_SECONDS",
    ):
        assert setting in result.stdout


def test_create_admin_makes_an_admin_who_can_sign_in(tmp_path: Path) -> None:
    import httpx

    from tests.e2e.servers import gateway_process

    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data")}
    assert run_goftogu("migrate", env=env, cwd=tmp_path).returncode == 0
    created = run_goftogu(
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "a strong admin passphrase",
        env=env,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    assert "admin root created" in created.stdout
    again = run_goftogu(
        "create-admin",
        "--username",
        "ROOT",
        "--email",
        "r2@example.com",
        "--password",
        "a strong admin passphrase",
        env=env,
        cwd=tmp_path,
    )
    assert again.returncode == 1
    assert "username_taken" in again.stderr
    with gateway_process(env=env, cwd=tmp_path) as gateway:
        response = httpx.post(
            f"{gateway.base_url}/api/v1/auth/login",
            json={"login": "root", "password": "a strong admin passphrase"},
        )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"


def test_create_admin_refuses_a_weak_password(tmp_path: Path) -> None:
    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data")}
    run_goftogu("migrate", env=env, cwd=tmp_path)
    result = run_goftogu(
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "password",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "weak_password" in result.stderr


def test_create_admin_refuses_a_password_the_terminal_could_not_decode(tmp_path: Path) -> None:
    # An undecodable byte in argv reaches Python as a lone surrogate (surrogateescape).
    env = {"GOFTOGU_DATA_DIR": str(tmp_path / "data")}
    run_goftogu("migrate", env=env, cwd=tmp_path)
    result = run_goftogu(
        "create-admin",
        "--username",
        "root",
        "--email",
        "root@example.com",
        "--password",
        "correct horse \udcff battery",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "password" in result.stderr
    assert "U+DCFF" in result.stderr
    assert "Traceback" not in result.stderr

"""Fixtures every test shares: a clean database per test on SQLite and on
PostgreSQL, the URLs of the real services, and a running gateway.

Service URLs come from ``GOFTOGU_TEST_*_URL`` (``make test`` sets them from
``scripts/services env``). Without one, a test that needs that service is
skipped locally and fails in CI (``CI=true``): nothing is skipped silently.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from goftogu.gateway import Gateway, create_gateway
from goftogu.settings import Settings
from goftogu.storage.database import Database, create_engine
from goftogu.storage.schema import upgrade_to_head
from goftogu.tables import metadata
from tests.helpers.figures import FIGURES

SERVICES = {
    "postgres": "GOFTOGU_TEST_DATABASE_URL",
    "redis": "GOFTOGU_TEST_REDIS_URL",
    "rabbitmq": "GOFTOGU_TEST_BROKER_URL",
    "mongodb": "GOFTOGU_TEST_MONGODB_URL",
}
SERVICE_FIXTURES = {
    "postgres_url": "postgres",
    "redis_url": "redis",
    "broker_url": "rabbitmq",
    "mongodb_url": "mongodb",
}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DATABASE = "goftogu_test"
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    # Tests choose their backends explicitly; a developer's GOFTOGU_* must not leak in.
    for key in list(os.environ):
        if key.startswith("GOFTOGU_") and not key.startswith("GOFTOGU_TEST_"):
            del os.environ[key]


def service_url(name: str) -> str:
    """The URL of a real service, or skip (locally) / fail (in CI) without it."""
    url = os.environ.get(SERVICES[name])
    if not url:
        message = f"{name} is not configured: set {SERVICES[name]} (`make test` does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


# --- markers and the per-service report ---------------------------------------

# (service, outcome) -> number of tests, for the summary and the CI check.
_OUTCOMES: Counter[tuple[str, str]] = Counter()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, service in SERVICE_FIXTURES.items():
            if fixture in names:
                item.add_marker(getattr(pytest.mark, service))
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if backend == "sqlite" or (backend is None and "database_url" in names):
            item.add_marker(pytest.mark.sqlite)
        if backend == "postgres":
            item.add_marker(pytest.mark.postgres)


def _services_of(item_keywords: Any) -> list[str]:
    return [name for name in (*SERVICES, "sqlite") if name in item_keywords]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and not report.passed):
        for service in _services_of(report.keywords):
            _OUTCOMES[(service, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for name, line in FIGURES.items():
            terminalreporter.write_line(f"{name}: {line}")
    terminalreporter.section("tests per backend service")
    for service in (*SERVICES, "sqlite"):
        counts = {o: _OUTCOMES[(service, o)] for o in ("passed", "failed", "skipped")}
        terminalreporter.write_line(
            f"{service:>9}: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['skipped']} skipped"
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, every real service must have had tests run, and none skipped."""
    if not IN_CI or session.config.option.collectonly or exitstatus != 0:
        return
    if session.config.getoption("keyword") or session.config.getoption("markexpr"):
        return  # a deliberate subset
    missing = [s for s in SERVICES if _OUTCOMES[(s, "passed")] == 0]
    skipped = [s for s in SERVICES if _OUTCOMES[(s, "skipped")]]
    if missing or skipped:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"CI requires every service: none passed for {missing}, skipped for {skipped}",
                red=True,
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- databases -----------------------------------------------------------------


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running loop.

    Fixtures of wider scope than a test's event loop use it for their set-up.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


async def _recreate_postgres_database(server_url: str, name: str) -> str:
    import asyncpg

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL database made for this test run, migrated to head."""
    name = f"{TEST_DATABASE}_{os.getpid()}"
    url = run_blocking(_recreate_postgres_database(service_url("postgres"), name))
    run_blocking(_migrate(url))
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_blocking(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def truncate_all(url: str) -> None:
    """Empty every table of the schema (not the migration bookkeeping)."""
    tables = [table.name for table in metadata.sorted_tables]
    if not tables:
        return
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A clean, migrated database: a fresh SQLite file, or the emptied PostgreSQL one."""
    if request.param == "sqlite":
        path = tmp_path / "goftogu.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    run_blocking(truncate_all(url))
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.close()


# --- other services --------------------------------------------------------------


# Service fixtures are sync (set-up through run_blocking) so that async fixtures
# may also ask for them with request.getfixturevalue.


async def _flush_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def redis_url() -> str:
    """The test Redis, emptied before the test."""
    url = service_url("redis")
    run_blocking(_flush_redis(url))
    return url


@pytest.fixture
def broker_url() -> str:
    return service_url("rabbitmq")


async def _drop_mongo_database(url: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    await client.drop_database(name)
    await client.close()


@pytest.fixture
def mongodb_url() -> Iterator[str]:
    """A MongoDB URL naming a database of this test's own, dropped afterwards."""
    from pymongo import uri_parser

    base = service_url("mongodb")
    name = f"goftogu_test_{uuid.uuid4().hex[:12]}"
    host, port = uri_parser.parse_uri(base)["nodelist"][0]
    url = f"mongodb://{host}:{port}/{name}"
    yield url
    run_blocking(_drop_mongo_database(url, name))


# --- the gateway -----------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a gateway on the test database and embedded everything else."""
    return make_settings(database_url, tmp_path)


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "data_dir": data_dir,
        "auto_migrate": False,
        "log_format": "text",
        # Generous limits: the rate-limit tests set their own small ones.
        "rate_login_per_ip": "10000/60",
        "rate_login_per_account": "10000/60",
        "rate_register_per_ip": "10000/60",
        "rate_visitor_per_ip": "10000/60",
        # Cheap hashing: tests sign many users up; the hashing tests build their own.
        "password_hash_memory_kib": 1024,
        "password_hash_time_cost": 1,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    """A gateway with its lifespan started (backends connected)."""
    gw = create_gateway(settings)
    async with gw.api.router.lifespan_context(gw.api):
        yield gw


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http

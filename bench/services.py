"""The shared local services (scripts/services) as the benchmarks use them."""

from __future__ import annotations

import argparse
import os
import subprocess

from bench.harness import ROOT

BENCH_REDIS_DB = os.environ.get("GOFTOGU_BENCH_REDIS_DB", "5")
# Every database a benchmark makes (PostgreSQL and FerretDB) is named
# <namespace>_<scenario>; another namespace (the test suite's smoke runs use one
# of their own) never touches the figures' databases.
NAMESPACE = os.environ.get("GOFTOGU_BENCH_NAMESPACE", "goftogu_bench")
if not NAMESPACE.startswith("goftogu_bench"):
    raise SystemExit(f"GOFTOGU_BENCH_NAMESPACE must start with goftogu_bench: {NAMESPACE!r}")
BENCH_DATABASE = os.environ.get("GOFTOGU_BENCH_DATABASE", f"{NAMESPACE}_realtime")


def database_name(scenario: str) -> str:
    """The PostgreSQL (or FerretDB) database of one scenario: ``<namespace>_<scenario>``."""
    return f"{NAMESPACE}_{scenario}"


def service_urls() -> dict[str, str]:
    """GOFTOGU_*_URL of scripts/services (what `scripts/services env` prints)."""
    printed = subprocess.run(
        [str(ROOT / "scripts" / "services"), "env"], capture_output=True, text=True, check=True
    ).stdout
    urls = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {k: v for k, v in urls.items() if v}


def with_path(url: str, path: str) -> str:
    """``url`` with its last path segment (database name or Redis db index) replaced."""
    return url.rstrip("/").rsplit("/", 1)[0] + "/" + path


def fill_defaults(args: argparse.Namespace) -> None:
    """Redis: db GOFTOGU_BENCH_REDIS_DB (5) of the services' Redis; PostgreSQL: a
    database of these benchmarks' own (GOFTOGU_BENCH_DATABASE, <namespace>_realtime;
    <namespace> itself belongs to the history benchmark, which seeds it once). The
    services' URLs are those of ``scripts/services env``, whatever the caller exported."""
    urls = service_urls()
    if getattr(args, "redis_url", None) is None and "GOFTOGU_REDIS_URL" in urls:
        args.redis_url = with_path(urls["GOFTOGU_REDIS_URL"], BENCH_REDIS_DB)
    if getattr(args, "database_url", None) is None and "GOFTOGU_DATABASE_URL" in urls:
        args.database_url = with_path(urls["GOFTOGU_DATABASE_URL"], BENCH_DATABASE)
    if getattr(args, "mongodb_url", None) is None and "GOFTOGU_MONGODB_URL" in urls:
        args.mongodb_url = with_path(urls["GOFTOGU_MONGODB_URL"], BENCH_DATABASE)
    if getattr(args, "broker_url", None) is None and "GOFTOGU_BROKER_URL" in urls:
        args.broker_url = urls["GOFTOGU_BROKER_URL"]

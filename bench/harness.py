"""What every benchmark command shares: processes, clocks, CPU and memory
sampling, statistics, the printed table, the JSON and the PNG plot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
WORKDIR = RESULTS / "workdir"
NODE = shutil.which("node") or "node"
PYTHON = sys.executable


def environment(settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every process a benchmark starts (servers, workers, the
    migrations, the Node generators): the caller's without any ``GOFTOGU_*``
    variable, plus ``settings``. Nothing the caller exported (``scripts/services
    env``, say) reaches one process and not another: the gateway and the worker of
    a run read the same stores because they were given the same settings, and only
    those. ``PYTHONPATH`` names the project, as processes run outside it (see
    ``WORKDIR``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOFTOGU_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    env.update(settings or {})
    return env


def workdir() -> Path:
    """Where benchmark processes run: not the project root, whose ``.env`` (read by
    goftogu's settings from the working directory) would configure them behind the
    benchmark's back."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    return WORKDIR


def run_command(argv: Sequence[str], settings: Mapping[str, str], log_path: Path) -> None:
    """Run a set-up command (``goftogu migrate``, ``create-admin``...) to its end in
    the benchmark's environment, its output in ``log_path``; fail with that output."""
    with log_path.open("wb") as log:
        done = subprocess.run(
            list(argv),
            cwd=workdir(),
            env=environment(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if done.returncode:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{tail}")


def monotonic_us() -> int:
    """CLOCK_MONOTONIC in microseconds: the clock of Node's process.hrtime too."""
    return time.monotonic_ns() // 1000


async def start_generator(
    script: Path, config_path: Path, log_path: Path
) -> asyncio.subprocess.Process:
    """A Node load generator: ``script`` with its JSON config, talking JSON lines on
    stdin/stdout, its stderr in ``log_path``."""
    with log_path.open("wb") as err:
        return await asyncio.create_subprocess_exec(
            NODE,
            str(script),
            str(config_path),
            cwd=BENCH,
            env=environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )


async def stop_generator(proc: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    """Let a load generator exit by itself, and kill it if it does not: a run
    that failed half way never leaves one behind."""
    if proc.returncode is not None:
        return
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_node_modules() -> None:
    """`npm ci` in bench/ once (the pinned socket.io and socket.io-client)."""
    marker = BENCH / "node_modules" / ".installed"
    lock = BENCH / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH, check=True
    )
    marker.touch()


def results_dir(name: str) -> Path:
    path = RESULTS / name
    (path / "raw").mkdir(parents=True, exist_ok=True)
    (path / "logs").mkdir(parents=True, exist_ok=True)
    return path


# --- processes ---------------------------------------------------------------------


@dataclass
class Server:
    """A server process of a benchmark, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def spawn(
    name: str, argv: Sequence[str], *, log_dir: Path, env: Mapping[str, str] | None = None
) -> Server:
    """Start ``argv`` in the benchmark's environment (``environment(env)``: the
    caller's own ``GOFTOGU_*`` never merged back in), its output in
    ``<log_dir>/<name>.log``; without waiting for anything (see ``start_server``)."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log_file:
        popen = subprocess.Popen(
            list(argv),
            cwd=workdir(),
            env=environment(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Server(name, popen, 0, log_path)


def start_server(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str | None = None,
    timeout: float = 60,
) -> Server:
    """Start ``argv`` (as ``spawn`` does) and return once 127.0.0.1:``port`` accepts
    connections (and answers 200 at ``ready_path`` when given)."""
    server = spawn(name, argv, log_dir=log_dir, env=env)
    server.port = port
    popen = server.popen
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{server.log_tail()}")
        if _answers(port, ready_path):
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not start within {timeout} s:\n{server.log_tail()}")


def _answers(port: int, path: str | None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            if path is None:
                return True
            conn.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            return conn.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


# --- CPU and memory ------------------------------------------------------------------


@dataclass
class Sample:
    at_us: int
    cpu_seconds: dict[str, float]
    rss_bytes: dict[str, int]


@dataclass
class ProcessSampler:
    """Samples CPU time and RSS of named groups of processes (each pid with its
    children) every ``interval`` seconds, from /proc through psutil."""

    groups: dict[str, list[int]]
    interval: float = 0.25
    samples: list[Sample] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def _read(self) -> Sample:
        cpu: dict[str, float] = {}
        rss: dict[str, int] = {}
        for name, pids in self.groups.items():
            total_cpu, total_rss = 0.0, 0
            for pid in pids:
                try:
                    root = psutil.Process(pid)
                    for proc in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            times = proc.cpu_times()
                            total_cpu += times.user + times.system
                            total_rss += proc.memory_info().rss
                except psutil.Error:
                    continue
            cpu[name], rss[name] = total_cpu, total_rss
        return Sample(monotonic_us(), cpu, rss)

    async def _loop(self) -> None:
        while True:
            self.samples.append(self._read())
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.samples.append(self._read())

    def cpu_percent(self, name: str, start_us: int, end_us: int) -> float | None:
        """Average CPU of group ``name`` between two instants (100 = one core)."""
        inside = [s for s in self.samples if start_us <= s.at_us <= end_us]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        wall = (last.at_us - first.at_us) / 1e6
        return 100 * (last.cpu_seconds[name] - first.cpu_seconds[name]) / wall if wall else None

    def series(self, name: str, origin_us: int) -> tuple[list[float], list[float]]:
        """(seconds since origin, CPU % over each interval) for a plot."""
        times, cpu = [], []
        for before, after in zip(self.samples, self.samples[1:], strict=False):
            wall = (after.at_us - before.at_us) / 1e6
            if wall > 0:
                times.append((after.at_us - origin_us) / 1e6)
                cpu.append(100 * (after.cpu_seconds[name] - before.cpu_seconds[name]) / wall)
        return times, cpu


def cpu_idle_wait(pid: int, below_percent: float = 15, timeout: float = 30) -> float:
    """Wait until ``pid`` uses less than ``below_percent`` of a core over 0.5 s
    (a backlog left by an overloaded run is gone); returns the seconds waited."""
    started = time.monotonic()
    try:
        proc = psutil.Process(pid)
        while time.monotonic() - started < timeout:
            if proc.cpu_percent(interval=0.5) < below_percent:
                break
    except psutil.Error:
        pass
    return time.monotonic() - started


# --- statistics ---------------------------------------------------------------------


def latency_summary(latencies_us: np.ndarray[Any, Any]) -> dict[str, float | int | None]:
    """Count and p50/p90/p99/p999/max in milliseconds."""
    if latencies_us.size == 0:
        return {
            "count": 0,
            "p50_ms": None,
            "p90_ms": None,
            "p99_ms": None,
            "p999_ms": None,
            "max_ms": None,
            "mean_ms": None,
        }
    q = np.percentile(latencies_us, [50, 90, 99, 99.9]) / 1000
    return {
        "count": int(latencies_us.size),
        "p50_ms": round(float(q[0]), 3),
        "p90_ms": round(float(q[1]), 3),
        "p99_ms": round(float(q[2]), 3),
        "p999_ms": round(float(q[3]), 3),
        "max_ms": round(float(latencies_us.max()) / 1000, 3),
        "mean_ms": round(float(latencies_us.mean()) / 1000, 3),
    }


def rate_series(
    at_us: np.ndarray[Any, Any], origin_us: int, end_us: int, bin_seconds: float = 0.5
) -> tuple[list[float], list[float]]:
    """Events per second in bins from ``origin_us`` to ``end_us``."""
    if end_us <= origin_us:
        return [], []
    edges = np.arange(origin_us, end_us + 1, bin_seconds * 1e6)
    if edges.size < 2:
        return [], []
    counts, _ = np.histogram(at_us, bins=edges)
    return [float((e - origin_us) / 1e6) for e in edges[1:]], [
        float(c / bin_seconds) for c in counts
    ]


def load_pairs(path: Path) -> np.ndarray[Any, Any]:
    """A raw samples file of (a, b) float64 pairs as an (n, 2) array."""
    if not path.exists():
        return np.zeros((0, 2))
    return np.fromfile(path, dtype="<f8").reshape(-1, 2)


# --- reporting ----------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """What the figures were taken on, and how busy it was."""
    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    node_version = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout
    return {
        "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model,
        "logical_cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node_version.strip(),
    }


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """A plain-text table: ``columns`` are (key, heading) pairs."""
    cells = [[heading for _, heading in columns]]
    cells += [[fmt(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def save_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def plot_runs(
    path: Path,
    title: str,
    runs: list[dict[str, Any]],
    *,
    latency_title: str = "latency distribution (CDF)",
    series_title: str = "throughput over time",
) -> None:
    """One PNG: latency distribution (CDF, log scale) and throughput over time,
    one curve per run; each run gives ``label``, ``latencies_ms`` and
    ``throughput`` (seconds, per second)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 5.5))
    for run in runs:
        lat = np.sort(np.asarray(run["latencies_ms"], dtype=float))
        if lat.size:
            # thin the CDF to at most 2,000 points, keeping the tail
            idx = np.unique(
                np.concatenate(
                    [
                        np.linspace(0, lat.size - 1, 2000).astype(int),
                        np.arange(max(0, lat.size - 200), lat.size),
                    ]
                )
            )
            left.plot(lat[idx], (idx + 1) / lat.size, label=run["label"])
        times, rates = run["throughput"]
        right.plot(times, rates, label=run["label"])
    left.set_xscale("log")
    left.set_xlabel("latency (ms, log scale)")
    left.set_ylabel("fraction of deliveries")
    left.set_title(latency_title)
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=7)
    right.set_xlabel(runs[0].get("time_unit", "seconds since the start of sending") if runs else "")
    right.set_ylabel(runs[0].get("rate_unit", "per second") if runs else "per second")
    right.set_title(series_title)
    right.grid(True, alpha=0.3)
    right.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

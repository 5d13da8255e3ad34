"""Real goftogu processes for end-to-end tests: started, awaited, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

JS_DIR = Path(__file__).parent / "js"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    base_url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            self.popen.wait(timeout=20)


@contextmanager
def goftogu_process(
    *args: str, env: Mapping[str, str], cwd: Path, name: str = "goftogu"
) -> Iterator[Process]:
    """Run ``python -m goftogu *args``; stopped (SIGTERM, then SIGKILL) on exit."""
    log_path = cwd / f"{name}.log"
    with log_path.open("wb") as log_file:
        popen = subprocess.Popen(
            [sys.executable, "-m", "goftogu", *args],
            cwd=cwd,
            env={**os.environ, "GOFTOGU_LOG_FORMAT": "json", **env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    process = Process(name, popen, log_path)
    try:
        yield process
    finally:
        if popen.poll() is None:
            popen.terminate()
            try:
                popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()


@contextmanager
def gateway_process(env: Mapping[str, str], cwd: Path, name: str = "gateway") -> Iterator[Process]:
    """A gateway (``goftogu serve``) on a free port, returned once /healthz answers."""
    port = free_port()
    with goftogu_process("serve", "--port", str(port), env=env, cwd=cwd, name=name) as process:
        process.base_url = f"http://127.0.0.1:{port}"
        wait_until_healthy(process)
        yield process


def wait_until_healthy(process: Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{process.log()}")
        try:
            if httpx.get(f"{process.base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not become healthy:\n{process.log()}")

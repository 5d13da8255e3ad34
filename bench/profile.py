"""py-spy profiles of a server process, and a summary of where its time goes."""

from __future__ import annotations

import asyncio
import subprocess
from collections import Counter
from pathlib import Path

from bench.harness import PYTHON

PY_SPY = str(Path(PYTHON).parent / "py-spy")


async def record(pid: int, output: Path, *, seconds: int, rate: int = 200) -> None:
    """Sample ``pid`` for ``seconds`` into collapsed stacks (py-spy's ``raw`` format);
    ``--nonblocking`` so the server is not paused to be sampled."""
    proc = await asyncio.create_subprocess_exec(
        PY_SPY,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        str(rate),
        "--nonblocking",
        "--format",
        "raw",
        "--output",
        str(output),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        print(f"py-spy failed ({proc.returncode}): {err.decode(errors='replace')[-500:]}")


def _frames(stack: str) -> list[str]:
    # "thread;frame (file:line);frame (file:line)": keep "function (module)" without the line
    frames = []
    for frame in stack.split(";")[1:]:
        name, _, where = frame.partition(" (")
        path = where.rsplit(":", 1)[0]
        module = path.split("site-packages/")[-1].split("/src/")[-1]
        frames.append(f"{name} ({module})")
    return frames


def summarise(collapsed: Path, top: int = 25) -> str:
    """Top functions by own time and by inclusive time, and time per package."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
        module = frames[-1].rsplit("(", 1)[-1].rstrip(")")
        packages[module.split("/")[0]] += count
    if not total:
        return "no samples\n"
    lines = [f"{total} samples (idle time in the event loop's select shows as epoll/select)"]
    lines.append("\nown time, by package of the innermost frame:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in packages.most_common(12)]
    lines.append("\nown time, by function:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines.append("\ninclusive time, by function:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    return "\n".join(lines) + "\n"

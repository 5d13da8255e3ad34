"""`goftogu worker` and `goftogu notifier` as real processes."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from goftogu.notifications.jobs import NOTIFY
from goftogu.queueing.outbox import add_to_outbox
from goftogu.queueing.rabbitmq import RabbitQueue
from goftogu.storage.database import Database
from tests.e2e.servers import goftogu_process
from tests.e2e.test_cli import run_goftogu
from tests.helpers.queues import delete_queues, outbox_writer
from tests.helpers.waiting import eventually


@pytest.mark.parametrize("command", ["worker", "notifier"])
def test_a_queue_process_without_a_broker_exits_naming_the_setting(
    command: str, tmp_path: Path
) -> None:
    result = run_goftogu(command, env={"GOFTOGU_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 2
    assert "GOFTOGU_BROKER_URL" in result.stderr


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_worker_relays_the_outbox_and_stops_cleanly_on_sigterm(
    database: Database, database_url: str, broker_url: str, tmp_path: Path
) -> None:
    prefix = f"test-{time.monotonic_ns()}."
    env = {
        "GOFTOGU_DATABASE_URL": database_url,
        "GOFTOGU_BROKER_URL": broker_url,
        "GOFTOGU_QUEUE_PREFIX": prefix,
        "GOFTOGU_OUTBOX_SWEEP_SECONDS": "0.2",
    }
    queue = RabbitQueue(broker_url, prefix=prefix)
    try:
        with goftogu_process("worker", env=env, cwd=tmp_path, name="worker") as worker:
            await eventually(lambda: "worker running" in worker.log(), timeout=60)
            async with outbox_writer(database).transaction() as work:
                await add_to_outbox(work, NOTIFY, {"type": "ticket"}, message_id="w-1")
            await eventually(lambda: _depth(queue, NOTIFY, 1), timeout=60)

            worker.kill(signal.SIGTERM)
            assert worker.popen.returncode == 0
            assert "worker stopped" in worker.log()
    finally:
        await queue.close()
        await delete_queues(broker_url, [prefix + NOTIFY])


async def _depth(queue: RabbitQueue, name: str, expected: int) -> bool:
    return await queue.depth(name) == expected

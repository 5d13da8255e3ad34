"""A consumer process for the SIGKILL test: takes one message and hangs in its handler.

    python -m tests.integration.queue_worker_process <broker_url> <prefix> <queue>

Prints ``started <message_id>`` once its handler holds a message, then waits
to be killed.
"""

from __future__ import annotations

import asyncio
import sys

from goftogu.queueing import Delivery
from goftogu.queueing.rabbitmq import RabbitQueue


async def main(url: str, prefix: str, queue_name: str) -> None:
    queue = RabbitQueue(url, prefix=prefix)

    async def hang(delivery: Delivery) -> None:
        sys.stdout.write(f"started {delivery.message_id}\n")
        sys.stdout.flush()
        await asyncio.Event().wait()

    await queue.consume(queue_name, hang, prefetch=1)
    sys.stdout.write("consuming\n")
    sys.stdout.flush()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

"""The real ``goftogu`` command, on a Redis fan-out channel of the benchmark's own.

    python -m bench.peers.goftogu_cli <channel> serve --port 8123
    python -m bench.peers.goftogu_cli <channel> worker

Redis pub/sub channels are shared by every database index of a Redis server, so
a benchmark gateway on the shared development Redis would otherwise exchange its
fan-out traffic with every other goftogu process there (other checkouts' tests).
Everything else is ``goftogu.cli.main`` unchanged.
"""

from __future__ import annotations

import sys

import goftogu.realtime.broadcast
import goftogu.realtime.server
from goftogu.cli import main

if __name__ == "__main__":
    channel = sys.argv.pop(1)
    goftogu.realtime.broadcast.FANOUT_CHANNEL = channel
    goftogu.realtime.server.FANOUT_CHANNEL = channel
    sys.argv[0] = "goftogu"
    main()

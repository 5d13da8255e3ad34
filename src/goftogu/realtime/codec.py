"""JSON for Socket.IO and Engine.IO packets: orjson, with the standard library's
output as a fallback for what orjson does not take.

Measured (README, Performance): python-engineio's ``json.loads`` builds a new
``JSONDecoder`` on every call (to cap integer length), about a tenth of the
server's time at the fan-out's maximum; orjson decodes and encodes several
times faster. What orjson refuses to read (lone surrogates, which JavaScript
strings may hold; NaN) is read by python-engineio's own ``loads``, as the stock
transport reads it. orjson reads an integer too long for 64 bits as a float
(no quadratic ``int`` parse, so the cap is not needed) and writes UTF-8 rather
than ``\\u`` escapes: the same JSON values for every client.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from engineio import json as engineio_json
from socketio import packet

_OPTIONS = orjson.OPT_NON_STR_KEYS


class Json:
    """The ``dumps``/``loads`` pair python-socketio and python-engineio accept."""

    @staticmethod
    def dumps(obj: Any, **_options: Any) -> str:
        try:
            return orjson.dumps(obj, option=_OPTIONS).decode()
        except TypeError:  # integers beyond 64 bits, subclasses orjson refuses
            return json.dumps(obj, separators=(",", ":"))

    @staticmethod
    def loads(data: str | bytes, **_options: Any) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # What orjson refuses and the standard library reads: lone surrogates
            # (``"\\ud800"``, which JavaScript strings may hold), NaN and Infinity.
            # python-engineio's own loads, with its cap on integer length.
            return engineio_json.loads(data)


class Packet(packet.Packet):  # type: ignore[misc]
    """python-socketio's packet with orjson (a class of its own: the default packet
    class, which python-socketio's clients share, is left as it is)."""

    json = Json

"""Bounds of the numbers that come in.

Every integer a client sends (query parameters, body fields, socket payloads)
is at most ``MAX_INT``: the largest integer a JSON number keeps exactly in a
browser (2**53 - 1), well inside the 64-bit columns that store them, so an
out-of-range number is a ``validation_error``, never an overflow in a store.
"""

from __future__ import annotations

MAX_INT = 2**53 - 1

"""The built web app (operator console, customer widget), shipped inside the package.

``dist/`` is written by ``npm run build`` in ``web/`` (``make run`` does it when
the sources changed) and included in the wheel and sdist as package data, so an
installed goftogu serves its UI without Node. ``goftogu.api.webapp`` serves it.
"""

from __future__ import annotations

from pathlib import Path

PACKAGED_DIST = Path(__file__).parent / "dist"

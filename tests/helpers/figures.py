"""Figures a test wants in the CI log (the fuzzers': operations, requests,
failures): printed in the terminal summary, "figures" section, pass or fail."""

from __future__ import annotations

FIGURES: dict[str, str] = {}


def report(name: str, line: str) -> None:
    FIGURES[name] = line

"""Helpers shared by tests: API clients that sign in, users made in one call."""

"""goftogu (گفتگو): live conversations, a support desk and direct/group messaging."""

__version__ = "0.1.0"

"""Presence: who is online, away or offline (M6, P4), and operators' availability."""

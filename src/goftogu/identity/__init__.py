"""Identity: users, roles, passwords, sessions and tokens (requirements P1, M6)."""

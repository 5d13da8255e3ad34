"""Messaging (document 004): single chats, groups, messages, receipts, reactions,
pins, attachments and per-user conversation settings."""

"""Webhooks for integrators (issue 18, item 11).

Admins subscribe an HTTPS (or HTTP) endpoint to event types; every support
activity the desk announces (``goftogu.support.events.ChatActivity``) is
recorded, after its write, as one delivery per matching subscription with a
``webhooks.deliver`` job in the relational outbox (one transaction). The
notifier consumes the ``webhooks`` queue: it claims the delivery (a lease, as
the notification ledger does), POSTs the signed body, records the outcome, and
asks the queue for a retry with exponential backoff on failure. See the
README's "Webhooks" API notes for the wire contract.
"""

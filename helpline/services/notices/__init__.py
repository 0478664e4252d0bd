"""Notices: the in-app notice centre and its delivery by e-mail, SMS and extensions' channels.

- :func:`notify` — write notices (and their outbox rows) in the caller's transaction; what the workflow
  engine's listener and the service-level timer call, and what any service may call.
- :mod:`.centre` — counting, listing and marking notices; :func:`on_new` for live pushes.
- :mod:`.outbox` — the ``notice_delivery`` job: claims due rows, sends them, retries with back-off.
- :mod:`.senders` — SMTP, the SMS gateway, extensions' ``NOTIFICATION_SENDERS``.

See docs/notifications.md.
"""

from .centre import configure, install, mark_read, notices, notify, on_new, unread_count

__all__ = ["configure", "install", "mark_read", "notices", "notify", "on_new", "unread_count"]

"""Channel backends: one small interface, one module per kind of sender.

A backend's `send(*, shop, recipient, text, message, credentials)` delivers one message and returns
the provider's message id, or raises `ChannelError` with a short reason (the caller's send is then
"failed" and retried by the caller). Backends never touch the database: the service reads the
recipient and the credentials before and records the outcome after, outside any transaction.
"""

from dataclasses import dataclass


class ChannelError(Exception):
    """The provider refused or could not be reached; `reason` goes into the message log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:200]


@dataclass(frozen=True)
class Recipient:
    """Where one customer is reached on one channel: `address` (phone, email, external_userid,
    openid) and, for WeCom, the staff account (`sender`) that holds the customer as a friend."""

    address: str
    sender: str = ""

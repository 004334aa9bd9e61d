"""Identifiers that are safe to show: random, unguessable, URL-friendly."""

import secrets

_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/1/i/l/o: easy to read aloud and type


def public_id(length: int = 12) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def share_code() -> str:
    return public_id(8)

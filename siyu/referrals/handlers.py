"""Reactions to order events (subscriptions are registered when this module is imported)."""

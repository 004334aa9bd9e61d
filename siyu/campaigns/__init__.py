"""Reaching customers: channels, campaigns, journeys and webhooks (one Django app per part)."""

"""Outbound webhooks to government systems: signed events from an outbox, retried for 24 h."""

"""Transactional email: outbox rows written with the state change, sent by the worker over SMTP."""

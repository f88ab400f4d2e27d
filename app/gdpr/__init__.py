"""GDPR: the client's data export and erasure."""

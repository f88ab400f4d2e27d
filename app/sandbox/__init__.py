"""Loopback fakes of the outside world (SMM provider; later Stripe and Lexware Office), for tests and the demo."""

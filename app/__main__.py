"""``python -m app`` is the ``smplat`` command."""

from app.cli import main

main()

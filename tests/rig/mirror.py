"""The partial Debian mirror that tests/rig/image.py builds with the test image, served over
HTTP to the rig's engines: their containers cannot reach the internet, but they reach the host
at their bridge's gateway, so ``/images prepare`` installs openssh-server with apt from here,
signatures checked, as it would from deb.debian.org through the config's ``apt_mirror``."""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


class Mirror:
    """start() serves a directory on an address (a free port); stop() ends it, safe twice."""

    def __init__(self) -> None:
        self.served: list[tuple[str, int]] = []  # (path, status) of every request, in order
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the rig's package mirror is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, root: Path, address: str) -> None:
        handler = functools.partial(_Handler, self.served, directory=str(root))
        self._server = _Server((address, 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="rig-mirror",
                                        daemon=True)
        self._thread.start()
        logger.info("package mirror %s serving %s", self.url, root)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(Exception):
                server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up early (apt, urlopen) is no fault of the mirror's.
        logger.debug("mirror: %s hung up", client_address)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, served: list[tuple[str, int]], *args: Any, **kwargs: Any) -> None:
        self.served = served
        super().__init__(*args, **kwargs)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.served.append((self.path, int(code) if str(code).isdigit() else 0))
        logger.debug("mirror: %s %s", code, self.path)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("mirror: %s", format % args)

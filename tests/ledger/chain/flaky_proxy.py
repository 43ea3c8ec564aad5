"""A JSON-RPC proxy that misbehaves on a schedule, for testing retries against a real node.

``FlakyProxy(upstream)`` listens on 127.0.0.1 (a free port), forwards every request to
``upstream`` and, when a fault is scheduled for the request's method, applies it instead:

- ``DROP``: close the connection without answering (the client sees a reset / disconnect);
- ``HTTP_502``: answer ``502 Bad Gateway`` without forwarding;
- ``DELAY``: wait ``delay`` seconds, then forward (the client may time out first);
- ``RPC_ERROR``: answer a JSON-RPC error (``code``, ``message``) without forwarding;
- ``LOSE_REPLY``: forward, then close the connection without passing the reply back (the
  node did the work; the client thinks it failed).

Faults are queued per method (``None`` matches any method) and used up in order::

    with FlakyProxy(anvil.rpc_url) as proxy:
        proxy.inject("eth_sendRawTransaction", Fault(FaultKind.LOSE_REPLY), times=2)
        ...
        assert proxy.forwarded["eth_sendRawTransaction"] == 3
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections import Counter, deque
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class FaultKind(Enum):
    DROP = "drop"
    HTTP_502 = "http_502"
    DELAY = "delay"
    RPC_ERROR = "rpc_error"
    LOSE_REPLY = "lose_reply"


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    delay: float = 0.0
    code: int = -32000
    message: str = "server busy, try again later"


class FlakyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._faults: dict[str | None, deque[Fault]] = {}
        self.forwarded: Counter[str] = Counter()  # requests that reached the node, per method
        self.applied: list[tuple[str, FaultKind]] = []  # faults used, in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def inject(self, method: str | None, fault: Fault, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests for ``method`` (None: any method)."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def pending_faults(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._faults.values())

    def _take_fault(self, method: str) -> Fault | None:
        with self._lock:
            for key in (method, None):
                queue = self._faults.get(key)
                if queue:
                    fault = queue.popleft()
                    self.applied.append((method, fault.kind))
                    return fault
            return None

    def _forward(self, body: bytes, method: str) -> bytes:
        request = urllib.request.Request(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            reply: bytes = response.read()
        with self._lock:
            self.forwarded[method] += 1
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                payload = json.loads(body)
                first = payload[0] if isinstance(payload, list) else payload
                method = str(first.get("method", ""))
                fault = proxy._take_fault(method)
                kind = None if fault is None else fault.kind
                if fault is not None and kind is FaultKind.DROP:
                    self.close_connection = True
                    return
                if kind is FaultKind.HTTP_502:
                    self.close_connection = True
                    self._reply(502, b'{"message": "bad gateway"}')
                    return
                if fault is not None and kind is FaultKind.RPC_ERROR:
                    error = {"code": fault.code, "message": fault.message}
                    reply = {"jsonrpc": "2.0", "id": first.get("id"), "error": error}
                    self._reply(200, json.dumps(reply).encode())
                    return
                if fault is not None and kind is FaultKind.DELAY:
                    time.sleep(fault.delay)
                reply_body = proxy._forward(body, method)
                if kind is FaultKind.LOSE_REPLY:
                    self.close_connection = True
                    return
                try:
                    self._reply(200, reply_body)
                except (BrokenPipeError, ConnectionResetError):  # client gave up (timeout)
                    self.close_connection = True

        return Handler

    def start(self) -> FlakyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FlakyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""A lean JSON-RPC client over HTTP(S): persistent connections for reads made per request.

web3's :class:`~web3.providers.rpc.HTTPProvider` posts through ``requests``, which merges the
environment's settings (proxies, CA bundle), looks a session up and runs urllib3's connection
handling on every request: on a local node that costs more than the node's answer. The
verifier sends one batch request per verification, so it reads through this client instead
when the ledger's provider is a plain ``HTTPProvider`` whose settings it can honour::

    transport = shared_transport(ledger.w3.provider)  # None: read through the provider
    if transport is not None:
        responses = transport.make_batch_request([("eth_blockNumber", []), ...])
        response = transport.make_request("eth_chainId", [])

It speaks the provider's two methods with the provider's answers: JSON-RPC response objects
as the node sent them (``json.loads``, no result formatting); a batch answered with a list
comes back in the order of the requests (by ``id``), a batch answered with one object (a node
that takes no batches) comes back as that object.

* Connections: HTTP/1.1 keep-alive (stdlib :mod:`http.client`), kept in a small pool behind a
  lock, so that threads (the gateway's thread pool) never share one. A connection the server
  closed while it was idle is found on the next request through it: that request is sent once
  more on a new connection (the other idle connections are dropped as well).
* Settings taken from the provider (:meth:`JsonRpcTransport.from_provider`): the endpoint URL
  (credentials in it become a basic ``Authorization`` header), the request ``headers``,
  ``timeout`` (seconds, or ``(connect, read)``; web3's default when not set), ``auth`` as a
  ``(user, password)`` pair, ``verify`` and ``cert`` for HTTPS, and the environment as
  ``requests`` reads it (``REQUESTS_CA_BUNDLE``; a proxy for the node's URL), once, when the
  transport is made. Unlike the provider's ``make_request``, a failed request is not retried
  with back-off (only the one resend on a connection closed while idle). HTTPS verifies
  the node's certificate against the same CA bundle as ``requests`` (certifi's, unless
  ``verify`` or the environment names another).
* A provider it cannot stand in for is read through as before: a subclass of
  ``HTTPProvider`` (it may change requests or answers), an explicit ``requests`` session,
  request caching, a proxy, ``verify=False``, or any other request setting.

Errors (:mod:`ledger.errors`): a request that gets no JSON-RPC answer raises
:class:`~ledger.errors.RpcUnavailable` (a ``ConnectionError``): the node cannot be reached,
the connection failed or timed out, the answer has an HTTP error status or is not JSON-RPC
JSON. An error *inside* a JSON-RPC answer is an answer: it is returned for the caller to read.
A URL that is not ``http``/``https`` is a :class:`~ledger.errors.ConfigurationError`.
"""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import logging
import os
import ssl
import threading
import weakref
import zlib
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import requests
from requests.utils import DEFAULT_CA_BUNDLE_PATH, select_proxy
from web3.providers.rpc import HTTPProvider

from ledger.errors import ConfigurationError, RpcUnavailable

__all__ = ["DEFAULT_TIMEOUT", "JsonRpcTransport", "Timeout", "shared_transport"]

log = logging.getLogger("ledger.chain.jsonrpc")

DEFAULT_TIMEOUT: Final = 30.0  # seconds, web3's default for HTTP requests
MAX_IDLE: Final = 4  # idle connections kept open per endpoint
_SNIPPET: Final = 200  # characters of an unexpected answer quoted in an error

Timeout = float | tuple[float | None, float | None] | None
"""Seconds for connecting and for each read, or ``(connect, read)``; None: no limit."""

# Request settings of an HTTPProvider that this client honours (see from_provider).
_HONOURED: Final = frozenset({"headers", "timeout", "auth", "verify", "cert", "proxies", "stream"})
# What a connection the server closed while it was idle raises on the next request.
_DROPPED: Final = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)

_Connection = http.client.HTTPConnection


class JsonRpcTransport:
    """JSON-RPC over persistent HTTP(S) connections to one endpoint (see the module
    docstring). Thread-safe; :meth:`close` closes the idle connections."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        max_idle: int = MAX_IDLE,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"not an http(s) JSON-RPC endpoint: {_redacted(url)}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # for messages: no credentials, no query (it may hold an API key)
        self.where = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        if parts.username is not None and not _has(self._headers, "authorization"):
            self._headers["Authorization"] = _basic(
                unquote(parts.username), unquote(parts.password or "")
            )
        if isinstance(timeout, tuple):
            self._connect_timeout, self._read_timeout = timeout
        else:
            self._connect_timeout = self._read_timeout = timeout
        if self._https and ssl_context is None:
            ssl_context = ssl.create_default_context()
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._idle: list[_Connection] = []
        # closes the idle connections when the transport is collected or at exit
        self._finalizer = weakref.finalize(self, _close_all, self._idle, self._lock)

    def __repr__(self) -> str:
        return f"JsonRpcTransport({self.where!r})"

    # -- from a web3 provider ----------------------------------------------------------------

    @classmethod
    def from_provider(cls, provider: object) -> JsonRpcTransport | None:
        """A transport with ``provider``'s endpoint and settings, or None when ``provider`` is
        not a plain ``HTTPProvider`` or has a setting this client does not honour."""
        if type(provider) is not HTTPProvider:
            return None
        if getattr(provider, "cache_allowed_requests", False):
            return None
        manager = getattr(provider, "_request_session_manager", None)
        if getattr(manager, "_explicit_session", None) is not None:
            return None
        url = str(provider.endpoint_uri)
        kwargs: dict[str, Any] = provider.get_request_kwargs()
        if not set(kwargs) <= _HONOURED or kwargs.get("stream"):
            return None
        environment = _environment(url, kwargs)
        if environment is None:
            return None
        verify, cert = environment
        headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
        auth = kwargs.get("auth")
        if auth is not None:
            if not (isinstance(auth, tuple) and len(auth) == 2):
                return None  # a requests auth object: only requests can apply it
            headers["Authorization"] = _basic(str(auth[0]), str(auth[1]))
        try:
            timeout = _timeout(kwargs["timeout"]) if "timeout" in kwargs else DEFAULT_TIMEOUT
        except (TypeError, ValueError):
            return None
        context = None
        if urlsplit(url).scheme == "https":
            try:
                context = _ssl_context(verify, cert)
            except OSError:  # a CA bundle or client certificate that cannot be loaded
                return None  # requests reports it on the first request
        try:
            return cls(url, headers=headers, timeout=timeout, ssl_context=context)
        except ConfigurationError:
            return None

    # -- requests ------------------------------------------------------------------------

    def make_request(self, method: str, params: Any) -> dict[str, Any]:
        """One JSON-RPC request; the node's response object (``result`` or ``error``)."""
        request_id = next(self._ids)
        answer = self._post(
            {"jsonrpc": "2.0", "method": method, "params": params or [], "id": request_id}
        )
        if not isinstance(answer, dict):
            raise RpcUnavailable(
                f"{self.where} answered {method} with {_snippet(answer)}, "
                "not a JSON-RPC response object"
            )
        return answer

    def make_batch_request(
        self, requests: Sequence[tuple[str, Any]]
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """One batch request; the responses in the order of ``requests``, or the one
        response object a node answers a batch with when it refuses it."""
        if not requests:
            return []
        ids = [next(self._ids) for _ in requests]
        body = [
            {"jsonrpc": "2.0", "method": method, "params": params or [], "id": request_id}
            for request_id, (method, params) in zip(ids, requests, strict=True)
        ]
        answer = self._post(body)
        if isinstance(answer, dict):
            return answer
        if not isinstance(answer, list) or not all(isinstance(r, dict) for r in answer):
            raise RpcUnavailable(
                f"{self.where} answered a batch with {_snippet(answer)}, "
                "not JSON-RPC response objects"
            )
        by_id = {r.get("id"): r for r in answer}
        if len(by_id) == len(answer) and set(by_id) == set(ids):
            return [by_id[i] for i in ids]
        # the node's own order (some responses without their id): the caller checks the count
        log.warning("%s answered a batch without matching ids: kept in its order", self.where)
        return answer

    def close(self) -> None:
        """Close the idle connections (a later request opens a new one)."""
        _close_all(self._idle, self._lock)

    def __enter__(self) -> JsonRpcTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP ----------------------------------------------------------------------------

    def _post(self, payload: object) -> Any:
        body = json.dumps(payload, separators=(",", ":")).encode()
        conn, reused = self._acquire()
        try:
            try:
                status, reason, data, keep = self._exchange(conn, body)
            except (*_DROPPED, http.client.BadStatusLine) as exc:
                conn.close()
                if not reused:
                    raise
                # the server closed the idle connection: once more on a new one
                log.debug("%s closed an idle connection (%s): reconnecting", self.where, exc)
                self._drop_idle()
                conn = self._connect()
                status, reason, data, keep = self._exchange(conn, body)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise RpcUnavailable(
                f"JSON-RPC request to {self.where} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if keep:
            self._release(conn)
        else:
            conn.close()
        if status >= 400:
            detail = f": {_snippet(data)}" if data else ""
            raise RpcUnavailable(f"{self.where} answered HTTP {status} {reason}{detail}")
        try:
            return json.loads(data)
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise RpcUnavailable(
                f"{self.where} answered HTTP {status} with {_snippet(data)}, not JSON"
            ) from exc

    def _exchange(self, conn: _Connection, body: bytes) -> tuple[int, str, bytes, bool]:
        """Send ``body``; (status, reason, response body, whether the connection stays)."""
        conn.request("POST", self._target, body=body, headers=self._headers)
        response = conn.getresponse()
        data = response.read()
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding in ("gzip", "deflate"):
            try:
                data = zlib.decompress(data, 47)  # 32 + 15: either header, detected
            except zlib.error as exc:
                raise http.client.HTTPException(f"undecodable {encoding} body: {exc}") from exc
        elif encoding != "identity":
            raise http.client.HTTPException(f"unsupported Content-Encoding {encoding!r}")
        return response.status, response.reason, data, not response.will_close

    def _connect(self) -> _Connection:
        conn: _Connection
        if self._https:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=self._ssl_context
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
        try:
            conn.connect()
            if conn.sock is not None and self._read_timeout != self._connect_timeout:
                conn.sock.settimeout(self._read_timeout)
        except BaseException:
            conn.close()
            raise
        return conn

    def _acquire(self) -> tuple[_Connection, bool]:
        """An idle connection (reused: True) or a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        try:
            return self._connect(), False
        except (OSError, http.client.HTTPException) as exc:
            raise RpcUnavailable(
                f"cannot connect to {self.where}: {type(exc).__name__}: {exc}"
            ) from exc

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def _drop_idle(self) -> None:
        _close_all(self._idle, self._lock)


def _close_all(idle: list[_Connection], lock: threading.Lock) -> None:
    with lock:
        closing, idle[:] = list(idle), []
    for conn in closing:
        conn.close()


# ----------------------------------------------------------------------------------------------
# One transport per provider
# ----------------------------------------------------------------------------------------------

_shared: weakref.WeakKeyDictionary[object, JsonRpcTransport | None] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared_transport(provider: object) -> JsonRpcTransport | None:
    """The transport for ``provider`` (:meth:`JsonRpcTransport.from_provider`), made once per
    provider and kept while the provider lives, so that its connections outlive one request."""
    with _shared_lock:
        try:
            return _shared[provider]
        except KeyError:
            pass
        except TypeError:  # not weakly referenceable or not hashable: no sharing
            return JsonRpcTransport.from_provider(provider)
        transport = _shared[provider] = JsonRpcTransport.from_provider(provider)
        return transport


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def _environment(url: str, kwargs: Mapping[str, Any]) -> tuple[bool | str, Any] | None:
    """(verify, cert) as ``requests`` would use them for ``url``, environment included; None
    when ``requests`` would go through a proxy or not verify the node's certificate."""
    proxies = dict(kwargs.get("proxies") or {})
    with requests.Session() as session:
        settings = session.merge_environment_settings(
            url, proxies, None, kwargs.get("verify"), kwargs.get("cert")
        )
    if select_proxy(url, settings["proxies"]) is not None:
        return None
    verify = settings["verify"]
    if verify is False or not isinstance(verify, bool | str):
        return None
    return verify, settings["cert"]


def _ssl_context(verify: bool | str, cert: Any) -> ssl.SSLContext | None:
    """The TLS context ``requests`` would verify with: its CA bundle (certifi's), or the file
    or directory that ``verify`` names; ``cert``: a client certificate (file, or (certificate,
    key) files)."""
    where = verify if isinstance(verify, str) else DEFAULT_CA_BUNDLE_PATH
    if os.path.isdir(where):
        context = ssl.create_default_context(capath=where)
    else:
        context = ssl.create_default_context(cafile=where)
    if isinstance(cert, str):
        context.load_cert_chain(cert)
    elif isinstance(cert, tuple) and len(cert) == 2:
        context.load_cert_chain(cert[0], cert[1])
    return context


def _timeout(value: Any) -> Timeout:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        connect, read = value
        return (None if connect is None else float(connect), None if read is None else float(read))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a timeout: {value!r}")
    return float(value)


def _basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode("latin-1")).decode("ascii")
    return f"Basic {token}"


def _has(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _snippet(value: object) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET else text[:_SNIPPET] + "..."

"""The lean JSON-RPC transport: against the session's anvil (the answers are the provider's),
through the fault-injecting proxy in front of it, and against a scripted local HTTP(S) server
for what a node does not do on request (close idle connections, HTML error pages, gzip,
TLS, authentication)."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from web3 import Web3
from web3.providers import HTTPProvider

from ledger.chain import AnvilNode, JsonRpcTransport, Ledger, shared_transport
from ledger.errors import ConfigurationError, LedgerError, RpcUnavailable
from ledger.verify.reads import ChainReads
from tests.ledger.chain.flaky_proxy import Fault, FaultKind, FlakyProxy

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests decide what the environment holds (requests reads it, so does the transport)."""
    for name in (*PROXY_VARIABLES, "all_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def without_ids(responses: Any) -> Any:
    return [{k: v for k, v in r.items() if k != "id"} for r in responses]


# ------------------------------------------------------------------------------------------
# A scripted local server
# ------------------------------------------------------------------------------------------

Reply = Callable[[BaseHTTPRequestHandler, Any], None]


@dataclass
class Seen:
    connection: int  # the server's count of connections when the request came in
    path: str
    headers: dict[str, str]
    payload: Any


@dataclass
class ScriptedServer:
    """HTTP/1.1 keep-alive server on 127.0.0.1. Each request is answered by the next scripted
    reply, or by default with ``result: [method, params]`` for every request object."""

    tls: ssl.SSLContext | None = None
    replies: list[Reply] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections += 1
                    self.number = server.connections

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                payload = json.loads(body)
                server.seen.append(Seen(self.number, self.path, dict(self.headers), payload))
                reply = server.replies.pop(0) if server.replies else echo
                reply(self, payload)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        if self.tls is not None:
            self._http.socket = self.tls.wrap_socket(self._http.socket, server_side=True)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        port = self._http.server_address[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}/rpc"

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


def send(
    handler: BaseHTTPRequestHandler,
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def echoed(payload: Any) -> Any:
    def one(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": request["id"],
            "result": [request["method"], request["params"]],
        }

    return [one(r) for r in payload] if isinstance(payload, list) else one(payload)


def echo(handler: BaseHTTPRequestHandler, payload: Any) -> None:
    send(handler, json.dumps(echoed(payload)).encode())


def echo_then_close(handler: BaseHTTPRequestHandler, payload: Any) -> None:
    """Answer as a keep-alive connection would, then close it (an idle timeout on the server)."""
    echo(handler, payload)
    handler.close_connection = True


def close_unanswered(handler: BaseHTTPRequestHandler, payload: Any) -> None:
    handler.close_connection = True


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    try:
        yield scripted
    finally:
        scripted.stop()


@pytest.fixture
def transport(server: ScriptedServer) -> Iterator[JsonRpcTransport]:
    with JsonRpcTransport(server.url, timeout=10) as client:
        yield client


# ------------------------------------------------------------------------------------------
# Against the node
# ------------------------------------------------------------------------------------------


@pytest.fixture
def node_transport(anvil: AnvilNode) -> Iterator[JsonRpcTransport]:
    with JsonRpcTransport(anvil.rpc_url) as client:
        yield client


def test_a_batch_is_answered_as_the_provider_answers_it(
    node_transport: JsonRpcTransport, w3: Web3
) -> None:
    block = w3.eth.block_number
    batch = [
        ("eth_chainId", []),
        ("eth_getBlockByNumber", [hex(block), False]),
        ("eth_blockNumber", []),
        ("eth_getBalance", ["0x" + "00" * 20, hex(block)]),
    ]
    ours = node_transport.make_batch_request(batch)
    theirs = w3.provider.make_batch_request(batch)  # type: ignore[arg-type]
    assert isinstance(ours, list)
    assert without_ids(ours) == without_ids(theirs)
    assert ours[0]["result"] == hex(31337)
    assert ours[1]["result"]["number"] == hex(block)


def test_a_single_request_is_answered_as_the_provider_answers_it(
    node_transport: JsonRpcTransport, w3: Web3
) -> None:
    ours = node_transport.make_request("eth_getBlockByNumber", ["0x0", False])
    theirs = w3.provider.make_request("eth_getBlockByNumber", ["0x0", False])  # type: ignore[arg-type]
    assert {k: v for k, v in ours.items() if k != "id"} == {
        k: v for k, v in theirs.items() if k != "id"
    }
    assert ours["result"]["number"] == "0x0"


def test_a_node_error_is_an_answer_in_its_place(node_transport: JsonRpcTransport) -> None:
    batch = [("eth_chainId", []), ("no_such_method", []), ("eth_blockNumber", [])]
    answers = node_transport.make_batch_request(batch)
    assert isinstance(answers, list)
    assert answers[0]["result"] == hex(31337)
    assert "result" not in answers[1]
    assert answers[1]["error"]["code"] == -32601  # method not found
    assert int(answers[2]["result"], 16) >= 0
    single = node_transport.make_request("no_such_method", [])
    assert single["error"]["code"] == -32601


def test_one_connection_serves_every_request(anvil: AnvilNode) -> None:
    with FlakyProxy(anvil.rpc_url) as proxy, JsonRpcTransport(proxy.url) as client:
        for _ in range(5):
            assert client.make_request("eth_chainId", [])["result"] == hex(31337)
        assert proxy.forwarded["eth_chainId"] == 5
        assert len(client._idle) == 1


def test_a_connection_dropped_by_the_server_is_retried_once(anvil: AnvilNode) -> None:
    with FlakyProxy(anvil.rpc_url) as proxy, JsonRpcTransport(proxy.url) as client:
        assert client.make_request("eth_chainId", [])["result"] == hex(31337)
        proxy.inject("eth_blockNumber", Fault(FaultKind.DROP))
        answers = client.make_batch_request([("eth_blockNumber", []), ("eth_chainId", [])])
        assert isinstance(answers, list)
        assert answers[1]["result"] == hex(31337)
        assert proxy.applied == [("eth_blockNumber", FaultKind.DROP)]
        assert proxy.forwarded["eth_blockNumber"] == 1  # the second attempt reached the node


def test_a_new_connection_dropped_is_not_retried(anvil: AnvilNode) -> None:
    with FlakyProxy(anvil.rpc_url) as proxy, JsonRpcTransport(proxy.url) as client:
        proxy.inject(None, Fault(FaultKind.DROP), times=2)
        with pytest.raises(RpcUnavailable, match="RemoteDisconnected"):
            client.make_request("eth_chainId", [])
        assert proxy.pending_faults() == 1  # one attempt only
        assert proxy.forwarded["eth_chainId"] == 0


def test_an_http_error_status_is_rpc_unavailable(anvil: AnvilNode) -> None:
    with FlakyProxy(anvil.rpc_url) as proxy, JsonRpcTransport(proxy.url) as client:
        proxy.inject("eth_chainId", Fault(FaultKind.HTTP_502))
        with pytest.raises(RpcUnavailable, match="HTTP 502 Bad Gateway") as raised:
            client.make_batch_request([("eth_chainId", []), ("eth_blockNumber", [])])
        assert isinstance(raised.value, ConnectionError)
        assert isinstance(raised.value, LedgerError)
        # the proxy closed the connection after its 502: the next request gets a new one
        assert client.make_request("eth_chainId", [])["result"] == hex(31337)


def test_a_read_timeout_is_rpc_unavailable(anvil: AnvilNode) -> None:
    with FlakyProxy(anvil.rpc_url) as proxy, JsonRpcTransport(proxy.url, timeout=0.2) as client:
        proxy.inject("eth_chainId", Fault(FaultKind.DELAY, delay=2.0))
        with pytest.raises(RpcUnavailable, match="TimeoutError") as raised:
            client.make_request("eth_chainId", [])
        assert isinstance(raised.value.__cause__, TimeoutError)
        assert client._idle == []  # a connection that timed out is closed, not pooled


def test_no_node_is_rpc_unavailable(server: ScriptedServer) -> None:
    url = server.url
    server.stop()
    with JsonRpcTransport(url) as client, pytest.raises(RpcUnavailable, match="cannot connect"):
        client.make_request("eth_chainId", [])


# ------------------------------------------------------------------------------------------
# Against the scripted server
# ------------------------------------------------------------------------------------------


def test_an_idle_connection_closed_by_the_server_is_reopened(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    server.replies = [echo_then_close]
    assert transport.make_request("a", [1])["result"] == ["a", [1]]
    assert transport.make_request("b", [2])["result"] == ["b", [2]]
    assert [s.connection for s in server.seen] == [1, 2]
    assert [s.payload["method"] for s in server.seen] == ["a", "b"]


def test_connection_close_from_the_server_is_honoured(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    server.replies = [
        lambda h, p: send(h, json.dumps(echoed(p)).encode(), headers={"Connection": "close"})
    ]
    assert transport.make_request("a", [])["result"] == ["a", []]
    assert transport._idle == []
    assert transport.make_request("b", [])["result"] == ["b", []]
    assert [s.connection for s in server.seen] == [1, 2]


def test_a_batch_comes_back_in_request_order(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    server.replies = [lambda h, p: send(h, json.dumps(echoed(p)[::-1]).encode())]
    answers = transport.make_batch_request([("a", [1]), ("b", [2]), ("c", [3])])
    assert isinstance(answers, list)
    assert [a["result"] for a in answers] == [["a", [1]], ["b", [2]], ["c", [3]]]
    ids = [r["id"] for r in server.seen[0].payload]
    assert len(set(ids)) == 3
    assert [a["id"] for a in answers] == ids


def test_a_refused_batch_is_the_one_error_object(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    refusal = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "no batches"}}
    server.replies = [lambda h, p: send(h, json.dumps(refusal).encode())]
    assert transport.make_batch_request([("a", []), ("b", [])]) == refusal


def test_a_non_json_answer_is_rpc_unavailable(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    page = b"<html><body>Sign in to continue</body></html>"
    server.replies = [lambda h, p: send(h, page, content_type="text/html")]
    with pytest.raises(RpcUnavailable, match=r"Sign in to continue.*not JSON"):
        transport.make_request("eth_chainId", [])
    # the connection is still good
    assert transport.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]
    assert [s.connection for s in server.seen] == [1, 1]


def test_json_that_is_not_json_rpc_is_rpc_unavailable(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    server.replies = [lambda h, p: send(h, b"[1, 2]"), lambda h, p: send(h, b'"ok"')]
    with pytest.raises(RpcUnavailable, match="not a JSON-RPC response object"):
        transport.make_request("eth_chainId", [])
    with pytest.raises(RpcUnavailable, match="not JSON-RPC response objects"):
        transport.make_batch_request([("a", []), ("b", [])])


def test_an_http_error_page_is_quoted(server: ScriptedServer, transport: JsonRpcTransport) -> None:
    server.replies = [lambda h, p: send(h, b"upstream busy", status=503, content_type="text/plain")]
    with pytest.raises(RpcUnavailable, match="HTTP 503 Service Unavailable: upstream busy"):
        transport.make_batch_request([("a", []), ("b", [])])


def test_a_gzip_answer_is_decoded(server: ScriptedServer, transport: JsonRpcTransport) -> None:
    server.replies = [
        lambda h, p: send(
            h, gzip.compress(json.dumps(echoed(p)).encode()), headers={"Content-Encoding": "gzip"}
        )
    ]
    assert transport.make_request("a", ["x"])["result"] == ["a", ["x"]]


def test_the_url_path_query_headers_and_credentials_are_sent(server: ScriptedServer) -> None:
    url = server.url.replace("http://", "http://relay%40example:p%3Ass@") + "?tenant=7"
    headers = {"X-Api-Key": "k-1", "User-Agent": "ledger-test"}
    with JsonRpcTransport(url, headers=headers) as client:
        assert client.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]
        assert "p:ss" not in repr(client)
        assert "tenant" not in client.where
    (seen,) = server.seen
    assert seen.path == "/rpc?tenant=7"
    assert seen.headers["X-Api-Key"] == "k-1"
    assert seen.headers["User-Agent"] == "ledger-test"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Authorization"] == basic("relay@example", "p:ss")


def test_threads_share_the_pool_without_sharing_a_connection(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    failures: list[str] = []

    def work(n: int) -> None:
        for i in range(20):
            answers = transport.make_batch_request([(f"t{n}", [i]), ("x", [n, i])])
            assert isinstance(answers, list)
            if [a["result"] for a in answers] != [[f"t{n}", [i]], ["x", [n, i]]]:
                failures.append(f"thread {n} request {i}: {answers}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(server.seen) == 160
    assert server.connections <= 8
    assert len(transport._idle) <= 4


def test_close_closes_the_idle_connections(
    server: ScriptedServer, transport: JsonRpcTransport
) -> None:
    transport.make_request("a", [])
    (conn,) = transport._idle
    transport.close()
    assert transport._idle == []
    assert conn.sock is None
    transport.make_request("b", [])
    assert [s.connection for s in server.seen] == [1, 2]


def test_only_http_urls_are_endpoints() -> None:
    with pytest.raises(ConfigurationError, match="not an http"):
        JsonRpcTransport("ws://127.0.0.1:8546")
    with pytest.raises(ConfigurationError):
        JsonRpcTransport("http:///no-host")


# ------------------------------------------------------------------------------------------
# HTTPS
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (certificate file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ledger test node")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    where = tmp_path_factory.mktemp("tls")
    cert_file, key_file = where / "node.pem", where / "node.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[ScriptedServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    scripted = ScriptedServer(tls=context)
    try:
        yield scripted
    finally:
        scripted.stop()


def test_https_with_the_providers_ca_bundle(
    tls_server: ScriptedServer, certificate: tuple[Path, Path]
) -> None:
    provider = HTTPProvider(tls_server.url, request_kwargs={"verify": str(certificate[0])})
    client = JsonRpcTransport.from_provider(provider)
    assert client is not None
    with client:
        assert client.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]
        assert client.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]
    assert [s.connection for s in tls_server.seen] == [1, 1]
    # the same answers through the provider itself
    assert provider.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]  # type: ignore[arg-type]


def test_https_with_the_environments_ca_bundle(
    tls_server: ScriptedServer, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate[0]))
    client = JsonRpcTransport.from_provider(HTTPProvider(tls_server.url))
    assert client is not None
    with client:
        assert client.make_request("eth_chainId", [])["result"] == ["eth_chainId", []]


def test_https_refuses_a_node_certificate_it_cannot_verify(tls_server: ScriptedServer) -> None:
    client = JsonRpcTransport.from_provider(HTTPProvider(tls_server.url))
    assert client is not None  # certifi's bundle, as requests would use
    with client, pytest.raises(RpcUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        client.make_request("eth_chainId", [])
    assert tls_server.seen == []


# ------------------------------------------------------------------------------------------
# From a web3 provider
# ------------------------------------------------------------------------------------------


def test_the_providers_headers_timeout_and_auth_are_used(server: ScriptedServer) -> None:
    provider = HTTPProvider(
        server.url,
        request_kwargs={
            "headers": {"X-Api-Key": "k-2", "Content-Type": "application/json"},
            "timeout": (3, 7),
            "auth": ("relay", "secret"),
        },
    )
    client = JsonRpcTransport.from_provider(provider)
    assert client is not None
    with client:
        client.make_request("eth_chainId", [])
        assert (client._connect_timeout, client._read_timeout) == (3.0, 7.0)
        conn = client._idle[0]
        assert conn.sock is not None
        assert conn.sock.gettimeout() == 7.0
    (seen,) = server.seen
    assert seen.headers["X-Api-Key"] == "k-2"
    assert seen.headers["Authorization"] == basic("relay", "secret")


def test_the_providers_default_headers_and_timeout(server: ScriptedServer) -> None:
    provider = HTTPProvider(server.url)
    client = JsonRpcTransport.from_provider(provider)
    assert client is not None
    with client:
        client.make_request("eth_chainId", [])
        assert client._read_timeout == 30.0
    assert server.seen[0].headers["User-Agent"] == provider.get_request_headers()["User-Agent"]


class Subclassed(HTTPProvider):
    pass


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(Subclassed("http://127.0.0.1:1"), id="subclass"),
        pytest.param(
            HTTPProvider("http://127.0.0.1:1", session=requests.Session()), id="explicit-session"
        ),
        pytest.param(
            HTTPProvider("https://127.0.0.1:1", request_kwargs={"verify": False}), id="no-verify"
        ),
        pytest.param(
            HTTPProvider("http://127.0.0.1:1", request_kwargs={"allow_redirects": False}),
            id="other-setting",
        ),
        pytest.param(
            HTTPProvider(
                "http://127.0.0.1:1", request_kwargs={"proxies": {"http": "http://proxy:3128"}}
            ),
            id="proxy",
        ),
        pytest.param(
            HTTPProvider("http://127.0.0.1:1", request_kwargs={"auth": requests.auth.AuthBase()}),
            id="auth-object",
        ),
        pytest.param(
            HTTPProvider("https://127.0.0.1:1", request_kwargs={"verify": "/no/such/bundle.pem"}),
            id="missing-ca-bundle",
        ),
        pytest.param(HTTPProvider("http://127.0.0.1:1", cache_allowed_requests=True), id="caching"),
        pytest.param(object(), id="not-a-provider"),
    ],
)
def test_providers_it_cannot_stand_in_for(provider: object) -> None:
    assert JsonRpcTransport.from_provider(provider) is None


def test_a_proxy_in_the_environment_is_left_to_the_provider(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert JsonRpcTransport.from_provider(HTTPProvider("http://10.1.2.3:8545")) is None
    monkeypatch.setenv("NO_PROXY", "10.1.2.3")
    assert JsonRpcTransport.from_provider(HTTPProvider("http://10.1.2.3:8545")) is not None


def test_one_transport_per_provider(anvil: AnvilNode) -> None:
    provider = HTTPProvider(anvil.rpc_url)
    first = shared_transport(provider)
    assert first is not None
    assert shared_transport(provider) is first
    assert shared_transport(HTTPProvider(anvil.rpc_url)) is not first
    assert shared_transport(Subclassed(anvil.rpc_url)) is None


def test_the_verifier_reads_through_the_transport_of_a_plain_provider(
    ledger: Ledger, anvil: AnvilNode
) -> None:
    reads = ChainReads(ledger)
    assert isinstance(reads._provider, JsonRpcTransport)
    assert reads._provider is ChainReads(ledger)._provider  # kept between verifications
    subclassed = Ledger(Web3(Subclassed(anvil.rpc_url)), ledger.deployment)
    assert isinstance(ChainReads(subclassed)._provider, Subclassed)

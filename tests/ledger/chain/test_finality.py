"""The finality depth of each kind of network, from what its node answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import Web3

from ledger.chain import UNKNOWN_NETWORK_DEPTH, finality_of, web3_for
from ledger.settings import Settings
from ledger.stack import confirmations


def _node(answers: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    """A JSON-RPC node that knows the methods in ``answers`` and no others."""

    class Node(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request["id"]}
            if request["method"] in answers:
                reply["result"] = answers[request["method"]]
            else:
                reply["error"] = {"code": -32601, "message": "the method does not exist"}
            body = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Node


@pytest.fixture
def node() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(answers: dict[str, Any]) -> Web3:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _node(answers))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return web3_for(f"http://127.0.0.1:{server.server_address[1]}")

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


SIGNER = "0x" + "ab" * 20


@pytest.mark.parametrize(("signers", "depth"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_clique_is_final_past_what_a_minority_can_seal(node: Any, signers: int, depth: int) -> None:
    w3 = node({"web3_clientVersion": "Geth/v1.13.15", "clique_getSigners": [SIGNER] * signers})
    finality = finality_of(w3)
    assert (finality.depth, finality.network) == (depth, f"Clique with {signers} signers")


@pytest.mark.parametrize(
    "method", ["qbft_getValidatorsByBlockNumber", "ibft_getValidatorsByBlockNumber"]
)
def test_bft_networks_are_final_at_once(node: Any, method: str) -> None:
    w3 = node({"web3_clientVersion": "besu/v24.12.0", method: [SIGNER] * 4})
    assert finality_of(w3).depth == 0


def test_anvil_is_final_at_once(node: Any) -> None:
    assert finality_of(node({"web3_clientVersion": "anvil/v1.7.1"})).depth == 0


def test_an_unknown_network_gets_the_conservative_depth(node: Any) -> None:
    finality = finality_of(node({"web3_clientVersion": "Geth/v1.14.0"}))
    assert finality.depth == UNKNOWN_NETWORK_DEPTH > 0


def test_the_setting_overrides_the_network(node: Any) -> None:
    w3 = node({"web3_clientVersion": "Geth/v1.13.15", "clique_getSigners": [SIGNER] * 3})
    assert confirmations(Settings(), w3) == 2
    assert confirmations(Settings(confirmations=7), w3) == 7
    assert confirmations(Settings(confirmations=0), w3) == 0

"""Connections accept the long block ``extraData`` of PoA and QBFT networks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from web3 import HTTPProvider, Web3
from web3.exceptions import ExtraDataLengthError

from ledger.chain import make_poa_compatible, web3_for
from ledger.settings import Settings
from ledger.stack import connect

CHAIN_ID = 202611
# A Clique block's extraData: 32 bytes of vanity, then the 65-byte seal (97 bytes in all).
CLIQUE_EXTRA = "0x" + "d8" * 32 + "ab" * 65


def _block() -> dict[str, Any]:
    zero32 = "0x" + "00" * 32
    return {
        "number": "0x10",
        "hash": "0x" + "11" * 32,
        "parentHash": zero32,
        "nonce": "0x0000000000000000",
        "sha3Uncles": zero32,
        "logsBloom": "0x" + "00" * 256,
        "transactionsRoot": zero32,
        "stateRoot": zero32,
        "receiptsRoot": zero32,
        "miner": "0x" + "00" * 20,
        "difficulty": "0x2",
        "totalDifficulty": "0x21",
        "extraData": CLIQUE_EXTRA,
        "size": "0x260",
        "gasLimit": "0x3b9aca00",
        "gasUsed": "0x0",
        "timestamp": "0x6751f000",
        "transactions": [],
        "uncles": [],
        "baseFeePerGas": "0x0",
        "mixHash": zero32,
    }


class _PoaNode(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        results = {"eth_chainId": hex(CHAIN_ID), "eth_getBlockByNumber": _block()}
        body = json.dumps(
            {"jsonrpc": "2.0", "id": request["id"], "result": results[request["method"]]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def poa_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PoaNode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_plain_web3_refuses_a_clique_block(poa_url: str) -> None:
    # The failure the library must avoid: web3's default validation on a PoA block.
    with pytest.raises(ExtraDataLengthError):
        Web3(HTTPProvider(poa_url)).eth.get_block("latest")


def test_web3_for_reads_a_clique_block(poa_url: str) -> None:
    block = web3_for(poa_url).eth.get_block("latest")
    assert block["number"] == 16
    assert bytes(block["proofOfAuthorityData"]).hex() == CLIQUE_EXTRA[2:]


def test_make_poa_compatible_injects_once(poa_url: str) -> None:
    w3 = Web3(HTTPProvider(poa_url))
    assert make_poa_compatible(make_poa_compatible(w3)) is w3
    names = [name for _, name in w3.middleware_onion.middleware]
    assert names.count("extradata_to_poa") == 1
    assert w3.eth.get_block("latest")["number"] == 16


def test_connect_works_on_a_poa_node(poa_url: str) -> None:
    w3 = connect(Settings(rpc_url=poa_url, chain_id=CHAIN_ID))
    assert w3.eth.get_block("latest")["gasLimit"] == 1_000_000_000

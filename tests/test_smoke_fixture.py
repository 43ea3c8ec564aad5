"""The ``w3`` fixture isolates tests: what one test writes is gone in the next.

Each run below sends 1 wei to the same fresh address and mines the block that holds it; it
first checks that the address holds nothing and that the block the other run mined (if it ran
first) is no longer in the chain. Whichever runs second fails if the first one's block and
state were not reverted. The fixture may add one empty block stamped with the wall clock after
a revert (``catch_up_clock``), so the test checks state and block hashes, not heights. The
runs do not depend on each other's order, and either can run alone.
"""

from typing import Any

import pytest
from web3 import Web3

SINK = Web3.to_checksum_address("0x" + "5e" * 20)
MINED: dict[str, tuple[int, bytes]] = {}
"""run -> (number, hash) of the block it mined."""


@pytest.mark.parametrize("run", ["first", "second"])
def test_snapshot_isolates(w3: Web3, run: str) -> None:
    assert w3.eth.get_balance(SINK) == 0, "a transfer made by another test leaked"
    for other, (number, block_hash) in MINED.items():
        if other != run and number <= w3.eth.block_number:
            assert w3.eth.get_block(number)["hash"] != block_hash, "a block of another test leaked"
    sender = w3.eth.accounts[0]
    tx: Any = {"from": sender, "to": SINK, "value": 1, "gasPrice": 0}
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    assert w3.eth.get_balance(SINK) == 1
    MINED[run] = (receipt["blockNumber"], bytes(receipt["blockHash"]))

"""The ``w3`` fixture isolates tests: what one test mines is gone in the next.

Each run below starts from the height the session node had when this module began and mines
a block; whichever runs second fails if the block the first one mined was not reverted. The
runs do not depend on each other's order, and either can run alone.
"""

import pytest
from web3 import Web3


@pytest.fixture(scope="module")
def module_start_height(session_w3: Web3) -> int:
    """The session node's height before any test of this module ran."""
    return session_w3.eth.block_number


@pytest.mark.parametrize("run", ["first", "second"])
def test_snapshot_isolates(module_start_height: int, w3: Web3, run: str) -> None:
    assert w3.eth.block_number == module_start_height, "a block mined by another test leaked"
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert w3.eth.block_number == module_start_height + 1

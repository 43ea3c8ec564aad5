"""The ``w3`` fixture isolates tests: what one test mines is gone in the next."""

from web3 import Web3

_seen: dict[str, int] = {}


def test_snapshot_isolates_first(w3: Web3) -> None:
    _seen["before"] = w3.eth.block_number
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert w3.eth.block_number == _seen["before"] + 1


def test_snapshot_isolates_second(w3: Web3) -> None:
    assert w3.eth.block_number == _seen["before"]

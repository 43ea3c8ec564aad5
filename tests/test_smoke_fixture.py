from web3 import Web3


def test_snapshot_isolates_first(w3: Web3) -> None:
    before = w3.eth.block_number
    w3.provider.make_request("evm_mine", [])
    assert w3.eth.block_number == before + 1


def test_snapshot_isolates_second(w3: Web3) -> None:
    assert w3.eth.block_number == 0

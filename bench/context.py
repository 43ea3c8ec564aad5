"""What every benchmark section shares: the one anvil node, a web3, funded dev accounts.

Transactions are signed locally with the dev accounts' keys and sent raw, as a relayer on a
production (Besu) network does; every figure comes from a real receipt.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxParams, TxReceipt

from ledger.chain import AnvilNode

__all__ = [
    "DEV_KEY_0",
    "DEV_MNEMONIC",
    "FULL",
    "QUICK",
    "BenchContext",
    "BenchError",
    "Figures",
    "Sizes",
    "dev_accounts",
    "digest",
    "percentile",
]

log = logging.getLogger("bench.context")

# anvil's default dev accounts: the well-known test mnemonic, accounts m/44'/60'/0'/0/i.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"

Figures = Mapping[str, int | float]
"""What a section returns: result key -> number."""


class BenchError(RuntimeError):
    """A benchmark could not be run (tool missing, transaction reverted, bad figure)."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much work a run does. Quick mode shrinks only what costs wall-clock time."""

    batch: int  # items per batched transaction (multiAttest, bulkIssue, batch emit)
    gas_samples: int  # single-call transactions measured; the median is reported
    naive_events: int  # events sent one by one, each awaited, for naive throughput
    index_sizes: tuple[int, ...]  # consignment events on chain at which verification is timed
    verify_samples: int  # verifications timed at each of those sizes
    ingest_events: int  # pre-signed events sent through the gateway's HTTP API
    epcis_captures: tuple[int, ...] = (1, 100, 10_000)  # events per EPCIS capture document
    epcis_hash_events: int = 2_000  # events hashed by us and by the reference implementation


# Batches stay at 100 in quick mode: the result keys name that size, and one batched
# transaction costs milliseconds; the timed loops are what quick mode cuts.
FULL = Sizes(
    batch=100,
    gas_samples=3,
    naive_events=20,
    index_sizes=(10_000, 50_000, 200_000),
    verify_samples=300,
    ingest_events=20_000,
)
QUICK = Sizes(
    batch=100,
    gas_samples=1,
    naive_events=3,
    index_sizes=(2_000,),
    verify_samples=20,
    ingest_events=500,
    epcis_captures=(1, 20),
    epcis_hash_events=50,
)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method (a value that occurred)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def dev_accounts(count: int) -> list[LocalAccount]:
    """anvil's first ``count`` dev accounts (funded with 10,000 ether each)."""
    Account.enable_unaudited_hdwallet_features()
    accounts = [
        Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}")
        for i in range(count)
    ]
    if accounts and accounts[0].key.to_0x_hex() != DEV_KEY_0:
        raise BenchError("dev account 0 does not derive to anvil's known key")
    return accounts


def digest(*parts: object) -> bytes:
    """A deterministic 32-byte value (so that calldata, hence gas, is the same every run)."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()


@dataclass
class BenchContext:
    """Shared by all sections of one run."""

    node: AnvilNode
    w3: Web3
    accounts: list[LocalAccount]
    sizes: Sizes
    quick: bool
    receipt_timeout: float = 60.0
    meta: dict[str, Any] = field(default_factory=dict)
    """Details a section wants on record (compilers, samples); ends up in ``meta.sections``."""
    shared: dict[str, Any] = field(default_factory=dict)
    """Objects sections share within one run (e.g. our deployed suite); not recorded."""

    @property
    def deployer(self) -> LocalAccount:
        return self.accounts[0]

    def note(self, section: str, key: str, value: Any) -> None:
        """Put ``value`` on record under ``meta.sections[section][key]``."""
        self.meta.setdefault(section, {})[key] = value

    # -- transactions --------------------------------------------------------------------

    def _send(self, tx: TxParams, sender: LocalAccount) -> TxReceipt:
        fields: dict[str, Any] = dict(tx)
        fields.setdefault("nonce", self.w3.eth.get_transaction_count(sender.address, "pending"))
        fields.setdefault("chainId", self.w3.eth.chain_id)
        signed = sender.sign_transaction(fields)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=self.receipt_timeout, poll_latency=0.05
        )
        if receipt["status"] != 1:
            raise BenchError(f"transaction {tx_hash.to_0x_hex()} reverted")
        return receipt

    def transact(self, call: ContractFunction, *, sender: LocalAccount | None = None) -> TxReceipt:
        """Sign and send ``call`` (gas estimated by the node); wait for a successful receipt."""
        account = sender or self.deployer
        tx = call.build_transaction({"from": account.address})
        return self._send(tx, account)

    def deploy(
        self,
        abi: list[dict[str, Any]],
        bytecode: str,
        *args: Any,
        sender: LocalAccount | None = None,
    ) -> tuple[Contract, TxReceipt]:
        """Deploy a contract; returns it (attached at its address) and the receipt."""
        account = sender or self.deployer
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        tx = factory.constructor(*args).build_transaction({"from": account.address})
        receipt = self._send(tx, account)
        address: ChecksumAddress | None = receipt["contractAddress"]
        if address is None:
            raise BenchError("deployment receipt has no contract address")
        return self.w3.eth.contract(address=address, abi=abi), receipt

    def median_gas(
        self, make_call: Callable[[int], ContractFunction], samples: int, *, section: str, key: str
    ) -> int:
        """Send ``samples`` calls (``make_call(i)``) one by one; the median of their gasUsed.

        Every sample is put on record under ``meta.sections[section][key + "_samples"]``.
        """
        used = [int(self.transact(make_call(i))["gasUsed"]) for i in range(samples)]
        self.note(section, f"{key}_samples", used)
        return int(median(used))

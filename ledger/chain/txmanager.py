"""Reliable transactions from one relayer account: nonces, fees, gas, retries, replacement.

The gateway relays signed records in batches from a relayer account whose key it holds.
:class:`TxManager` signs locally (eth-account; never ``eth_sendTransaction``) and sends::

    manager = TxManager(w3, relayer_key, confirmations=2)
    pending = manager.send({"to": registry, "data": calldata})
    receipt = manager.wait(pending)          # or manager.send_and_wait(...)

Concurrency: the API is synchronous and thread-safe. One lock orders nonce allocation,
signing and the broadcast, so nonces have no gaps and no duplicates however many threads call
:meth:`TxManager.send` at once (gas estimation runs outside the lock, in parallel). A nonce is
used up only when the node accepted the transaction; when the outcome is unknown (the reply
was lost and every retry failed) the next allocation re-reads the pending nonce from the node.
asyncio callers use the ``*_async`` methods, which run the same code in a worker thread
(:func:`asyncio.to_thread`): one manager per relayer key per process, shared by both.

Fees: on a free-gas network (Besu ``--min-gas-price=0`` with ``zeroBaseFee``; detected as
``eth_gasPrice == 0`` and a base fee of 0 or none, or set with ``free_gas=``) transactions are
legacy type 0 with ``gasPrice`` 0. Otherwise EIP-1559 type 2 with ``maxFeePerGas = base fee
x 2 + priority fee``, or legacy with ``eth_gasPrice`` where blocks carry no base fee.

Failures: transient RPC errors (connection refused or reset, timeouts, HTTP 5xx and 429,
JSON-RPC "try again"/"busy"/"limit" errors) are retried with capped exponential backoff and
full jitter; a revert is never retried and raises :class:`~ledger.errors.TransactionReverted`
with the revert data at once. Resending the same signed bytes is idempotent (same hash), so a
retried broadcast whose first reply was lost is recognised ("already known", or "nonce too
low" with our hash on chain) rather than sent twice. A transaction not mined within
``stuck_after`` seconds is replaced at the same nonce with fees bumped by ``fee_bump``
(at least +10 %, the geth/Besu rule; on free-gas networks the same bytes are rebroadcast);
every hash sent for a nonce is tracked and whichever is mined is accepted. A dropped
transaction is rebroadcast, and so are lost lower nonces of this manager that would block a
stuck one. If another transaction takes a nonce, :class:`~ledger.errors.NonceConflict` is
raised and the next send re-reads the nonce from the node. :meth:`TxManager.wait` returns
once the receipt has
``confirmations`` blocks on top and its block is still canonical; a transaction reorged out
is treated as pending again.

Callers that must store signed bytes before sending them (a durable outbox) use
:meth:`TxManager.prepare` (gas and fees), sign at a nonce they own, and send with
:meth:`TxManager.broadcast`, which is idempotent and retried like the rest.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import (
    BlockNotFound,
    ContractLogicError,
    TransactionNotFound,
    Web3RPCError,
)
from web3.types import LogReceipt, TxReceipt

from ledger.chain.rpc_errors import (
    ALREADY_KNOWN,
    NONCE_TOO_LOW,
    OVER_ALLOWANCE,
    UNDERPRICED,
    is_transient,
    revert_data,
    rpc_error,
)
from ledger.errors import (
    ConfigurationError,
    GasLimitExceeded,
    NonceConflict,
    RpcUnavailable,
    TransactionRejected,
    TransactionReverted,
    TransactionTimeout,
)

__all__ = [
    "MAX_TX_GAS",
    "PendingTx",
    "Receipt",
    "RetryPolicy",
    "TxManager",
    "fit_batch_size",
]

log = logging.getLogger("ledger.chain.txmanager")

MAX_TX_GAS = 16_777_216
"""Per-transaction gas cap (2**24) of EIP-7825 (Osaka)."""

_T = TypeVar("_T")
_ITEM = TypeVar("_ITEM")

_CALLER_FIELDS = (
    "to",
    "value",
    "data",
    "gas",
    "gasPrice",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "accessList",
    "type",
)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: attempt k waits U(0, min(max_delay, base x 2^k))."""

    attempts: int = 6
    base_delay: float = 0.1
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))  # noqa: S311


@dataclass(frozen=True)
class Receipt:
    """A mined transaction, as :meth:`TxManager.wait` returns it."""

    tx_hash: str
    nonce: int
    block_number: int
    block_hash: str
    gas_used: int
    effective_gas_price: int
    status: int
    contract_address: str | None
    logs: tuple[LogReceipt, ...]

    @property
    def succeeded(self) -> bool:
        return self.status == 1


@dataclass(frozen=True)
class _Attempt:
    tx_hash: str
    raw: bytes
    fields: Mapping[str, Any]  # exactly what was signed


@dataclass(eq=False)
class PendingTx:
    """A transaction sent at ``nonce``; every signed version (replacements) is kept."""

    nonce: int
    _attempts: list[_Attempt] = field(repr=False)
    last_broadcast: float = field(repr=False)  # time.monotonic() of the last (re)broadcast
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def tx_hash(self) -> str:
        """The hash of the latest version sent."""
        with self._lock:
            return self._attempts[-1].tx_hash

    @property
    def hashes(self) -> tuple[str, ...]:
        """Every hash sent for this nonce, oldest first."""
        with self._lock:
            return tuple(attempt.tx_hash for attempt in self._attempts)

    @property
    def fields(self) -> Mapping[str, Any]:
        """The signed fields of the latest version."""
        with self._lock:
            return self._attempts[-1].fields

    def _latest(self) -> _Attempt:
        with self._lock:
            return self._attempts[-1]

    def _add(self, attempt: _Attempt) -> None:
        with self._lock:
            self._attempts.append(attempt)


class _NonceTakenError(Exception):
    """Internal: the node says our nonce is used, and not by these bytes."""


def _hex(value: bytes | str) -> str:
    return HexBytes(value).to_0x_hex()


def fit_batch_size(probes: Mapping[int, int], *, limit: int, count: int) -> int:
    """The largest n <= count whose gas, on the line through the probes, is <= limit.

    ``probes`` maps batch sizes to their gas (at least one; with one, the fixed part is taken
    as 0 and the gas as proportional). Returns 0 if even one item does not fit.
    """
    if not probes:
        raise ConfigurationError("at least one probe is needed")
    sizes = sorted(probes)
    low, high = sizes[0], sizes[-1]
    if low == high:
        per_item = probes[low] / low
        fixed = 0.0
    else:
        per_item = max((probes[high] - probes[low]) / (high - low), 1.0)
        fixed = probes[low] - per_item * low
    fitted = math.floor((limit - fixed) / per_item)
    return max(0, min(count, fitted))


class TxManager:
    """Sends transactions from one relayer account reliably; thread-safe.

    ``confirmations``: blocks on top of a receipt before :meth:`wait` returns it.
    ``free_gas``: True/False, or None to detect (gas price 0 and base fee 0 or absent).
    ``gas_margin``: multiplier on ``eth_estimateGas``. ``fee_bump``: fee increase of a
    replacement (>= 0.10). ``stuck_after``: seconds without a receipt before a replacement.
    ``max_fee_per_gas``: a ceiling for fees (None: no ceiling). ``priority_fee``: the tip
    (None: ``eth_maxPriorityFeePerGas``).
    """

    def __init__(
        self,
        w3: Web3,
        private_key: str | bytes,
        *,
        confirmations: int = 0,
        free_gas: bool | None = None,
        gas_margin: float = 1.2,
        fee_bump: float = 0.125,
        stuck_after: float = 60.0,
        poll_interval: float = 0.5,
        priority_fee: int | None = None,
        max_fee_per_gas: int | None = None,
        retry: RetryPolicy | None = None,
        chain_id: int | None = None,
    ) -> None:
        if fee_bump < 0.10:
            raise ConfigurationError("fee_bump must be at least 0.10 (nodes refuse smaller bumps)")
        if confirmations < 0 or gas_margin < 1:
            raise ConfigurationError("confirmations must be >= 0 and gas_margin >= 1")
        self.w3 = w3
        self._account: LocalAccount = Account.from_key(private_key)
        self.confirmations = confirmations
        self.gas_margin = gas_margin
        self.fee_bump = fee_bump
        self.stuck_after = stuck_after
        self.poll_interval = poll_interval
        self.priority_fee = priority_fee
        self.max_fee_per_gas = max_fee_per_gas
        self.retry = retry or RetryPolicy()
        self._chain_id = chain_id
        self._free_gas = free_gas
        self._block_gas_limit: int | None = None
        self._lock = threading.Lock()  # nonce allocation + signing + broadcast
        self._next_nonce: int | None = None
        self._in_flight: dict[int, PendingTx] = {}

    # -- public ------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return str(self._account.address)

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self._call(lambda: int(self.w3.eth.chain_id))
        return self._chain_id

    @property
    def free_gas(self) -> bool:
        """Whether the network charges nothing for gas (detected once, then cached)."""
        if self._free_gas is None:
            gas_price = self._call(lambda: int(self.w3.eth.gas_price))
            base_fee = self._call(lambda: self.w3.eth.get_block("latest").get("baseFeePerGas"))
            self._free_gas = gas_price == 0 and not base_fee
            log.info("free-gas network: %s", self._free_gas)
        return self._free_gas

    @property
    def gas_cap(self) -> int:
        """The most gas one transaction may use: EIP-7825's cap or the block gas limit."""
        if self._block_gas_limit is None:
            self._block_gas_limit = self._call(
                lambda: int(self.w3.eth.get_block("latest")["gasLimit"])
            )
        return min(MAX_TX_GAS, self._block_gas_limit)

    def in_flight(self) -> list[PendingTx]:
        """Transactions sent and not yet returned by :meth:`wait`, by nonce."""
        with self._lock:
            return [self._in_flight[nonce] for nonce in sorted(self._in_flight)]

    def resync(self) -> None:
        """Forget the local nonce; the next send reads the pending nonce from the node."""
        with self._lock:
            self._next_nonce = None

    def fees(self) -> dict[str, int]:
        """Fee fields for a new transaction on this network."""
        if self.free_gas:
            return {"gasPrice": 0}
        block = self._call(lambda: self.w3.eth.get_block("latest"))
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": self._capped(self._call(lambda: int(self.w3.eth.gas_price)))}
        tip = self._priority_fee()
        return {
            "maxPriorityFeePerGas": self._capped(tip),
            "maxFeePerGas": self._capped(int(base_fee) * 2 + tip),
        }

    def estimate_gas(self, tx: Mapping[str, Any]) -> int:
        """``eth_estimateGas`` x ``gas_margin``, at most :attr:`gas_cap`.

        Raises TransactionReverted (with the revert data) if the call reverts and
        GasLimitExceeded if it needs more gas than the cap.
        """
        estimate = self._estimate_raw(tx)
        cap = self.gas_cap
        if estimate > cap:
            raise GasLimitExceeded(f"transaction needs {estimate} gas; the cap is {cap}")
        return min(cap, math.ceil(estimate * self.gas_margin))

    def max_batch_size(
        self,
        build: Callable[[int], Mapping[str, Any]],
        *,
        count: int,
        probes: Sequence[int] = (1, 16),
        per_item_gas: int | None = None,
    ) -> int:
        """The largest n <= count such that ``build(n)`` (the transaction for the first n
        items) fits under :attr:`gas_cap` with the safety margin.

        The gas is estimated at the ``probes`` sizes (or taken as ``per_item_gas`` per item
        on top of ``build(1)``), a line is fitted, and the answer is checked with a real
        estimate and shrunk until it fits. Raises GasLimitExceeded if one item does not fit.
        """
        if count <= 0:
            return 0
        limit = math.floor(self.gas_cap / self.gas_margin)
        sizes = sorted({min(count, max(1, size)) for size in probes} | {1})
        if per_item_gas is not None:
            sizes = [1]
        measured = {size: self._estimate_raw(build(size)) for size in sizes}
        model = dict(measured)
        if per_item_gas is not None:
            model[2] = measured[1] + per_item_gas
        if measured[1] > limit:
            raise GasLimitExceeded(f"one item needs {measured[1]} gas; the limit is {limit}")
        size = max(1, fit_batch_size(model, limit=limit, count=count))
        for _ in range(32):
            gas = measured.get(size) or self._estimate_raw(build(size))
            if gas <= limit:
                log.debug("batch size %d: %d gas (limit %d)", size, gas, limit)
                return size
            size = max(1, min(size - 1, math.floor(size * limit / gas)))
        raise GasLimitExceeded(f"no batch size found under {limit} gas")  # pragma: no cover

    def split_batches(
        self,
        items: Sequence[_ITEM],
        build: Callable[[Sequence[_ITEM]], Mapping[str, Any]],
        *,
        probes: Sequence[int] = (1, 16),
    ) -> list[Sequence[_ITEM]]:
        """Split ``items`` into consecutive batches whose transactions each fit the gas cap.

        Each batch is sized against the current chain state (earlier batches not applied).
        """
        batches: list[Sequence[_ITEM]] = []
        start = 0
        while start < len(items):
            rest = items[start:]

            def build_first(n: int, rest: Sequence[_ITEM] = rest) -> Mapping[str, Any]:
                return build(rest[:n])

            size = self.max_batch_size(build_first, count=len(rest), probes=probes)
            batches.append(rest[:size])
            start += size
        return batches

    def prepare(self, tx: Mapping[str, Any]) -> dict[str, Any]:
        """``tx`` completed for signing, without a nonce: gas (estimated with the margin,
        checked against the cap), fees for this network and the chain id."""
        return self._prepare(tx)

    def broadcast(self, raw: bytes) -> str:
        """Send signed bytes (for callers that sign and store them first); idempotent.

        Returns the hash. "Already known", or "nonce too low" while the node has this hash,
        count as success. Raises NonceConflict if other bytes hold the nonce,
        TransactionRejected if the node refuses them, RpcUnavailable after the retries.
        """
        attempt = _Attempt(_hex(keccak(raw)), bytes(raw), {})
        try:
            self._broadcast(attempt)
        except _NonceTakenError as exc:
            raise NonceConflict(str(exc), tx_hash=attempt.tx_hash) from exc
        return attempt.tx_hash

    def send(self, tx: Mapping[str, Any]) -> PendingTx:
        """Sign and broadcast ``tx`` (to, data, value; optional gas and fees) at the next
        nonce. Returns once the node has accepted it."""
        return self._send_prepared([self._prepare(tx)])[0]

    def send_many(self, txs: Iterable[Mapping[str, Any]]) -> list[PendingTx]:
        """Send several transactions at consecutive nonces, in order.

        Every transaction is estimated first (a revert raises before anything is sent). If a
        broadcast then fails, the error is raised and the transactions before it stay sent
        (see :meth:`in_flight`).
        """
        return self._send_prepared([self._prepare(tx) for tx in txs])

    def send_and_wait(self, tx: Mapping[str, Any], *, timeout: float | None = None) -> Receipt:
        return self.wait(self.send(tx), timeout=timeout)

    def wait(
        self,
        pending: PendingTx,
        *,
        timeout: float | None = None,
        confirmations: int | None = None,
        raise_on_revert: bool = True,
    ) -> Receipt:
        """Block until one of ``pending``'s hashes is mined with ``confirmations`` blocks on
        top, in a block that is still canonical.

        Replaces the transaction when stuck, rebroadcasts it when dropped, and treats it as
        pending again when reorged out. A mined revert raises TransactionReverted (with the
        receipt and, where the node can replay it, the revert data) unless
        ``raise_on_revert`` is False. Raises TransactionTimeout after ``timeout`` seconds,
        NonceConflict if another transaction took the nonce.
        """
        needed = self.confirmations if confirmations is None else confirmations
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                receipt = self._poll(pending, needed)
            except RpcUnavailable as exc:
                log.warning("nonce %d: node unavailable while waiting: %s", pending.nonce, exc)
                receipt = None
            if receipt is not None:
                with self._lock:
                    self._in_flight.pop(pending.nonce, None)
                if receipt.status != 1 and raise_on_revert:
                    raise TransactionReverted(
                        f"transaction {receipt.tx_hash} reverted in block {receipt.block_number}",
                        data=self._replay_revert(pending, receipt),
                        tx_hash=receipt.tx_hash,
                        nonce=pending.nonce,
                        receipt=receipt,
                    )
                return receipt
            if deadline is not None and time.monotonic() >= deadline:
                raise TransactionTimeout(
                    f"nonce {pending.nonce} not mined or confirmed within {timeout:g} s",
                    tx_hash=pending.tx_hash,
                    nonce=pending.nonce,
                )
            time.sleep(self.poll_interval)

    async def send_async(self, tx: Mapping[str, Any]) -> PendingTx:
        return await asyncio.to_thread(self.send, tx)

    async def wait_async(
        self,
        pending: PendingTx,
        *,
        timeout: float | None = None,
        confirmations: int | None = None,
    ) -> Receipt:
        return await asyncio.to_thread(
            self.wait, pending, timeout=timeout, confirmations=confirmations
        )

    async def send_and_wait_async(
        self, tx: Mapping[str, Any], *, timeout: float | None = None
    ) -> Receipt:
        return await asyncio.to_thread(self.send_and_wait, tx, timeout=timeout)

    # -- RPC with retries ----------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        """Run one RPC call, retrying transient failures with backoff."""
        attempts = max(1, self.retry.attempts)
        for attempt in range(attempts):
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                if attempt == attempts - 1:
                    raise RpcUnavailable(f"RPC failed {attempts} times: {exc!r}") from exc
                pause = self.retry.delay(attempt)
                log.warning(
                    "transient RPC error (attempt %d): %r; retry in %.2f s", attempt + 1, exc, pause
                )
                time.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    def _estimate_raw(self, tx: Mapping[str, Any]) -> int:
        call = {key: tx[key] for key in ("to", "value", "data") if key in tx}
        call["from"] = self.address
        try:
            return self._call(lambda: int(self.w3.eth.estimate_gas(call, "pending")))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise TransactionReverted(
                f"transaction would revert: {exc.message}", data=revert_data(exc)
            ) from exc
        except Web3RPCError as exc:
            _, message = rpc_error(exc)
            if any(phrase in message for phrase in OVER_ALLOWANCE):
                raise GasLimitExceeded(f"gas estimate failed: {message}") from exc
            raise

    def _priority_fee(self) -> int:
        if self.priority_fee is not None:
            return self.priority_fee
        return self._call(lambda: int(self.w3.eth.max_priority_fee))

    def _capped(self, fee: int) -> int:
        return fee if self.max_fee_per_gas is None else min(fee, self.max_fee_per_gas)

    # -- sending -------------------------------------------------------------------------

    def _prepare(self, tx: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(tx) - set(_CALLER_FIELDS) - {"from", "chainId"}
        if unknown:
            raise TransactionRejected(f"unsupported transaction fields: {sorted(unknown)}")
        if "from" in tx and str(tx["from"]).lower() != self.address.lower():
            raise TransactionRejected(f"from must be the relayer {self.address}")
        fields = {key: tx[key] for key in _CALLER_FIELDS if key in tx}
        fields.setdefault("value", 0)
        fields.setdefault("data", b"")
        if "gas" in fields:
            if int(fields["gas"]) > self.gas_cap:
                raise GasLimitExceeded(f"gas {fields['gas']} is over the cap {self.gas_cap}")
        else:
            fields["gas"] = self.estimate_gas(fields)
        if not {"gasPrice", "maxFeePerGas"} & set(fields):
            fields.pop("type", None)
            fields.update(self.fees())
        fields["chainId"] = self.chain_id
        return fields

    def _send_prepared(self, prepared: list[dict[str, Any]]) -> list[PendingTx]:
        sent: list[PendingTx] = []
        with self._lock:
            for fields in prepared:
                sent.append(self._send_locked(fields))
        return sent

    def _send_locked(self, fields: dict[str, Any]) -> PendingTx:
        """Allocate the next nonce, sign, broadcast; the nonce is used up only on success."""
        for _ in range(3):
            if self._next_nonce is None:
                self._next_nonce = self._pending_nonce()
            nonce = self._next_nonce
            attempt = self._sign({**fields, "nonce": nonce})
            try:
                self._broadcast(attempt)
            except _NonceTakenError:
                log.warning("nonce %d already used on the node; resynchronising", nonce)
                self._next_nonce = max(nonce + 1, self._pending_nonce())
                continue
            except RpcUnavailable as exc:
                self._next_nonce = None  # it may or may not have reached the node
                raise RpcUnavailable(str(exc), tx_hash=attempt.tx_hash, nonce=nonce) from exc
            self._next_nonce = nonce + 1
            pending = PendingTx(nonce, [attempt], time.monotonic())
            self._in_flight[nonce] = pending
            log.info("sent nonce %d: %s", nonce, attempt.tx_hash)
            return pending
        raise NonceConflict("could not find a free nonce after 3 resynchronisations")

    def _pending_nonce(self) -> int:
        return self._call(
            lambda: int(self.w3.eth.get_transaction_count(self._account.address, "pending"))
        )

    def _sign(self, fields: Mapping[str, Any]) -> _Attempt:
        signed = self._account.sign_transaction(dict(fields))
        return _Attempt(_hex(signed.hash), bytes(signed.raw_transaction), dict(fields))

    def _broadcast(self, attempt: _Attempt) -> None:
        """Send signed bytes; success if the node has them, whichever reply it gives.

        Raises _NonceTakenError if the nonce is used by other bytes, TransactionRejected if the
        node refuses them, RpcUnavailable if transient errors outlast the retries.
        """
        try:
            self._call(lambda: self.w3.eth.send_raw_transaction(attempt.raw))
        except Web3RPCError as exc:
            _, message = rpc_error(exc)
            if any(phrase in message for phrase in ALREADY_KNOWN):
                return
            if any(p in message for p in NONCE_TOO_LOW + UNDERPRICED):
                if self._known(attempt.tx_hash):
                    return
                raise _NonceTakenError(message) from exc
            nonce = attempt.fields.get("nonce")
            raise TransactionRejected(
                f"node refused transaction: {message}",
                tx_hash=attempt.tx_hash,
                nonce=None if nonce is None else int(nonce),
            ) from exc

    def _known(self, tx_hash: str) -> bool:
        """Whether the node has this transaction, pending or mined."""
        try:
            self._call(lambda: self.w3.eth.get_transaction(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return True

    # -- waiting -------------------------------------------------------------------------

    def _receipt(self, pending: PendingTx) -> TxReceipt | None:
        for tx_hash in reversed(pending.hashes):
            try:
                return self._call(
                    lambda h=tx_hash: self.w3.eth.get_transaction_receipt(h)  # type: ignore[misc]
                )
            except TransactionNotFound:
                continue
        return None

    def _poll(self, pending: PendingTx, needed: int) -> Receipt | None:
        """One look at the chain: a confirmed canonical receipt, or None (after replacing
        or rebroadcasting the transaction if it is stuck or dropped)."""
        found = self._receipt(pending)
        if found is None:
            self._keep_alive(pending)
            return None
        head = self._call(lambda: int(self.w3.eth.block_number))
        number = int(found["blockNumber"])
        if head - number < needed:
            return None
        try:
            block = self._call(lambda: self.w3.eth.get_block(number))
        except BlockNotFound:
            block = None
        if block is None or HexBytes(block["hash"]) != HexBytes(found["blockHash"]):
            log.warning("nonce %d: block %d was reorged out; pending again", pending.nonce, number)
            return None
        return Receipt(
            tx_hash=_hex(found["transactionHash"]),
            nonce=pending.nonce,
            block_number=number,
            block_hash=_hex(found["blockHash"]),
            gas_used=int(found["gasUsed"]),
            effective_gas_price=int(found.get("effectiveGasPrice", 0)),
            status=int(found["status"]),
            contract_address=found.get("contractAddress"),
            logs=tuple(found["logs"]),
        )

    def _keep_alive(self, pending: PendingTx) -> None:
        """Rebroadcast a dropped transaction; replace a stuck one."""
        stuck = time.monotonic() - pending.last_broadcast >= self.stuck_after
        if not stuck and any(self._known(h) for h in reversed(pending.hashes)):
            return
        if stuck:
            self._fill_gaps(below=pending.nonce)
        latest = pending._latest()
        if stuck and not self.free_gas:
            attempt = self._sign(self._bumped(latest.fields))
            reason = "stuck; replacing with higher fees"
        else:
            attempt = latest
            reason = "stuck; rebroadcasting" if stuck else "dropped; rebroadcasting"
        log.warning("nonce %d %s: %s", pending.nonce, reason, attempt.tx_hash)
        try:
            self._broadcast(attempt)
        except _NonceTakenError as exc:
            if self._receipt(pending) is not None:
                return  # one of ours was mined meanwhile; the next poll picks it up
            if any(p in str(exc) for p in UNDERPRICED):
                log.warning("nonce %d: replacement underpriced; will bump again", pending.nonce)
                pending.last_broadcast = time.monotonic()
                return
            with self._lock:
                self._in_flight.pop(pending.nonce, None)
                self._next_nonce = None
            raise NonceConflict(
                f"nonce {pending.nonce} was used by a transaction this manager did not send",
                tx_hash=pending.tx_hash,
                nonce=pending.nonce,
            ) from exc
        if attempt.tx_hash not in pending.hashes:
            pending._add(attempt)
        pending.last_broadcast = time.monotonic()

    def _fill_gaps(self, *, below: int) -> None:
        """Rebroadcast our unmined transactions with lower nonces that the node has lost
        (after a node restart, say): a gap below a nonce keeps it from ever being mined."""
        mined = self._call(
            lambda: int(self.w3.eth.get_transaction_count(self._account.address, "latest"))
        )
        for earlier in self.in_flight():
            if not mined <= earlier.nonce < below:
                continue
            if any(self._known(h) for h in reversed(earlier.hashes)):
                continue
            attempt = earlier._latest()
            log.warning(
                "nonce %d lost by the node; rebroadcasting %s", earlier.nonce, attempt.tx_hash
            )
            try:
                self._broadcast(attempt)
            except _NonceTakenError:
                continue  # its own wait() sorts this out
            earlier.last_broadcast = time.monotonic()

    def _bumped(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The same transaction with fees raised by ``fee_bump`` (and to the market)."""
        bumped = dict(fields)
        market = self.fees()

        def bump(value: int) -> int:
            return max(math.ceil(value * (1 + self.fee_bump)), value + 1)

        if "maxFeePerGas" in fields:
            tip = max(
                bump(int(fields["maxPriorityFeePerGas"])), market.get("maxPriorityFeePerGas", 0)
            )
            bumped["maxPriorityFeePerGas"] = tip
            bumped["maxFeePerGas"] = max(
                bump(int(fields["maxFeePerGas"])), market.get("maxFeePerGas", 0), tip
            )
        else:
            bumped["gasPrice"] = max(bump(int(fields["gasPrice"])), market.get("gasPrice", 0))
        if self.max_fee_per_gas is not None:
            for key in ("gasPrice", "maxFeePerGas", "maxPriorityFeePerGas"):
                if key in bumped and bumped[key] > self.max_fee_per_gas:
                    log.warning("fee ceiling %d reached; not bumping further", self.max_fee_per_gas)
                    return dict(fields)
        return bumped

    def _replay_revert(self, pending: PendingTx, receipt: Receipt) -> str:
        """Revert data of a mined failed transaction, by replaying it (best effort)."""
        fields = pending.fields
        call = {key: fields[key] for key in ("to", "value", "data", "gas") if key in fields}
        call["from"] = self.address
        try:
            self.w3.eth.call(call, receipt.block_number - 1)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            return revert_data(exc)
        except Exception:  # best effort: the receipt already says it reverted
            log.debug("could not replay %s", receipt.tx_hash, exc_info=True)
        return "0x"

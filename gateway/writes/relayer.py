"""The real :class:`~gateway.writes.outbox.Relayer`: outbox batches to contract transactions.

``ContractRelayer(ledger, tx, private_key)`` implements the outbox's three steps over the
deployed suite (:class:`ledger.chain.client.Ledger`) and the relayer account:

``sign(batch)``
    Decode the stored records, build the call -- the kind's batch function (``postEvents``,
    ``registerBatch``, ``issueBatch``, ``drawDownBatch``, ``attestBatch``, ``revokeBatch``),
    its single-record function for one record, ``postEventBatch`` for the events of one
    signed batch (``Batch.signed_batch``), ``attestSignedBatch`` / ``drawDownSignedBatch`` for
    the attestations / drawdowns of one -- and run it as ``eth_call`` from the relayer on
    the *pending* block. A revert names the record to blame: ``BatchItemFailed(i, cause)``
    blames item ``i``, a single call (or a signed batch's own error) its record; either
    raises :class:`~gateway.errors.RecordRejected` (the outbox fails it unsent -- with all
    of its signed batch -- with the contract error's name as the code). Then the gas: once
    the per-item gas of the kind is known (from its first estimate), ``items x per-item x
    margin`` plus a base, at most the cap, and the pre-validation runs with that gas, so too
    little is found there (then, and before the first, ``eth_estimateGas``); a batch over
    the per-transaction cap (EIP-7825's 16,777,216, or the block gas limit) lowers the
    kind's limit and raises :class:`~gateway.errors.BatchTooLarge`. Events that the intake
    ran on the pending block moments ago (``OutboxRecord.simulated_at``, within
    ``trust_intake_s``, never sent before) are not run again (see
    :meth:`ContractRelayer._simulated_by_intake`). Finally sign locally at the next nonce.
    Nothing is sent.

``broadcast(batch, tx)``
    ``eth_sendRawTransaction`` of the stored bytes. Idempotent: "already known", or "nonce
    too low" while the node knows our hash, is success.

``receipt(batch, tx)``
    Mined: per-record log index from the receipt's
    logs (the kind's log, matched by address and topic, in item order, see
    :data:`gateway.writes.kinds.KIND_EVENTS`); reverted having used all its gas: nobody's fault, the
    per-item gas is raised and the records are batched again (``isolate=False``); reverted
    otherwise: the culprit from replaying the call on the parent block; not mined but known
    to the node: pending; unknown with the account's nonce (at the confirmed block) past
    ours: dropped; otherwise unknown (the outbox sends the same bytes again). A mined batch is
    ``final`` once its block is buried under ``confirmations`` blocks (the network's finality
    depth); before that the outbox asks again, and compares the block's hash with
    ``block_state(number, hash)`` to notice a block that was replaced.

Nonces without gaps: the nonce of a new transaction is the larger of the node's pending
count and one past the highest nonce of this relayer's *stored* transactions that are still
live (learnt from ``broadcast`` and ``receipt``, which the outbox calls only for stored
transactions, and after a restart for every live one before it signs anything new). A
signed transaction that was never stored (crash or conflict before the outbox commit) leaves
no trace, so its nonce is simply used again.

Batch size: at most the submitter's ``max_batch``; per kind the relayer learns the gas of one
item from its estimates and keeps batches under ``gas_cap / gas_margin`` (see
:meth:`ContractRelayer.batch_limit`).

``TxManager`` offers no public "sign without sending" or "broadcast these raw bytes", so the
relayer signs with eth-account itself and broadcasts with ``send_raw_transaction``; it uses
the manager's public ``fees``, ``gas_cap``, ``chain_id`` and ``address``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint

from gateway.errors import BatchTooLarge, RecordRejected
from gateway.models.stored import RecordKind
from gateway.writes.kinds import (
    BATCH_DEADLINE_KEY,
    BATCH_FUNCTIONS,
    KIND_EVENTS,
    UNSIGNED,
    decode,
    decode_record,
)
from gateway.writes.outbox import Batch, BatchResult, BlockState, RecordOutcome, SignedTx, TxState
from ledger.chain import (
    ALREADY_KNOWN,
    NONCE_TOO_LOW,
    BatchItemFailed,
    ContractClient,
    ContractError,
    Ledger,
    TxManager,
    decode_revert,
    is_transient,
    revert_data,
    rpc_error,
)
from ledger.errors import ConfigurationError, ValidationError
from ledger.records import (
    Attestation,
    ConsignmentEvent,
    Drawdown,
    Proposal,
    SignedAttestationBatch,
    SignedDrawdownBatch,
    SignedRecord,
)

__all__ = ["ContractRelayer"]

logger = logging.getLogger("gateway.relayer")

_OUT_OF_GAS = (
    "out of gas",
    "outofgas",
    "gas required exceeds",
    "exceeds block gas limit",
    "gas limit",
)
_DEFAULT_LIMIT = 200
MAX_CALLDATA_BYTES = 120_000
"""Most bytes of one transaction's calldata. go-ethereum and GoQuorum nodes refuse a
transaction over 128 KiB (``oversized data``) whatever its gas; 120,000 leaves room for the
envelope and the signature."""
_BASE_GAS = 60_000  # a transaction's own cost beyond its items (21,000 and the call)
_DEADLINE_MARGIN_S = 300  # a record this close to its deadline is pre-validated


def _int(value: Any) -> int:
    """A quantity of a raw JSON-RPC answer (0x-hex) or of a formatted one (int)."""
    return int(value, 16) if isinstance(value, str) else int(value)


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


class ContractRelayer:
    """Relays outbox batches through the contracts from one relayer account (thread-safe)."""

    def __init__(
        self,
        ledger: Ledger,
        tx: TxManager,
        private_key: str | bytes,
        *,
        confirmations: int = 0,
        gas_margin: float = 1.2,
        default_limit: int = _DEFAULT_LIMIT,
        gas_cap: int | None = None,
        trust_intake_s: float = 30.0,
        max_calldata_bytes: int | None = MAX_CALLDATA_BYTES,
    ) -> None:
        self.ledger = ledger
        self.w3 = ledger.w3
        self.tx = tx
        self._account: LocalAccount = Account.from_key(private_key)
        if self._account.address.lower() != tx.address.lower():
            raise ConfigurationError("the relayer key is not the transaction manager's account")
        self.confirmations = confirmations
        self.gas_margin = gas_margin
        self.default_limit = default_limit
        self._gas_cap = gas_cap
        self.trust_intake_s = trust_intake_s
        """Events simulated by the intake this recently are not pre-validated again (0: all
        are); see :meth:`_simulated_by_intake`."""
        self._lock = threading.Lock()
        self._live: dict[str, int] = {}  # tx hash -> nonce of stored, not final, transactions
        self._item_gas: dict[str, float] = {}  # per-item gas by kind (see _gas_class)
        self.max_calldata_bytes = max_calldata_bytes
        self._item_bytes: dict[str, float] = {}  # per-item calldata bytes by kind
        self._kind_logs: dict[RecordKind, frozenset[tuple[str, bytes]]] = {}

    @property
    def address(self) -> str:
        return str(self._account.address)

    @property
    def gas_cap(self) -> int:
        """Most gas of one transaction: EIP-7825's cap or the block gas limit (or as given)."""
        return self.tx.gas_cap if self._gas_cap is None else min(self._gas_cap, self.tx.gas_cap)

    # --- batch sizing -------------------------------------------------------------------

    def batch_limit(self, kind: RecordKind) -> int:
        """How many records of ``kind`` go in one transaction.

        One for kinds without a batch function; otherwise what fits under the gas cap at the
        per-item gas seen so far (``default_limit`` before the first estimate), and under
        :attr:`max_calldata_bytes` (None: no limit, as on anvil) at the per-item calldata seen
        so far.
        """
        if kind not in BATCH_FUNCTIONS:
            return 1
        limit = self.default_limit
        per_item = self._item_gas.get(kind.value)
        if per_item is not None:
            limit = math.floor(self.gas_cap / self.gas_margin / per_item)
        per_item_bytes = self._item_bytes.get(kind.value)
        if per_item_bytes is not None and self.max_calldata_bytes is not None:
            limit = min(limit, math.floor(self.max_calldata_bytes / per_item_bytes))
        return max(1, limit)

    # --- the three steps ----------------------------------------------------------------

    def sign(self, batch: Batch) -> SignedTx:
        client, data = self._call_for(batch)
        self._check_size(batch, len(data))
        request: dict[str, Any] = {"from": self.address, "to": client.address, "data": data}
        gas = self._known_gas(batch)
        if gas is not None and self._simulated_by_intake(batch):
            pass  # just run on the pending block, in this order, by the intake: not again
        # With the per-item gas of this kind known, the pre-validation runs with the gas the
        # transaction will have, so a batch that would run out of it is found here.
        elif gas is not None and not self._prevalidate(
            batch, {**request, "gas": gas}, gas_given=True
        ):
            logger.info(
                "batch %s: %d gas from the per-item gas is too little; estimating",
                batch.batch_id,
                gas,
            )
            gas = None
        if gas is None:
            self._prevalidate(batch, request)
            gas = self._estimate(batch, request)
        with self._lock:
            nonce = self._next_nonce()
            fields: dict[str, Any] = {
                "to": client.address,
                "data": data,
                "value": 0,
                "gas": gas,
                "nonce": nonce,
                "chainId": self.tx.chain_id,
                **self.tx.fees(),
            }
            signed = self._account.sign_transaction(fields)
        tx_hash = HexBytes(signed.hash).to_0x_hex()
        logger.debug(
            "signed batch %s (%s x%d) nonce %d",
            batch.batch_id,
            batch.kind,
            len(batch.records),
            nonce,
        )
        return SignedTx(tx_hash, bytes(signed.raw_transaction), nonce)

    def broadcast(self, batch: Batch, tx: SignedTx) -> None:
        if tx.nonce is not None:
            with self._lock:
                self._live[tx.tx_hash] = tx.nonce
        try:
            self.w3.eth.send_raw_transaction(tx.raw_tx)
        except Web3RPCError as exc:
            message = rpc_error(exc)[1]
            if any(phrase in message for phrase in ALREADY_KNOWN):
                return
            if any(phrase in message for phrase in NONCE_TOO_LOW) and self._known(tx.tx_hash):
                return
            raise
        logger.info("batch %s sent: %s (nonce %s)", batch.batch_id, tx.tx_hash, tx.nonce)

    def receipt(self, batch: Batch, tx: SignedTx) -> BatchResult:
        found = self._raw_receipt(tx.tx_hash)
        if found is None:
            return self._not_mined(tx)
        number = _int(found["blockNumber"])
        block_hash = HexBytes(found["blockHash"]).to_0x_hex()
        if _int(found["status"]) == 1:
            # Mined: the records are confirmed now, final once the block is buried under
            # ``confirmations`` blocks. Until then the nonce stays taken (the outbox checks the
            # batch again, and sends the same bytes again if its block is replaced).
            final = int(self.w3.eth.block_number) - number >= self.confirmations
            if final:
                self._forget(tx)
            else:
                self._remember(tx)
            return BatchResult(
                TxState.MINED,
                number,
                block_hash,
                self._outcomes(batch, found["logs"]),
                final=final,
            )
        self._forget(tx)
        if self._ran_out_of_gas(batch, tx, _int(found["gasUsed"])):
            # Not a record's fault: the per-item gas was too low. Learn more, batch again.
            self._too_large(batch, "ran out of gas on chain")
            return BatchResult(
                TxState.REVERTED,
                number,
                block_hash,
                reason="out of gas",
                isolate=False,
            )
        outcomes, reason = self._blame(batch, number)
        return BatchResult(TxState.REVERTED, number, block_hash, outcomes, reason=reason)

    # --- helpers ------------------------------------------------------------------------

    def _call_for(self, batch: Batch) -> tuple[ContractClient, bytes]:
        """The contract and calldata that record the batch (ValidationError if malformed)."""
        kind = batch.kind
        if kind in UNSIGNED:
            if len(batch.records) != 1:
                raise ValueError("an execution travels alone")
            record = decode_record(kind, batch.records[0].payload)
            assert isinstance(record, Proposal)
            membership: ContractClient = self.ledger.membership
            return membership, membership.calldata("execute", record.onchain())
        if batch.signed_batch is not None and kind in (RecordKind.ATTESTATION, RecordKind.DRAWDOWN):
            # attestSignedBatch / drawDownSignedBatch(records, deadline, sig): the records as
            # stored (checked at the intake, whose simulation ran this very call), the batch's
            # deadline (kept with each record) and signature.
            stored = batch.records[0]
            deadline = stored.payload.get(BATCH_DEADLINE_KEY)
            if isinstance(deadline, bool) or not isinstance(deadline, int):
                raise ValidationError(BATCH_DEADLINE_KEY, "must be the batch's deadline", deadline)
            signature = decode(kind, stored.payload, stored.signature).signature
            signed_batch: SignedAttestationBatch | SignedDrawdownBatch
            if kind is RecordKind.ATTESTATION:
                signed_batch = SignedAttestationBatch(
                    tuple(Attestation.from_message(r.payload) for r in batch.records),
                    deadline,
                    signature,
                )
            else:
                signed_batch = SignedDrawdownBatch(
                    tuple(Drawdown.from_message(r.payload) for r in batch.records),
                    deadline,
                    signature,
                )
            client, function, args = self.ledger.call_for(signed_batch)
            return client, client.calldata(function, *args)
        if batch.signed_batch is not None:
            # postEventBatch(records, nonce, deadline, sig): the events as stored (checked at
            # the intake, whose simulation ran this very call), the batch's signature.
            events = [ConsignmentEvent.from_message(r.payload) for r in batch.records]
            first = decode(kind, batch.records[0].payload, batch.records[0].signature)
            consignments: ContractClient = self.ledger.consignments
            args = (
                [event.onchain() for event in events],
                events[0].nonce,
                events[0].deadline,
                first.sig(),
            )
            return consignments, consignments.calldata("postEventBatch", *args)
        signed: list[SignedRecord[Any]] = [
            decode(kind, r.payload, r.signature) for r in batch.records
        ]
        if len(signed) == 1:
            client, function, args = self.ledger.call_for(signed[0])
        else:
            client, function, args = self.ledger.batch_call_for(signed)
        return client, client.calldata(function, *args)

    def _prevalidate(
        self, batch: Batch, request: Mapping[str, Any], *, gas_given: bool = False
    ) -> bool:
        """Run the batch as ``eth_call`` on the pending block; raise for a record to blame.

        Returns False when it ran out of the gas given (``gas_given``): the caller estimates
        instead. Without a gas limit, running out of gas means the batch is too large.
        """
        try:
            self.w3.eth.call(dict(request), "pending")  # type: ignore[arg-type]
        except ContractLogicError as exc:
            error = decode_revert(revert_data(exc))
            culprit = self._culprit(batch, error)
            if culprit is None:
                if gas_given:
                    return False  # no record named: with the gas given, estimate instead
                if self._out_of_gas(batch, str(exc)):
                    raise self._too_large(batch, "ran out of gas in eth_call") from exc
                raise  # not a record's fault (e.g. RelayerNotAllowed): transient, retried
            record_id, cause = culprit
            raise RecordRejected(record_id, str(cause), code=cause.name) from exc
        except Web3RPCError as exc:
            # Out of the gas given shows as OutOfGas, ReentrancySentryOOG, ...: estimate.
            if gas_given and not is_transient(exc):
                return False
            if self._out_of_gas(batch, rpc_error(exc)[1]):
                raise self._too_large(batch, "ran out of gas in eth_call") from exc
            raise
        return True

    def _simulated_by_intake(self, batch: Batch) -> bool:
        """Whether the pre-validation may be skipped: events the intake ran on the pending
        block (with the others of their request) less than ``trust_intake_s`` ago, never in
        a transaction before, with their deadline five minutes away at least.

        What the intake cannot have seen (a key revoked since, a nonce taken by a record
        of another gateway) makes the transaction revert: the receipt then blames the
        record (replayed on the parent block), which fails alone, and the others are sent
        again, pre-validated (``attempts`` > 0). Nothing is lost or recorded twice.
        """
        if self.trust_intake_s <= 0 or batch.kind is not RecordKind.EVENT:
            return False
        now = time.time()
        for record in batch.records:
            if record.simulated_at is None or record.attempts or record.isolate:
                return False
            if now - record.simulated_at.timestamp() > self.trust_intake_s:
                return False
            if int(record.payload.get("deadline", 0)) < now + _DEADLINE_MARGIN_S:
                return False
        return True

    @staticmethod
    def _gas_class(batch: Batch) -> str:
        """What the per-item gas is learnt for: the kind, or a signed batch of the kind
        (``event_batch``, ``attestation_batch``, ``drawdown_batch``)."""
        kind = batch.kind.value
        return f"{kind}_batch" if batch.signed_batch is not None else kind

    def _known_gas(self, batch: Batch) -> int | None:
        """The gas of the batch from the per-item gas learnt so far (None: estimate it).

        ``items x per-item x margin`` plus the transaction's base cost, at most the cap; the
        pre-validation call runs with it, so too little is found before anything is sent.
        """
        count = len(batch.records)
        if count < 2 or (batch.kind not in BATCH_FUNCTIONS and batch.signed_batch is None):
            return None
        per_item = self._item_gas.get(self._gas_class(batch))
        if per_item is None:
            return None
        return min(self.gas_cap, math.ceil(count * per_item * self.gas_margin) + _BASE_GAS)

    @staticmethod
    def _out_of_gas(batch: Batch, message: str) -> bool:
        """A multi-record batch the node could not even run: too big, not a record's fault."""
        text = message.lower()
        return len(batch.records) > 1 and any(phrase in text for phrase in _OUT_OF_GAS)

    def _check_size(self, batch: Batch, size: int) -> None:
        """Learn the kind's calldata per record; refuse a transaction the nodes would not take:
        a batch that can be split is batched again smaller (BatchTooLarge), a record or a signed
        batch that cannot fails (RecordRejected, ``TransactionTooLarge``)."""
        count = len(batch.records)
        if batch.kind in BATCH_FUNCTIONS and batch.signed_batch is None:
            self._item_bytes[batch.kind.value] = max(
                self._item_bytes.get(batch.kind.value, 0.0), size / count
            )
        if self.max_calldata_bytes is None or size <= self.max_calldata_bytes:
            return
        if count > 1 and batch.signed_batch is None:
            fits = max(1, math.floor(self.max_calldata_bytes * count / size))
            raise BatchTooLarge(
                f"{count} {batch.kind} records are {size} bytes of calldata; the network takes "
                f"{self.max_calldata_bytes}: at most {fits} next"
            )
        raise RecordRejected(
            batch.records[0].record_id,
            f"the transaction would carry {size} bytes of calldata; nodes take at most "
            f"{self.max_calldata_bytes} in one transaction (sign fewer records together)",
            code="TransactionTooLarge",
        )

    def _too_large(self, batch: Batch, why: str) -> BatchTooLarge:
        """Halve the kind's limit (at least) and say so; the records are batched again."""
        count = len(batch.records)
        smaller = max(1, count // 2)
        gas_class = self._gas_class(batch)
        self._item_gas[gas_class] = max(
            self._item_gas.get(gas_class, 0.0), self.gas_cap / self.gas_margin / smaller
        )
        return BatchTooLarge(f"{count} {batch.kind} records {why}; at most {smaller} next")

    @staticmethod
    def _culprit(batch: Batch, error: ContractError) -> tuple[str, ContractError] | None:
        if isinstance(error, BatchItemFailed) and 0 <= error.index < len(batch.records):
            return batch.records[error.index].record_id, error.cause
        alone = len(batch.records) == 1 or batch.signed_batch is not None
        if alone and error.name != "RelayerNotAllowed":
            # A signed batch's own errors (signer, nonce, deadline) are all of its records'.
            return batch.records[0].record_id, error
        return None

    def _estimate(self, batch: Batch, request: Mapping[str, Any]) -> int:
        count = len(batch.records)
        try:
            # On the pending block, as the pre-validation: on a chain that makes no block while
            # idle, the latest block is minutes old and a record stamped now is "in the future".
            estimate = int(
                self.w3.eth.estimate_gas(dict(request), "pending")  # type: ignore[arg-type]
            )
        except (ContractLogicError, Web3RPCError) as exc:
            if self._out_of_gas(batch, str(exc)):
                raise self._too_large(batch, "exceed the node's gas allowance") from exc
            if isinstance(exc, ContractLogicError):
                # The chain moved since the pre-validation: blame the record it names, if any.
                culprit = self._culprit(batch, decode_revert(revert_data(exc)))
                if culprit is not None:
                    record_id, cause = culprit
                    raise RecordRejected(record_id, str(cause), code=cause.name) from exc
            raise
        if batch.kind in BATCH_FUNCTIONS or batch.signed_batch is not None:
            self._item_gas[self._gas_class(batch)] = estimate / count
        cap = self.gas_cap
        gas = math.ceil(estimate * self.gas_margin)
        if gas > cap:
            if count > 1:
                raise BatchTooLarge(
                    f"{count} {batch.kind} records need {estimate} gas; the cap is {cap}"
                )
            gas = cap  # one record: the estimate fits, the margin is trimmed
        return gas

    def block_state(self, block_number: int, block_hash: str) -> BlockState:
        """Whether the block is final, on the chain but not final yet, or replaced (raw
        requests: no formatting of a header the outbox only compares)."""
        response = self.w3.provider.make_request(
            RPCEndpoint("eth_getBlockByNumber"), [hex(block_number), False]
        )
        if "error" in response:
            raise Web3RPCError(str(response["error"]), rpc_response=response)
        block = response.get("result")
        if not isinstance(block, Mapping) or block.get("hash") is None:
            return BlockState.REPLACED  # the chain is shorter than that now
        if HexBytes(block["hash"]).to_0x_hex() != HexBytes(block_hash).to_0x_hex():
            return BlockState.REPLACED
        if int(self.w3.eth.block_number) - block_number >= self.confirmations:
            return BlockState.FINAL
        return BlockState.UNFINAL

    def _raw_receipt(self, tx_hash: str) -> Mapping[str, Any] | None:
        """The receipt as the node sends it (hex strings): a batch's receipt has a thousand
        logs, and web3's formatting of them (a checksum per address) costs more than the
        rest of following the transaction."""
        response = self.w3.provider.make_request(
            RPCEndpoint("eth_getTransactionReceipt"), [tx_hash]
        )
        if "error" in response:
            raise Web3RPCError(str(response["error"]), rpc_response=response)
        result = response.get("result")
        return result if isinstance(result, Mapping) else None

    def _ran_out_of_gas(self, batch: Batch, tx: SignedTx, gas_used: int) -> bool:
        """A reverted batch that used all its gas (several records: not a record's fault)."""
        if len(batch.records) < 2:
            return False
        try:
            sent = self.w3.eth.get_transaction(tx.tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            return False
        return gas_used >= int(sent["gas"])

    def _next_nonce(self) -> int:
        pending = int(self.w3.eth.get_transaction_count(self._account.address, "pending"))
        live = max(self._live.values(), default=-1) + 1
        return max(pending, live)

    def _remember(self, tx: SignedTx) -> None:
        if tx.nonce is not None:
            with self._lock:
                self._live[tx.tx_hash] = tx.nonce

    def _forget(self, tx: SignedTx) -> None:
        with self._lock:
            self._live.pop(tx.tx_hash, None)

    def _known(self, tx_hash: str) -> bool:
        """Whether the node knows the transaction (raw: its formatted form is 200 kB)."""
        response = self.w3.provider.make_request(RPCEndpoint("eth_getTransactionByHash"), [tx_hash])
        if "error" in response:
            raise Web3RPCError(str(response["error"]), rpc_response=response)
        return response.get("result") is not None

    def _not_mined(self, tx: SignedTx) -> BatchResult:
        if self._known(tx.tx_hash):
            self._remember(tx)
            return BatchResult(TxState.PENDING)
        if tx.nonce is not None:
            head = int(self.w3.eth.block_number)
            at = max(0, head - self.confirmations)
            used = int(self.w3.eth.get_transaction_count(self._account.address, at))
            if used > tx.nonce:
                self._forget(tx)
                return BatchResult(
                    TxState.DROPPED, reason=f"nonce {tx.nonce} was used by another transaction"
                )
        self._remember(tx)
        return BatchResult(TxState.UNKNOWN)

    def _log_keys(self, kind: RecordKind) -> frozenset[tuple[str, bytes]]:
        """(contract address, topic 0) of the logs a record of ``kind`` emits once."""
        keys = self._kind_logs.get(kind)
        if keys is None:
            wanted = KIND_EVENTS[kind]
            keys = frozenset(
                (client.address.lower(), event.topic0)
                for client in self.ledger.clients.values()
                for event in client.abi.events.values()
                if event.name in wanted
            )
            self._kind_logs[kind] = keys
        return keys

    def _outcomes(self, batch: Batch, logs: Sequence[Any]) -> dict[str, RecordOutcome]:
        # Matched by address and topic, not decoded: a batch has a thousand logs.
        keys = self._log_keys(batch.kind)
        indices = sorted(
            _int(entry["logIndex"])
            for entry in logs
            if entry["topics"]
            and (str(entry["address"]).lower(), _bytes(entry["topics"][0])) in keys
        )
        outcomes: dict[str, RecordOutcome] = {}
        for position, record in enumerate(batch.records):
            index = indices[position] if position < len(indices) else None
            outcomes[record.record_id] = RecordOutcome(ok=True, log_index=index)
        return outcomes

    def _blame(self, batch: Batch, block: int) -> tuple[dict[str, RecordOutcome], str]:
        """Replay a reverted batch on its parent block to find the item to blame."""
        try:
            client, data = self._call_for(batch)
            self.w3.eth.call(
                {"from": self.address, "to": client.address, "data": data},
                block - 1,
            )
        except ContractLogicError as exc:
            error = decode_revert(revert_data(exc))
            culprit = self._culprit(batch, error)
            if culprit is not None:
                record_id, cause = culprit
                return {
                    record_id: RecordOutcome(ok=False, code=cause.name, reason=str(cause))
                }, str(error)
            return {}, str(error)
        except Exception as exc:  # best effort: the receipt already says it reverted
            logger.warning("could not replay reverted batch %s: %r", batch.batch_id, exc)
        return {}, "transaction reverted"

"""The chain reads of one verification: raw JSON-RPC, in one batch request where they can be
known in advance.

:class:`ChainReads` answers contract calls, log queries and block headers for one
verification; :meth:`ChainReads.served` gives typed clients (``key_info``, ``head``, ...) whose
calls come from the batch. :func:`log_ranges` chooses the ``eth_getLogs`` block ranges that
cover a consignment's records and little else.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final, TypeVar

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from ledger.chain import ContractClient, Ledger, decode_revert, shared_transport
from ledger.errors import VerificationError
from ledger.index import DEFAULT_SPAN

__all__ = ["ChainReads", "checksummed", "log_ranges", "topic_address"]

log = logging.getLogger("ledger.verify.engine")

_ClientT = TypeVar("_ClientT", bound=ContractClient)
_ReadKey = tuple[Any, ...]
_LOG_SPAN: Final = DEFAULT_SPAN  # largest eth_getLogs block range asked for at once
_MAX_LOG_QUERIES: Final = 64  # eth_getLogs requests per verification, at most (span allowing)


class ChainReads:
    """The chain reads of one verification: contract calls, log queries and a block header,
    sent as raw JSON-RPC (no web3 middleware round trips, no result formatters), those known
    in advance in one batch request (:meth:`want_call`, :meth:`want_logs`, then
    :meth:`flush`). Each answer is kept for the rest of the verification only, so every
    verification reads the chain afresh; a read that was not asked for in advance is sent on
    its own when it is needed. A revert is raised as the contract's error (as
    :meth:`ledger.chain.client.ContractClient.call` does), where the answer is used.

    The requests go through the provider's persistent-connection transport
    (:func:`ledger.chain.jsonrpc.shared_transport`) when the ledger's provider is a plain HTTP
    provider, through the provider itself otherwise; the answers are the same."""

    def __init__(self, ledger: Ledger) -> None:
        provider = ledger.w3.provider
        self._provider: Any = shared_transport(provider) or provider
        self._answers: dict[_ReadKey, Any] = {}
        self._pending: dict[_ReadKey, tuple[str, list[Any]]] = {}

    # -- what to read ---------------------------------------------------------------------

    @staticmethod
    def _call_key(
        client: ContractClient, function: str, args: tuple[Any, ...], block: int | str
    ) -> _ReadKey:
        return ("call", client.address, function, args, block)

    @staticmethod
    def _call_request(
        client: ContractClient, function: str, args: tuple[Any, ...], block: int | str
    ) -> tuple[str, list[Any]]:
        request: dict[str, Any] = {
            "to": client.address,
            "data": "0x" + client.abi.fn(function).encode(*args).hex(),
        }
        if client.tx is not None:  # as ContractClient.call: from the relayer when it has one
            request["from"] = client.tx.address
        return "eth_call", [request, hex(block) if isinstance(block, int) else block]

    @staticmethod
    def _logs_request(
        address: str, topics: Sequence[Any], start: int, end: int
    ) -> tuple[_ReadKey, tuple[str, list[Any]]]:
        frozen = tuple(t if isinstance(t, str) else tuple(t) for t in topics)
        query = {
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "address": address,
            "topics": [t if isinstance(t, str) else list(t) for t in topics],
        }
        return ("logs", address.lower(), frozen, start, end), ("eth_getLogs", [query])

    def want_call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> None:
        key = self._call_key(client, function, args, block)
        if key not in self._answers and key not in self._pending:
            self._pending[key] = self._call_request(client, function, args, block)

    def want_logs(self, address: str, topics: Sequence[Any], start: int, end: int) -> None:
        key, request = self._logs_request(address, topics, start, end)
        if key not in self._answers:
            self._pending[key] = request

    def want_block(self, number: int) -> None:
        key = ("block", number)
        if key not in self._answers:
            self._pending[key] = ("eth_getBlockByNumber", [hex(number), False])

    def flush(self) -> None:
        """Send what is wanted and not answered yet, in one batch request."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        keys = list(pending)
        requests = [pending[k] for k in keys]
        batch = getattr(self._provider, "make_batch_request", None)
        responses: Any = None
        if batch is not None and len(requests) > 1:
            responses = batch(requests)
            if not isinstance(responses, list):  # a node that takes no batches: one by one
                log.info("the node refused a batch request (%s): sending one by one", responses)
                responses = None
            elif len(responses) != len(requests):
                raise VerificationError(
                    f"the node answered {len(responses)} of {len(requests)} batched requests"
                )
        if responses is None:
            responses = [self._provider.make_request(m, p) for m, p in requests]
        for key, (method, _), response in zip(keys, requests, responses, strict=True):
            self._answers[key] = self._answer(method, response)

    @staticmethod
    def _answer(method: str, response: Mapping[str, Any]) -> Any:
        """The result, or the error to raise where it is used."""
        error = response.get("error")
        if error is None:
            return response.get("result")
        if method == "eth_call" and isinstance(error, Mapping):
            data = error.get("data")
            if isinstance(data, Mapping):
                data = data.get("data")
            reverted = "revert" in str(error.get("message", "")).lower()
            if reverted or (isinstance(data, str) and data.startswith("0x")):
                return decode_revert(data if isinstance(data, str) else None)
        return VerificationError(f"{method} failed on the node: {error}")

    def _get(self, key: _ReadKey, request: tuple[str, list[Any]] | None = None) -> Any:
        """The answer for ``key`` (sent now, with what else is pending, if not in yet)."""
        if key not in self._answers:
            if request is not None:
                self._pending[key] = request
            self.flush()
        answer = self._answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer

    # -- answers --------------------------------------------------------------------------

    def raw_call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> str:
        """The node's answer to ``function(*args)`` as it came (``0x`` hex), the revert raised
        as :meth:`call` raises it."""
        key = self._call_key(client, function, args, block)
        if key not in self._answers:
            self._pending[key] = self._call_request(client, function, args, block)
        return str(self._get(key))

    def call(
        self, client: ContractClient, function: str, *args: Any, block: int | str = "latest"
    ) -> Any:
        """As :meth:`ContractClient.call`: the decoded output of ``function(*args)``."""
        raw = self.raw_call(client, function, *args, block=block)
        return client.abi.fn(function).decode_output(bytes.fromhex(raw[2:]))

    def logs(
        self, address: str, topics: Sequence[Any], start: int, end: int
    ) -> list[dict[str, Any]]:
        """``eth_getLogs`` as the node answers it (hex strings)."""
        key, request = self._logs_request(address, topics, start, end)
        answer: list[dict[str, Any]] = self._get(key, request) or []
        return answer

    def block_time(self, number: int) -> int:
        header = self._get(("block", number), ("eth_getBlockByNumber", [hex(number), False]))
        if header is None:
            raise VerificationError(f"the node has no block {number}")
        return int(header["timestamp"], 16)

    def served(self, client: _ClientT) -> _ClientT:
        """A copy of ``client`` whose reads are answered here: its typed methods
        (``key_info``, ``head``, ...) stay the client's own, their calls come from the batch."""
        clone = copy.copy(client)

        def call(function: str, *args: Any, block: int | str = "latest") -> Any:
            return self.call(client, function, *args, block=block)

        clone.call = call  # type: ignore[method-assign]
        return clone


@lru_cache(maxsize=4096)
def checksummed(address: str) -> ChecksumAddress:
    return to_checksum_address(address)


def topic_address(address: str) -> str:
    """An address as an indexed topic (left-padded to 32 bytes), lower-case 0x-hex."""
    return "0x" + address.lower().removeprefix("0x").rjust(64, "0")


def log_ranges(
    blocks: Iterable[int], *, span: int = _LOG_SPAN, most: int = _MAX_LOG_QUERIES
) -> list[tuple[int, int]]:
    """``eth_getLogs`` block ranges that cover ``blocks`` and as little else as they can.

    A node reads every log of every block in a range (blocks full of other consignments'
    batches fill their bloom filters), so a range should not hold blocks without a record:
    the ranges are the runs of adjacent blocks; if there would be more than ``most``, the
    narrowest gaps between them are closed first. No range holds more than ``span`` blocks."""
    ordered = sorted({b for b in blocks if b >= 0})
    if not ordered:
        return []
    gaps = sorted(
        (i for i in range(1, len(ordered)) if ordered[i] - ordered[i - 1] > 1),
        key=lambda i: ordered[i] - ordered[i - 1],
        reverse=True,
    )
    breaks = set(gaps[: max(most - 1, 0)])
    out: list[tuple[int, int]] = []
    start = previous = ordered[0]
    for i, block in enumerate(ordered[1:], start=1):
        if i in breaks or block - start >= span:
            out.append((start, previous))
            start = block
        previous = block
    out.append((start, previous))
    return out

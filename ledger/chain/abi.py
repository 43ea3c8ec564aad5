"""ABI encoding and decoding from the build artifacts: calls, events and custom errors.

Small and fast on purpose: calldata is ``selector ‖ abi.encode(args)`` with eth-abi, and logs
are decoded by topic0 without building web3 contract objects. Custom errors are decoded into
:class:`ContractError` subclasses (see :mod:`ledger.chain.contract_errors`), with the message taken
from the NatSpec ``@notice`` that the contract interfaces carry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from ledger.chain.toolchain import ARTIFACTS_DIR, load_artifact

__all__ = [
    "AbiEvent",
    "AbiFunction",
    "ContractAbi",
    "DecodedLog",
    "ErrorSpec",
    "abi_type",
    "contract_abi",
    "error_specs",
]


def abi_type(param: Mapping[str, Any]) -> str:
    """The canonical type of an ABI parameter (tuples spelled out)."""
    kind: str = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _named(params: Sequence[Mapping[str, Any]], values: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param, value in zip(params, values, strict=True):
        if param["type"] == "tuple":
            value = _named(param["components"], value)
        elif param["type"] == "tuple[]":
            value = [_named(param["components"], v) for v in value]
        out[param["name"]] = value
    return out


@dataclass(frozen=True, slots=True)
class AbiFunction:
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[Mapping[str, Any], ...]
    selector: bytes

    @classmethod
    def from_abi(cls, entry: Mapping[str, Any]) -> AbiFunction:
        inputs = tuple(abi_type(p) for p in entry["inputs"])
        signature = f"{entry['name']}({','.join(inputs)})"
        return cls(entry["name"], inputs, tuple(entry["outputs"]), keccak(text=signature)[:4])

    def encode(self, *args: Any) -> bytes:
        return self.selector + encode(list(self.inputs), list(args))

    def decode_output(self, data: bytes) -> Any:
        types = [abi_type(p) for p in self.outputs]
        values = decode(types, data)
        if len(self.outputs) == 1:
            value = values[0]
            if self.outputs[0]["type"] == "tuple":
                return _named(self.outputs[0]["components"], value)
            if self.outputs[0]["type"] == "tuple[]":
                return [_named(self.outputs[0]["components"], v) for v in value]
            return value
        return _named(self.outputs, values)


@dataclass(frozen=True, slots=True)
class DecodedLog:
    """One decoded contract log."""

    contract: str
    event: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    tx_index: int


@dataclass(frozen=True, slots=True)
class AbiEvent:
    name: str
    topic0: bytes
    indexed: tuple[Mapping[str, Any], ...]
    data: tuple[Mapping[str, Any], ...]
    order: tuple[str, ...]

    @classmethod
    def from_abi(cls, entry: Mapping[str, Any]) -> AbiEvent:
        types = ",".join(abi_type(p) for p in entry["inputs"])
        return cls(
            name=entry["name"],
            topic0=keccak(text=f"{entry['name']}({types})"),
            indexed=tuple(p for p in entry["inputs"] if p["indexed"]),
            data=tuple(p for p in entry["inputs"] if not p["indexed"]),
            order=tuple(p["name"] for p in entry["inputs"]),
        )

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for param, topic in zip(self.indexed, topics[1:], strict=True):
            kind = abi_type(param)
            if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                args[param["name"]] = bytes(topic)  # dynamic values are indexed by their hash
            else:
                args[param["name"]] = decode([kind], bytes(topic))[0]
        values = decode([abi_type(p) for p in self.data], data)
        args.update(_named(self.data, values))
        return {name: args[name] for name in self.order}


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """A custom error: its name, parameters and the NatSpec notice that explains it."""

    name: str
    params: tuple[Mapping[str, Any], ...]
    notice: str
    selector: bytes

    def decode_args(self, data: bytes) -> dict[str, Any]:
        values = decode([abi_type(p) for p in self.params], data)
        return _named(self.params, values)


@dataclass(frozen=True, slots=True)
class ContractAbi:
    """The functions and events of one contract."""

    name: str
    functions: Mapping[str, AbiFunction]
    events: Mapping[bytes, AbiEvent]

    def fn(self, name: str) -> AbiFunction:
        return self.functions[name]

    def event(self, name: str) -> AbiEvent:
        for event in self.events.values():
            if event.name == name:
                return event
        raise KeyError(name)

    def decode_log(self, log: Mapping[str, Any]) -> DecodedLog | None:
        topics = [bytes(t) for t in log["topics"]]
        if not topics:
            return None
        event = self.events.get(topics[0])
        if event is None:
            return None
        return DecodedLog(
            contract=self.name,
            event=event.name,
            args=event.decode(topics, bytes(log["data"])),
            address=str(log["address"]),
            block_number=int(log["blockNumber"]),
            block_hash=_hex(log["blockHash"]),
            tx_hash=_hex(log["transactionHash"]),
            log_index=int(log["logIndex"]),
            tx_index=int(log["transactionIndex"]),
        )


def _hex(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


@cache
def contract_abi(name: str) -> ContractAbi:
    artifact = load_artifact(name)
    functions = {
        e["name"]: AbiFunction.from_abi(e) for e in artifact.abi if e["type"] == "function"
    }
    events = {(ev := AbiEvent.from_abi(e)).topic0: ev for e in artifact.abi if e["type"] == "event"}
    return ContractAbi(name, functions, events)


def _notice(userdoc: Mapping[str, Any], signature: str) -> str:
    entries = userdoc.get("errors", {}).get(signature, [])
    for entry in entries:
        if "notice" in entry:
            return str(entry["notice"])
    return ""


@cache
def error_specs() -> Mapping[bytes, ErrorSpec]:
    """Every custom error of the suite's artifacts, by selector."""
    specs: dict[bytes, ErrorSpec] = {}
    paths = sorted(ARTIFACTS_DIR.glob("*.json"))
    for path in paths:
        if path.name == "build-info.json":
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        userdoc = data.get("userdoc", {})
        for entry in data["abi"]:
            if entry["type"] != "error":
                continue
            signature = f"{entry['name']}({','.join(abi_type(p) for p in entry['inputs'])})"
            selector = keccak(text=signature)[:4]
            notice = _notice(userdoc, signature)
            known = specs.get(selector)
            if known is None or (not known.notice and notice):
                specs[selector] = ErrorSpec(entry["name"], tuple(entry["inputs"]), notice, selector)
    return specs

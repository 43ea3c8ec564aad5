"""The committed contracts run on London-level chains: built for ``paris``, their code holds no
opcode that a London/Paris EVM (go-ethereum 1.13 Clique, GoQuorum, older Besu) does not know.

Code is walked opcode by opcode, skipping PUSH data, so a forbidden byte inside a constant is not
an opcode, and a forbidden opcode anywhere in the code is found. The scanner itself is checked
on hand-made code and on real solc output built for ``cancun``, where it must find them all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import solcx

from ledger import toolchain

# Opcodes after Paris that a London-level EVM rejects as invalid.
FORBIDDEN = {
    0x49: "BLOBHASH",  # Cancun, EIP-4844
    0x4A: "BLOBBASEFEE",  # Cancun, EIP-7516
    0x5C: "TLOAD",  # Cancun, EIP-1153
    0x5D: "TSTORE",  # Cancun, EIP-1153
    0x5E: "MCOPY",  # Cancun, EIP-5656
    0x5F: "PUSH0",  # Shanghai, EIP-3855
}
PUSH1, PUSH32 = 0x60, 0x7F


def opcodes(code: bytes) -> Iterator[tuple[int, int]]:
    """(offset, opcode) of every instruction of ``code``; PUSH data is skipped, not decoded."""
    pc = 0
    while pc < len(code):
        op = code[pc]
        yield pc, op
        width = op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0
        if pc + width >= len(code) and width:
            raise ValueError(f"PUSH{width} at {pc} runs past the end of the code")
        pc += 1 + width


def forbidden(code: bytes) -> list[tuple[int, str]]:
    """(offset, name) of every forbidden instruction in ``code``."""
    return [(pc, FORBIDDEN[op]) for pc, op in opcodes(code) if op in FORBIDDEN]


def runtime_code(deployed: bytes) -> bytes:
    """Runtime code without solc's CBOR metadata trailer (data, not code)."""
    length = int.from_bytes(deployed[-2:], "big")
    metadata = deployed[-(length + 2) : -2]
    assert metadata.startswith(b"\xa2dipfs"), "no CBOR metadata trailer where expected"
    assert b"dsolc" in metadata
    return deployed[: -(length + 2)]


def init_code(bytecode: bytes, deployed: bytes) -> bytes:
    """Creation code without the runtime code that it returns (appended after it)."""
    assert bytecode.endswith(deployed), "creation code does not end with the runtime code"
    return bytecode[: len(bytecode) - len(deployed)]


def contract_names() -> list[str]:
    names: list[str] = toolchain.load_build_info()["contracts"]
    return names


def test_every_contract_has_an_artifact() -> None:
    names = contract_names()
    assert names  # the parametrised tests below run over this list
    assert names == sorted(
        p.stem for p in toolchain.ARTIFACTS_DIR.glob("*.json") if p.name != "build-info.json"
    )


def test_artifacts_are_built_for_paris() -> None:
    assert toolchain.EVM_VERSION == "paris"
    assert toolchain.COMPILER_SETTINGS["evmVersion"] == "paris"
    assert toolchain.load_build_info()["settings"]["evmVersion"] == "paris"


@pytest.mark.parametrize("name", contract_names())
def test_deployed_code_has_no_post_paris_opcode(name: str) -> None:
    artifact = toolchain.load_artifact(name)
    code = runtime_code(artifact.deployed_bytecode)
    assert len(code) > 1000
    assert forbidden(code) == [], name


@pytest.mark.parametrize("name", contract_names())
def test_creation_code_has_no_post_paris_opcode(name: str) -> None:
    artifact = toolchain.load_artifact(name)
    code = init_code(artifact.bytecode, artifact.deployed_bytecode)
    assert code
    assert forbidden(code) == [], name


@pytest.mark.parametrize("op", sorted(FORBIDDEN))
def test_scanner_finds_each_forbidden_opcode(op: int) -> None:
    # PUSH1 0x01, <op>, STOP
    assert forbidden(bytes([PUSH1, 0x01, op, 0x00])) == [(2, FORBIDDEN[op])]


def test_scanner_skips_push_data_but_not_what_follows() -> None:
    data = bytes(sorted(FORBIDDEN)) * 6  # 36 bytes: more than PUSH32 carries
    code = bytes([PUSH1 + 1]) + data[:2] + bytes([PUSH32]) + data[:32] + bytes([0x5F, 0x00])
    assert forbidden(code) == [(1 + 2 + 1 + 32, "PUSH0")]
    assert forbidden(code[:-2]) == []


def test_scanner_refuses_truncated_push() -> None:
    with pytest.raises(ValueError, match="PUSH2 at 1 runs past the end"):
        list(opcodes(bytes([0x00, PUSH1 + 1, 0x5C])))


_CANCUN_PROBE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;
contract Probe {
    uint256 private transient _length;
    function twice(bytes memory a) external returns (bytes memory) {
        _length = a.length;
        return bytes.concat(a, a);
    }
    function length() external view returns (uint256) {
        return _length;
    }
}
"""


def test_scanner_finds_the_opcodes_of_real_cancun_code() -> None:
    """The project's solc, built for cancun: transient storage, MCOPY and PUSH0 are found."""
    output = solcx.compile_standard(
        {
            "language": "Solidity",
            "sources": {"Probe.sol": {"content": _CANCUN_PROBE}},
            "settings": {
                **toolchain.COMPILER_SETTINGS,
                "evmVersion": "cancun",
                "outputSelection": {"*": {"*": ["evm.deployedBytecode.object"]}},
            },
        },
        solc_binary=toolchain.solc_binary(),
    )
    deployed = bytes.fromhex(
        output["contracts"]["Probe.sol"]["Probe"]["evm"]["deployedBytecode"]["object"]
    )
    found = {name for _, name in forbidden(runtime_code(deployed))}
    assert found == {"TLOAD", "TSTORE", "MCOPY", "PUSH0"}

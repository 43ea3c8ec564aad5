"""EIP-712 hashing, signing and recovery against the published vectors in shared/data/eip712."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_keys.datatypes import Signature
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidSignature, InvalidTypedData, ValidationError
from ledger.records import (
    DOMAIN_FIELDS,
    SECP256K1_N,
    check_signature,
    domain_separator,
    encode_struct,
    encode_type_string,
    from_compact_signature,
    hash_typed_data,
    recover_typed_data,
    sign_typed_data,
    struct_hash,
    to_compact_signature,
    type_hash,
)
from tests.data_paths import REPO_ROOT, data_params, require_data, shared_file

EIP712 = ("eip712",)


def _hex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# ethers.js typed-data vectors (130)
# --------------------------------------------------------------------------------------------


def _ethers_cases(path: Path) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in _load(path)]


ETHERS = data_params((*EIP712, "ethers_testcases_typed-data.json"), _ethers_cases)


def _ethers_full_message(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "types": case["types"],
        "primaryType": case["primaryType"],
        "domain": case["domain"],
        "message": case["data"],
    }


def test_ethers_vector_file_has_130_cases() -> None:
    cases = _load(shared_file(*EIP712, "ethers_testcases_typed-data.json"))
    assert len(cases) == 130
    assert sum("signature" in case for case in cases) >= 1


@pytest.mark.parametrize("case", ETHERS)
def test_hash_typed_data_matches_ethers_digest(case: dict[str, Any]) -> None:
    assert hash_typed_data(_ethers_full_message(case)) == _hex(case["digest"])


@pytest.mark.parametrize("case", ETHERS)
def test_encode_struct_and_struct_hash_match_ethers_encoding(case: dict[str, Any]) -> None:
    encoded = encode_struct(case["primaryType"], case["types"], case["data"])
    assert encoded == _hex(case["encoded"])
    assert struct_hash(case["primaryType"], case["types"], case["data"]) == keccak(encoded)


@pytest.mark.parametrize("case", ETHERS)
def test_digest_is_1901_domain_separator_struct_hash(case: dict[str, Any]) -> None:
    expected = keccak(
        b"\x19\x01"
        + domain_separator(case["domain"])
        + struct_hash(case["primaryType"], case["types"], case["data"])
    )
    assert expected == _hex(case["digest"])


def _signed_ethers_cases(path: Path) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in _load(path) if "privateKey" in case]


@pytest.mark.parametrize(
    "case", data_params((*EIP712, "ethers_testcases_typed-data.json"), _signed_ethers_cases)
)
def test_sign_and_recover_match_ethers_signature(case: dict[str, Any]) -> None:
    message = _ethers_full_message(case)
    signature = sign_typed_data(case["privateKey"], message)
    assert signature == _hex(case["signature"])
    assert (
        recover_typed_data(message, case["signature"])
        == Account.from_key(case["privateKey"]).address
    )


# --------------------------------------------------------------------------------------------
# The official EIP-712 Mail example: every intermediate value
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail() -> dict[str, Any]:
    data: dict[str, Any] = _load(shared_file(*EIP712, "eip712_official_mail_example.json"))
    return data


def test_mail_encode_type(mail: dict[str, Any]) -> None:
    typed = mail["typedData"]
    assert encode_type_string("Mail", typed["types"]) == mail["expected"]["encodeType_Mail"]


def test_mail_type_hash(mail: dict[str, Any]) -> None:
    typed = mail["typedData"]
    assert type_hash("Mail", typed["types"]) == _hex(mail["expected"]["typeHash_Mail"])


def test_mail_encode_data(mail: dict[str, Any]) -> None:
    typed = mail["typedData"]
    assert encode_struct("Mail", typed["types"], typed["message"]) == _hex(
        mail["expected"]["encodeData_Mail_message"]
    )


def test_mail_hash_struct(mail: dict[str, Any]) -> None:
    typed = mail["typedData"]
    assert struct_hash("Mail", typed["types"], typed["message"]) == _hex(
        mail["expected"]["hashStruct_Mail_message"]
    )


def test_mail_domain_separator(mail: dict[str, Any]) -> None:
    assert domain_separator(mail["typedData"]["domain"]) == _hex(
        mail["expected"]["domainSeparator"]
    )


def test_mail_digest(mail: dict[str, Any]) -> None:
    assert hash_typed_data(mail["typedData"]) == _hex(mail["expected"]["signHash_digest"])


def test_mail_private_key_is_keccak_of_cow(mail: dict[str, Any]) -> None:
    assert keccak(text="cow") == _hex(mail["privateKeyHex"])


def test_mail_signature_r_s_v(mail: dict[str, Any]) -> None:
    signature = sign_typed_data(mail["privateKeyHex"], mail["typedData"])
    expected = mail["expected"]["signature"]
    assert signature[:32] == _hex(expected["r"])
    assert signature[32:64] == _hex(expected["s"])
    assert signature[64] == expected["v"]


def test_mail_recovers_signer(mail: dict[str, Any]) -> None:
    expected = mail["expected"]
    sig = expected["signature"]
    signature = _hex(sig["r"]) + _hex(sig["s"]) + bytes([sig["v"]])
    recovered = recover_typed_data(mail["typedData"], signature)
    assert recovered.lower() == expected["signerAddress"]
    assert recovered == Account.from_key(mail["privateKeyHex"]).address


# --------------------------------------------------------------------------------------------
# eth-account message sets
# --------------------------------------------------------------------------------------------


def _named_messages(path: Path) -> list[Any]:
    return [pytest.param(message, id=name) for name, message in _load(path).items()]


VALID_SETS = [
    "eth-account_eip712_messages_valid_for_all.json",
    "eth-account_eip712_messages_valid_py_and_ethers.json",
    "eth-account_eip712_messages_valid_py_and_metamask.json",
]
INVALID_SETS = [
    "eth-account_eip712_messages_invalid.json",
    "eth-account_eip712_messages_one_arg_invalid.json",
]
VALID = [p for name in VALID_SETS for p in data_params((*EIP712, name), _named_messages)]
INVALID = [p for name in INVALID_SETS for p in data_params((*EIP712, name), _named_messages)]


@pytest.mark.parametrize("message", VALID)
def test_valid_eth_account_message_encodes_and_round_trips(message: dict[str, Any]) -> None:
    digest = hash_typed_data(message)
    assert len(digest) == 32
    key = keccak(text="valid-set signer")
    signature = sign_typed_data(key, message)
    assert recover_typed_data(message, signature) == Account.from_key(key).address


@pytest.mark.parametrize("message", INVALID)
def test_invalid_eth_account_message_is_rejected(message: dict[str, Any]) -> None:
    with pytest.raises(InvalidTypedData) as caught:
        hash_typed_data(message)
    assert isinstance(caught.value, ValidationError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field in {"typed_data", "types.EIP712Domain", "message", "domain"}
    assert caught.value.rule  # the rule is spelled out, not empty


def test_invalid_sets_have_twelve_messages() -> None:
    require_data(INVALID)
    assert len(INVALID) == 12


def test_valid_sets_have_seventeen_messages() -> None:
    require_data(VALID)
    assert len(VALID) == 17


def test_the_valid_sets_agree_on_the_mail_example(mail: dict[str, Any]) -> None:
    messages = _load(shared_file(*EIP712, "eth-account_eip712_messages_valid_for_all.json"))
    assert hash_typed_data(messages["valid_eip712_example"]) == _hex(
        mail["expected"]["signHash_digest"]
    )


# --------------------------------------------------------------------------------------------
# Our own stricter rules
# --------------------------------------------------------------------------------------------


def _mail_message() -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Person": [
                {"name": "name", "type": "string"},
                {"name": "wallet", "type": "address"},
            ],
            "Mail": [
                {"name": "from", "type": "Person"},
                {"name": "to", "type": "Person"},
                {"name": "contents", "type": "string"},
            ],
        },
        "primaryType": "Mail",
        "domain": {
            "name": "Ether Mail",
            "version": "1",
            "chainId": 1,
            "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC",
        },
        "message": {
            "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
            "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
            "contents": "Hello, Bob!",
        },
    }


COW_KEY = keccak(text="cow")


def test_domain_types_out_of_canonical_order_are_rejected() -> None:
    message = _mail_message()
    domain_types = message["types"]["EIP712Domain"]
    domain_types[0], domain_types[1] = domain_types[1], domain_types[0]
    with pytest.raises(InvalidTypedData, match="canonical EIP-712 order") as caught:
        hash_typed_data(message)
    assert caught.value.field == "types.EIP712Domain"


def test_domain_type_with_wrong_type_is_rejected() -> None:
    message = _mail_message()
    message["types"]["EIP712Domain"][2] = {"name": "chainId", "type": "uint64"}
    with pytest.raises(InvalidTypedData) as caught:
        hash_typed_data(message)
    assert caught.value.field == "types.EIP712Domain"


def test_unknown_domain_field_is_rejected() -> None:
    with pytest.raises(InvalidTypedData, match="unknown field") as caught:
        domain_separator({"name": "x", "chain": 1})
    assert caught.value.field == "domain"


@pytest.mark.parametrize("key", ["types", "domain", "message"])
def test_missing_top_level_key_is_rejected(key: str) -> None:
    message = _mail_message()
    del message[key]
    with pytest.raises(InvalidTypedData, match=key):
        hash_typed_data(message)


def test_primary_type_that_is_not_the_root_is_rejected() -> None:
    message = _mail_message()
    message["primaryType"] = "Person"
    with pytest.raises(InvalidTypedData, match="primaryType"):
        hash_typed_data(message)


def test_struct_hash_of_undefined_type_is_rejected() -> None:
    with pytest.raises(InvalidTypedData):
        struct_hash("Parcel", _mail_message()["types"], {})


def test_bad_private_key_is_rejected_without_echoing_it() -> None:
    secret = "0x" + "00" * 32
    with pytest.raises(InvalidSignature) as caught:
        sign_typed_data(secret, _mail_message())
    assert caught.value.field == "private_key"
    assert secret not in str(caught.value)
    assert caught.value.value is None


# --------------------------------------------------------------------------------------------
# Signature shape: length, v, r, s (EIP-2)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_signature() -> bytes:
    return sign_typed_data(COW_KEY, _mail_message())


def test_signature_is_65_bytes_with_v_27_or_28(mail_signature: bytes) -> None:
    assert len(mail_signature) == 65
    assert mail_signature[64] in (27, 28)
    assert check_signature(mail_signature) == mail_signature
    assert check_signature("0x" + mail_signature.hex()) == mail_signature


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        pytest.param(lambda sig: sig[:64], "65 bytes", id="64-bytes"),
        pytest.param(lambda sig: sig + b"\x00", "65 bytes", id="66-bytes"),
        pytest.param(lambda sig: b"", "65 bytes", id="empty"),
        pytest.param(lambda sig: sig[:64] + bytes([sig[64] - 27]), "v must be", id="v-0-or-1"),
        pytest.param(lambda sig: sig[:64] + b"\x25", "v must be", id="v-37-eip155"),
        pytest.param(lambda sig: b"\x00" * 32 + sig[32:], "r must be", id="r-zero"),
        pytest.param(
            lambda sig: SECP256K1_N.to_bytes(32, "big") + sig[32:], "r must be", id="r-equals-n"
        ),
        pytest.param(lambda sig: sig[:32] + b"\x00" * 32 + sig[64:], "s must be", id="s-zero"),
        pytest.param(
            lambda sig: (
                sig[:32]
                + (SECP256K1_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big")
                + bytes([55 - sig[64]])
            ),
            "EIP-2 low s",
            id="high-s-malleable-twin",
        ),
    ],
)
def test_malformed_signature_is_rejected(mail_signature: bytes, mutate: Any, rule: str) -> None:
    bad = mutate(mail_signature)
    with pytest.raises(InvalidSignature, match=rule) as caught:
        recover_typed_data(_mail_message(), bad)
    assert caught.value.field == "signature"


def test_high_s_twin_is_otherwise_a_valid_signature(mail_signature: bytes) -> None:
    # The twin recovers the same key in plain ECDSA: rejecting it is our rule, not an accident.
    s = int.from_bytes(mail_signature[32:64], "big")
    twin = mail_signature[:32] + (SECP256K1_N - s).to_bytes(32, "big")
    twin += bytes([55 - mail_signature[64]])
    digest = hash_typed_data(_mail_message())
    vrs = (twin[64] - 27, int.from_bytes(twin[:32], "big"), SECP256K1_N - s)
    public_key = Signature(vrs=vrs).recover_public_key_from_msg_hash(digest)
    assert public_key.to_checksum_address() == Account.from_key(COW_KEY).address


@pytest.mark.parametrize("bad", ["0xzz", 12345, None], ids=["not-hex", "int", "none"])
def test_signature_of_wrong_kind_is_rejected(bad: Any) -> None:
    with pytest.raises(InvalidSignature) as caught:
        check_signature(bad)
    assert caught.value.field == "signature"


def test_signature_over_other_message_recovers_other_address(mail_signature: bytes) -> None:
    altered = _mail_message()
    altered["message"]["contents"] = "Hello, Alice!"
    assert recover_typed_data(altered, mail_signature) != Account.from_key(COW_KEY).address


# --------------------------------------------------------------------------------------------
# Property: sign then recover gives the signer
# --------------------------------------------------------------------------------------------

RECORD_TYPES = {
    "Record": [
        {"name": "consignment", "type": "bytes32"},
        {"name": "step", "type": "uint8"},
        {"name": "location", "type": "string"},
        {"name": "quantity", "type": "uint256"},
        {"name": "actor", "type": "address"},
    ]
}


@settings(max_examples=40, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=SECP256K1_N - 1),
    consignment=st.binary(min_size=32, max_size=32),
    step=st.integers(min_value=0, max_value=255),
    location=st.text(max_size=40),
    quantity=st.integers(min_value=0, max_value=2**256 - 1),
    actor=st.binary(min_size=20, max_size=20),
    chain_id=st.integers(min_value=1, max_value=2**64),
    contract=st.binary(min_size=20, max_size=20),
)
def test_sign_then_recover_gives_the_signer(
    key: int,
    consignment: bytes,
    step: int,
    location: str,
    quantity: int,
    actor: bytes,
    chain_id: int,
    contract: bytes,
) -> None:
    private_key = key.to_bytes(32, "big")
    message = {
        "types": RECORD_TYPES,
        "primaryType": "Record",
        "domain": {
            "name": "CustomsLedger",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": "0x" + contract.hex(),
        },
        "message": {
            "consignment": consignment,
            "step": step,
            "location": location,
            "quantity": quantity,
            "actor": "0x" + actor.hex(),
        },
    }
    signature = sign_typed_data(private_key, message)
    check_signature(signature)  # always low-s, v in {27, 28}
    assert recover_typed_data(message, signature) == Account.from_key(private_key).address


# --------------------------------------------------------------------------------------------
# contracts/RECORDS.md: compact signatures, domain and record type hashes
# --------------------------------------------------------------------------------------------

RECORDS_MD = REPO_ROOT / "contracts" / "RECORDS.md"
_RECORD_ROW = re.compile(r"^\|\s*(\w+)\s*\|\s*`(\w+)\(([^`]*)\)`\s*\|\s*`(0x[0-9a-fA-F]{64})`\s*\|")


def _records_md() -> str:
    if not RECORDS_MD.exists():
        pytest.skip("contracts/RECORDS.md not written yet")
    return RECORDS_MD.read_text(encoding="utf-8")


def _record_types() -> list[Any]:
    if not RECORDS_MD.exists():
        reason = "contracts/RECORDS.md not written yet"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="records-md-missing")]
    rows = []
    for line in RECORDS_MD.read_text(encoding="utf-8").splitlines():
        match = _RECORD_ROW.match(line)
        if match is not None:
            rows.append(pytest.param(match.groups(), id=match.group(1)))
    return rows


RECORD_TYPES_MD = _record_types()


def test_records_md_lists_the_record_types() -> None:
    _records_md()
    assert len(RECORD_TYPES_MD) >= 16


@pytest.mark.parametrize("row", RECORD_TYPES_MD)
def test_records_md_type_hash_matches_its_type_string(row: tuple[str, str, str, str]) -> None:
    record, name, fields, expected = row
    assert record == name
    types = {
        name: [
            {"name": field.split(" ")[1], "type": field.split(" ")[0]}
            for field in fields.split(",")
        ]
    }
    assert encode_type_string(name, types) == f"{name}({fields})"
    assert type_hash(name, types) == _hex(expected)


def test_records_md_domain_type_is_canonical_without_salt() -> None:
    text = _records_md()
    assert (
        "`EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)`"
        in text
    )
    domain_types = {
        "EIP712Domain": [
            {"name": name, "type": type_} for name, type_ in DOMAIN_FIELDS if name != "salt"
        ]
    }
    assert encode_type_string("EIP712Domain", domain_types) == (
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )


def test_compact_signature_is_the_records_md_formula(mail_signature: bytes) -> None:
    r, vs = to_compact_signature(mail_signature)
    # RECORDS.md: vs = (int.from_bytes(sig[32:64], "big") | ((sig[64] - 27) << 255))
    expected_vs = int.from_bytes(mail_signature[32:64], "big") | ((mail_signature[64] - 27) << 255)
    assert r == mail_signature[:32]
    assert vs == expected_vs.to_bytes(32, "big")
    assert from_compact_signature(r, vs) == mail_signature


@settings(max_examples=30, deadline=None)
@given(key=st.integers(min_value=1, max_value=SECP256K1_N - 1), text=st.text(max_size=20))
def test_compact_signature_round_trips_for_both_v(key: int, text: str) -> None:
    message = _mail_message()
    message["message"]["contents"] = text
    signature = sign_typed_data(key.to_bytes(32, "big"), message)
    r, vs = to_compact_signature(signature)
    assert (vs[0] >> 7) == signature[64] - 27
    assert from_compact_signature(r, vs) == signature


def test_compact_signature_rejects_bad_lengths() -> None:
    with pytest.raises(InvalidSignature, match="32-byte r and vs"):
        from_compact_signature(b"\x01" * 31, b"\x01" * 32)

"""The Besu QBFT kit: the files a consortium needs, checked for structure and content (Besu
itself cannot run on these machines). Not marked ``network``: no node is started."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
import rlp
from coincurve import PrivateKey
from eth_utils import keccak, to_checksum_address

from ledger.cli import main
from ledger.network import KeyPair, MemberSpec, NetworkConfigError, write_besu_kit
from ledger.network.besu import BFT_MIX_HASH, decode_qbft_extra_data, qbft_extra_data

MEMBERS = ["Australian Border Force", "GACC China", "New Zealand Customs", "Korea Customs"]
RELAYER = "0x000000000000000000000000000000000000dEaD"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("kit")
    args = ["network", "besu-config", "--out", str(out), "--block-period", "3"]
    for name in MEMBERS[:3]:
        args += ["--member", name]
    args += ["--validators", "4", "--account", RELAYER, "--chain-id", "202677"]
    assert main(args) == 0
    return out


def address_of(private_hex: str) -> str:
    public = PrivateKey(bytes.fromhex(private_hex[2:])).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak(public)[-20:])


def test_genesis_is_qbft_with_free_gas_and_london_ceiling(kit: Path) -> None:
    genesis = json.loads((kit / "genesis.json").read_text())
    config = genesis["config"]
    assert config["chainId"] == 202677
    assert config["zeroBaseFee"] is True
    assert config["qbft"] == {
        "blockperiodseconds": 3,
        "epochlength": 30000,
        "requesttimeoutseconds": 4,
    }
    assert config["berlinBlock"] == 0
    assert config["londonBlock"] == 0
    assert not {k for k in config if k.startswith(("shanghai", "cancun", "prague"))}
    assert "terminalTotalDifficulty" not in config
    assert genesis["mixHash"] == BFT_MIX_HASH
    assert genesis["difficulty"] == "0x1"


def test_extra_data_is_rlp_of_the_validators_from_the_node_keys(kit: Path) -> None:
    genesis = json.loads((kit / "genesis.json").read_text())
    vanity, validators, vote, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert vanity == b"\0" * 32
    assert vote == []
    assert seals == []
    assert round_ == b""  # round 0 encodes as empty bytes
    keys = sorted((kit / "members").glob("*/key"))
    assert len(keys) == len(validators) == 4
    from_keys = {address_of(k.read_text()) for k in keys}
    assert {to_checksum_address(v) for v in validators} == from_keys
    assert decode_qbft_extra_data(genesis["extraData"])[1] == [
        to_checksum_address(v) for v in validators
    ]


def test_extra_data_matches_besu_documented_example() -> None:
    # Besu's QBFT docs: four validators -> 0xf87aa0<32 zero bytes>f854<4 x 94+address>c080c0
    validators = [
        "0x64a702e6263b7297a96638cac6ae65e6541f4169",
        "0x3923390ad55e90c237593b3b0e401f3b08a03185",
        "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
        "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
    ]
    expected = "0xf87aa0" + "00" * 32 + "f854" + "".join("94" + v[2:] for v in validators)
    assert qbft_extra_data(validators) == expected + "c080c0"


def test_permissions_allow_the_validators_nodes_and_accounts(kit: Path) -> None:
    permissions = tomllib.loads((kit / "permissions_config.toml").read_text())
    summary = json.loads((kit / "network.json").read_text())
    enodes = [v["enode"] for v in summary["validators"]]
    assert permissions["nodes-allowlist"] == enodes
    accounts = permissions["accounts-allowlist"]
    for v in summary["validators"]:
        assert v["address"] in accounts
        assert v["relayer"] in accounts
    assert to_checksum_address(RELAYER) in accounts
    assert len(accounts) == len(set(accounts)) == 4 + 4 + 1


def test_enodes_derive_from_the_node_keys(kit: Path) -> None:
    summary = json.loads((kit / "network.json").read_text())
    for v in summary["validators"]:
        member_dir = kit / v["directory"]
        key = KeyPair.from_hex((member_dir / "key").read_text())
        assert (member_dir / "key.pub").read_text() == "0x" + key.node_id
        node_id, _, where = v["enode"].removeprefix("enode://").partition("@")
        assert node_id == key.node_id
        assert len(node_id) == 128
        assert v["address"] == key.address == address_of((member_dir / "key").read_text())
        assert address_of((member_dir / "relayer.key").read_text()) == v["relayer"]
        assert where.startswith("127.0.0.1:")


def test_member_config_enables_permissioning_free_gas_and_peers(kit: Path) -> None:
    summary = json.loads((kit / "network.json").read_text())
    enodes = [v["enode"] for v in summary["validators"]]
    names = [v["member"] for v in summary["validators"]]
    assert names == [*MEMBERS[:3], "validator-4"]
    for v in summary["validators"]:
        member_dir = kit / v["directory"]
        config = tomllib.loads((member_dir / "config.toml").read_text())
        assert config["min-gas-price"] == 0
        assert config["permissions-nodes-config-file-enabled"] is True
        assert config["permissions-accounts-config-file-enabled"] is True
        for option in ("permissions-nodes-config-file", "permissions-accounts-config-file"):
            assert (member_dir / config[option]).is_file()
        for option in ("genesis-file", "node-private-key-file", "static-nodes-file"):
            assert (member_dir / config[option]).is_file()
        assert config["rpc-http-enabled"] is True
        assert config["rpc-http-host"] == "127.0.0.1"
        assert config["rpc-http-port"] == v["rpc_port"]
        assert "QBFT" in config["rpc-http-api"]
        assert "ETH" in config["rpc-http-api"]
        assert config["bootnodes"] == [e for e in enodes if e != v["enode"]]
        assert json.loads((member_dir / "static-nodes.json").read_text()) == enodes
        assert (member_dir / "genesis.json").read_text() == (kit / "genesis.json").read_text()
        assert (member_dir / "key").stat().st_mode & 0o077 == 0


def test_member_with_host_and_port() -> None:
    member = MemberSpec.parse("GACC China@node.customs.example:30400")
    assert (member.host, member.p2p_port, member.slug) == (
        "node.customs.example",
        30400,
        "gacc-china",
    )
    with pytest.raises(NetworkConfigError):
        MemberSpec.parse("@host")
    with pytest.raises(NetworkConfigError):
        MemberSpec.parse("X@host:notaport")


def test_refuses_duplicate_members_and_a_non_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(NetworkConfigError, match="differ"):
        write_besu_kit(tmp_path / "a", [MemberSpec("ABF"), MemberSpec("abf", p2p_port=30304)])
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("")
    with pytest.raises(NetworkConfigError, match="not empty"):
        write_besu_kit(tmp_path / "b", [MemberSpec("ABF")])
    assert main(["network", "besu-config", "--out", str(tmp_path / "c"), "--validators", "0"]) == 1

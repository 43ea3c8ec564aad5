"""``ledger apikey issue|list|revoke`` through the CLI entry point (``gateway.cli.main``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.auth import KeyStore, scopes_for_kind
from gateway.cli import main, parse_expiry
from gateway.config import GatewaySettings
from gateway.errors import Unauthenticated
from ledger.chain import AnvilNode, Deployment, manifest_path
from ledger.stack import DemoWorld
from tests.conftest import CHAIN_ID
from tests.gateway.conftest import ORG_A

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _store(data_dir: Path) -> KeyStore:
    return KeyStore.open(GatewaySettings(data_dir=data_dir).gateway_db_url)


@pytest.fixture
def chain_dir(
    tmp_path: Path, anvil: AnvilNode, deployment: Deployment, world: DemoWorld
) -> list[str]:
    """A data directory holding the test chain's deployment manifest, and the options that
    point the CLI at it (the demo world's organisations are members there)."""
    deployment.save(manifest_path(tmp_path, CHAIN_ID))
    return [
        "--data-dir",
        str(tmp_path),
        "--node-port",
        str(anvil.port),
        "--chain-id",
        str(CHAIN_ID),
    ]


def _org(world: DemoWorld, key: str) -> str:
    return "0x" + world.parties[key].org_id.hex()


def test_issue_list_and_revoke_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chain_dir: list[str], world: DemoWorld
) -> None:
    common = tuple(chain_dir)
    carrier, customs = _org(world, "carrier"), _org(world, "cn")
    code, out, _ = _run(
        capsys,
        "apikey",
        "issue",
        *common,
        "--org-id",
        carrier,
        "--kind",
        "carrier",
        "--country",
        "sg",
        "--scope",
        "events:write",
        "--scope",
        "read",
        "--label",
        "sorting centre",
        "--expires",
        "30d",
    )
    assert code == 0
    token = out.strip()
    code, out, _ = _run(
        capsys,
        "apikey",
        "issue",
        *common,
        "--org-id",
        customs,
        "--kind",
        "customs",
        "--country",
        "CN",
    )
    assert code == 0
    other_token = out.strip()

    with _store(tmp_path) as store:
        caller = store.authenticate(token)
        assert (caller.org_id, caller.org_kind.value, caller.country) == (
            carrier,
            "carrier",
            "SG",
        )
        assert {s.value for s in caller.scopes} == {"events:write", "read"}
        record = store.get(caller.key_id)
        assert record is not None
        assert record.expires_at is not None
        expected = datetime.now(UTC) + timedelta(days=30)
        assert abs((record.expires_at - expected).total_seconds()) < 60
        other = store.authenticate(other_token)
        assert other.org_id == customs
        # default: the scopes of its kind (customs: every write and read), never admin
        assert {s.value for s in other.scopes} == {
            "events:write",
            "certificates:write",
            "attestations:write",
            "aeo:write",
            "governance:write",
            "read",
        }
        assert store.get(other.key_id).expires_at is None  # type: ignore[union-attr]

    code, out, _ = _run(capsys, "apikey", "list", *common)
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert {k["key_id"] for k in listed} == {caller.key_id, other.key_id}
    assert _run(capsys, "apikey", *common, "list")[1] == out  # the options before the action
    assert all(token not in line and other_token not in line for line in out.splitlines())
    code, out, _ = _run(capsys, "apikey", "list", *common, "--org-id", carrier)
    (mine,) = [json.loads(line) for line in out.splitlines()]
    assert mine["key_id"] == caller.key_id
    assert mine["label"] == "sorting centre"
    assert datetime.fromisoformat(mine["expires_at"]) == record.expires_at
    assert mine["revoked_at"] is None
    assert mine["scopes"] == ["events:write", "read"]

    code, out, _ = _run(capsys, "apikey", "revoke", *common, caller.key_id)
    assert (code, out.strip()) == (0, f"revoked {caller.key_id}")
    with _store(tmp_path) as store, pytest.raises(Unauthenticated) as revoked:
        store.authenticate(token)
    assert revoked.value.code == "revoked_api_key"
    code, out, _ = _run(capsys, "apikey", "list", *common, "--org-id", carrier)
    assert json.loads(out)["revoked_at"] is not None

    code, _, err = _run(capsys, "apikey", "revoke", *common, "0123456789abcdef")
    assert code == 1
    assert "no API key '0123456789abcdef'" in err


@pytest.mark.parametrize(
    ("party", "kind", "country", "complaint"),
    [
        (None, "carrier", "SG", "is not a member on chain 31337"),
        ("carrier", "customs", "SG", "--kind customs: organisation 0x"),
        ("carrier", "carrier", "AU", "--country AU: organisation 0x"),
        ("exporter", "issuing_body", "AU", "is a trader on chain 31337"),
    ],
)
def test_issue_refuses_non_members_and_a_wrong_kind_or_country(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    chain_dir: list[str],
    world: DemoWorld,
    party: str | None,
    kind: str,
    country: str,
    complaint: str,
) -> None:
    org = ORG_A if party is None else _org(world, party)
    argv = ["apikey", "issue", *chain_dir, "--org-id", org, "--kind", kind, "--country", country]
    code, out, err = _run(capsys, *argv)
    assert code == 1
    assert out == ""
    assert complaint in err
    with _store(tmp_path) as store:
        assert store.list_keys() == []


def test_issue_refuses_a_scope_the_kind_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chain_dir: list[str], world: DemoWorld
) -> None:
    argv = ["apikey", "issue", *chain_dir, "--org-id", _org(world, "carrier")]
    argv += ["--kind", "carrier", "--country", "SG", "--scope", "aeo:write"]
    code, _, err = _run(capsys, *argv)
    assert code == 1
    assert "--scope aeo:write: not for a carrier key" in err
    with _store(tmp_path) as store:
        assert store.list_keys() == []


def test_issue_without_a_deployment_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], anvil: AnvilNode
) -> None:
    argv = ["apikey", "issue", "--data-dir", str(tmp_path), "--node-port", str(anvil.port)]
    argv += ["--org-id", ORG_A, "--kind", "carrier", "--country", "SG"]
    code, _, err = _run(capsys, *argv)
    assert code == 1
    assert "no deployment manifest at" in err


@pytest.mark.parametrize(
    ("kind", "scopes"),
    [
        (
            "customs",
            {
                "events:write",
                "certificates:write",
                "attestations:write",
                "aeo:write",
                "governance:write",
                "read",
            },
        ),
        ("carrier", {"events:write", "attestations:write", "governance:write", "read"}),
        ("postal_operator", {"events:write", "attestations:write", "governance:write", "read"}),
        (
            "trader",
            {
                "events:write",
                "certificates:write",
                "attestations:write",
                "governance:write",
                "read",
            },
        ),
        ("issuing_body", {"certificates:write", "attestations:write", "governance:write", "read"}),
    ],
)
def test_default_scopes_are_those_of_the_kind(kind: str, scopes: set[str]) -> None:
    assert {s.value for s in scopes_for_kind(kind)} == scopes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("90d", NOW + timedelta(days=90)),
        ("12h", NOW + timedelta(hours=12)),
        ("30m", NOW + timedelta(minutes=30)),
        ("2w", NOW + timedelta(weeks=2)),
        ("3600s", NOW + timedelta(seconds=3600)),
        ("2027-01-31", datetime(2027, 1, 31, tzinfo=UTC)),
        ("2027-01-31T12:00:00Z", datetime(2027, 1, 31, 12, tzinfo=UTC)),
        ("2027-01-31T12:00:00+02:00", datetime(2027, 1, 31, 10, tzinfo=UTC)),
    ],
)
def test_expires_accepts_durations_and_timestamps(value: str, expected: datetime) -> None:
    assert parse_expiry(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("0d", "more than zero"),
        ("-5d", "expected a duration"),
        ("tomorrow", "expected a duration"),
        ("5y", "expected a duration"),
        ("2026-05-31T00:00:00Z", "in the future"),
        ("2026-06-01T12:00:00Z", "in the future"),
    ],
)
def test_expires_refuses_malformed_zero_and_past_values(value: str, complaint: str) -> None:
    with pytest.raises(Exception, match=complaint):
        parse_expiry(value, now=NOW)


def test_an_invalid_expiry_is_a_usage_error_and_issues_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["apikey", "issue", "--data-dir", str(tmp_path), "--org-id", ORG_A]
    argv += ["--kind", "carrier", "--country", "SG", "--expires", "2020-01-01"]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--expires" in err
    assert "in the future" in err
    with _store(tmp_path) as store:
        assert store.list_keys() == []


def test_demo_keys_carry_only_their_kinds_scopes(tmp_path: Path) -> None:
    """The keys `ledger up` writes to demo-api-keys.json: a carrier's key cannot write AEO
    records or certificates, an issuing body's cannot post events, and none is admin."""
    from gateway.cli import _demo_api_keys

    settings = GatewaySettings(data_dir=tmp_path)
    keys = json.loads(_demo_api_keys(settings).read_text())
    with _store(tmp_path) as store:
        scopes = {
            name: {s.value for s in store.authenticate(entry["api_key"]).scopes}
            for name, entry in keys.items()
        }
    assert scopes["Oceanic Container Line"] == {
        "events:write",
        "attestations:write",
        "governance:write",
        "read",
    }
    assert scopes["Australian Chamber of Commerce and Industry"] == {
        "certificates:write",
        "attestations:write",
        "governance:write",
        "read",
    }
    assert "aeo:write" not in scopes["Barossa Valley Wine Exports"]
    assert "aeo:write" in scopes["Australian Border Force"]
    assert all("admin" not in s for s in scopes.values())

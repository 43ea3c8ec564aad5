"""``ledger apikey issue|list|revoke`` through the CLI entry point (``gateway.cli.main``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.auth import KeyStore
from gateway.cli import main, parse_expiry
from gateway.config import GatewaySettings
from gateway.errors import Unauthenticated
from tests.gateway.conftest import ORG_A, ORG_B

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _store(data_dir: Path) -> KeyStore:
    return KeyStore.open(GatewaySettings(data_dir=data_dir).gateway_db_url)


def test_issue_list_and_revoke_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ("--data-dir", str(tmp_path))
    code, out, _ = _run(
        capsys,
        "apikey",
        "issue",
        *common,
        "--org-id",
        ORG_A,
        "--kind",
        "postal_operator",
        "--country",
        "nl",
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
        ORG_B,
        "--kind",
        "customs",
        "--country",
        "DE",
    )
    assert code == 0
    other_token = out.strip()

    with _store(tmp_path) as store:
        caller = store.authenticate(token)
        assert (caller.org_id, caller.org_kind.value, caller.country) == (
            ORG_A,
            "postal_operator",
            "NL",
        )
        assert {s.value for s in caller.scopes} == {"events:write", "read"}
        record = store.get(caller.key_id)
        assert record is not None
        assert record.expires_at is not None
        expected = datetime.now(UTC) + timedelta(days=30)
        assert abs((record.expires_at - expected).total_seconds()) < 60
        other = store.authenticate(other_token)
        assert other.org_id == ORG_B
        assert "admin" not in {s.value for s in other.scopes}  # default: every scope but admin
        assert store.get(other.key_id).expires_at is None  # type: ignore[union-attr]

    code, out, _ = _run(capsys, "apikey", "list", *common)
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert {k["key_id"] for k in listed} == {caller.key_id, other.key_id}
    assert _run(capsys, "apikey", *common, "list")[1] == out  # the options before the action
    assert all(token not in line and other_token not in line for line in out.splitlines())
    code, out, _ = _run(capsys, "apikey", "list", *common, "--org-id", ORG_A)
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
    code, out, _ = _run(capsys, "apikey", "list", *common, "--org-id", ORG_A)
    assert json.loads(out)["revoked_at"] is not None

    code, _, err = _run(capsys, "apikey", "revoke", *common, "0123456789abcdef")
    assert code == 1
    assert "no API key '0123456789abcdef'" in err


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

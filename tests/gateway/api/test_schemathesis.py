"""Schemathesis over the whole OpenAPI of a live gateway (``ledger up``: anvil + SQLite).

Every check runs, with bounded examples per operation (``MAX_EXAMPLES``, fixed seed), and
the run must find nothing: no server error (5xx), no status code or header the document does
not declare, no response that breaks its schema, no invalid request accepted. The API key has
every scope (``admin`` too), so every route is reached past authentication.

Two checks are configured rather than run as they come, each for a stated reason:

* ``positive_data_acceptance`` takes 422 as an answer to a schema-valid request: a schema
  cannot say that a signature must recover to a registered key, that a consignment must be on
  the ledger or that ``valid_until`` must follow ``valid_from``; those refusals are 422 with
  the field and the rule (they are checked by the route tests).
* ``max_response_time`` is 30 s: the slowest request schemathesis sends is a bulk of up to
  1,000 custodial events on consignments that are not on the ledger, which the gateway looks
  up once per request (about a second on a quiet machine); 30 s leaves room for a loaded
  two-core machine and still catches a route that does per-item chain round trips again.
  The check is for such regressions and hangs, not for throughput (``make bench``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.gateway.live import REPO, ledger_env, ledger_up

MAX_EXAMPLES = 6
SEED = 20261206

CONFIG = """\
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""


def _issue_admin_key(data_dir: Path, org_id: str) -> str:
    scopes = [
        "events:write",
        "certificates:write",
        "attestations:write",
        "aeo:write",
        "governance:write",
        "read",
        "admin",
    ]
    command = [sys.executable, "-m", "gateway.cli", "apikey", "issue", "--org-id", org_id]
    command += ["--kind", "customs", "--country", "AU"]
    for scope in scopes:
        command += ["--scope", scope]
    done = subprocess.run(
        command,
        cwd=REPO,
        env=ledger_env(data_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def test_schemathesis_finds_nothing_on_a_live_gateway(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ledger_up(data_dir, log=tmp_path / "ledger.log") as gateway:
        keys = json.loads((data_dir / "demo-api-keys.json").read_text(encoding="utf-8"))
        customs = keys["Australian Border Force"]["org_id"]
        token = _issue_admin_key(data_dir, customs)
        (tmp_path / "schemathesis.toml").write_text(CONFIG, encoding="utf-8")
        report = tmp_path / "report.json"
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "run",
            f"{gateway.url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--seed",
            str(SEED),
            "--workers",
            "2",
            "--no-shrink",
            "--generation-database",
            "none",
            "--header",
            f"Authorization: Bearer {token}",
            "--request-timeout",
            "120",
            "--max-response-time",
            "30",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ]
        done = subprocess.run(
            command, cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False
        )
        server_log = gateway.log.read_text(errors="replace")
    traceback = server_log.find("Traceback")
    assert traceback < 0, server_log[max(0, traceback - 2000) : traceback + 6000]
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]

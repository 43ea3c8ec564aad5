"""The README's snippets run as written: the library block against a live ``ledger up``
(``make run``'s data directory ``.data``, its node), and the claim file of ``ledger verify``
is read as the README documents it. The node port is the only thing that differs from
``make run`` (a free port, given as ``LEDGER_NODE_PORT``, which ``Settings()`` reads)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.verify import claim_from_json
from tests.gateway.live import ledger_env, ledger_up

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def test_the_claim_file_in_the_readme_is_a_claim() -> None:
    blocks = _blocks(_section("The library"), "json")
    assert len(blocks) == 1
    claim = claim_from_json(json.loads(blocks[0]))
    assert claim.consignment_ref == "AU-UCR-2026-000042"
    assert claim.certificate is not None
    assert claim.certificate.number == "CHAFTA-AU-2026-000123"


@pytest.mark.slow
def test_the_library_snippets_run_as_written(tmp_path: Path) -> None:
    blocks = _blocks(_section("The library"), "python")
    assert len(blocks) >= 2
    data_dir = tmp_path / ".data"
    with ledger_up(data_dir, log=tmp_path / "ledger.log") as gateway:
        env = ledger_env(data_dir, node_port=str(gateway.node_port))
        del env["LEDGER_DATA_DIR"]  # as written: the default .data in the working directory
        # The blocks follow one another, as in one Python session.
        for upto in range(1, len(blocks) + 1):
            block = "\n".join(blocks[:upto])
            done = subprocess.run(
                [sys.executable, "-c", block],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, f"{block}\n{done.stderr[-3000:]}"
    first = blocks[0]
    assert "ledger.submit" in first

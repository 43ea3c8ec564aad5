"""``ledger verify CLAIM.json`` with a claim file that is missing, not JSON or not an object:
one line on stderr naming the file and what is wrong, exit code 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.cli import main


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "no such file"),
        ('{"consignment_ref": "AU-1",\n "origin": }', "not valid JSON (Expecting value at line 2"),
        ("[1, 2]", "must hold one JSON object"),
        ('{"consignment": "AU-1"}', "unknown claim fields: consignment"),
        (b"\xff\xfe", "cannot be read"),
    ],
    ids=["missing", "syntax", "not-an-object", "unknown-key", "not-utf8"],
)
def test_a_bad_claim_file_is_one_clear_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, said: str
) -> None:
    path = tmp_path / "claim.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert main(["verify", str(path), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert said in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

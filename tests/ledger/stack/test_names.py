"""Organisation names: the demo's, the bootstrap file's and the operator's names file; a name
is kept under the id it hashes to unless the file gives the id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain import org_id
from ledger.errors import ConfigurationError
from ledger.stack import NAMES_FILE, OrganisationNames, record_names
from ledger.stack.names import bootstrap_names

BOOTSTRAP = """
threshold = 1
relayers = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"]

[[administrations]]
name = "Douane de Nouvelle-Calédonie"
country = "NC"
key = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
valid_from = "2026-01-01T00:00:00Z"
valid_until = "2031-01-01T00:00:00Z"

[[administrations]]
name = "Customs of Tuvalu"
org_id = "0x{explicit}"
country = "TV"
key = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
valid_from = "2026-01-01T00:00:00Z"
valid_until = "2031-01-01T00:00:00Z"
"""


def test_demo_names_are_always_known(tmp_path: Path) -> None:
    book = OrganisationNames.known(tmp_path)
    assert book[org_id("Oceanic Container Line")] == "Oceanic Container Line"
    assert book.get(org_id("Someone Else")) is None
    assert len(book) == 5


def test_typed_names_are_added_under_their_hash(tmp_path: Path) -> None:
    book = OrganisationNames.known(tmp_path).with_names(["  Kiwi Fruit Traders ", ""])
    assert book[org_id("Kiwi Fruit Traders")] == "Kiwi Fruit Traders"
    assert len(book) == 6


def test_bootstrap_names_are_recorded_for_the_gateway(tmp_path: Path) -> None:
    explicit = bytes(range(32))
    path = tmp_path / "bootstrap.toml"
    path.write_text(BOOTSTRAP.replace("{explicit}", explicit.hex()), encoding="utf-8")
    names = bootstrap_names(path)
    assert names == {
        "Douane de Nouvelle-Calédonie": org_id("Douane de Nouvelle-Calédonie"),
        "Customs of Tuvalu": explicit,
    }
    record_names(tmp_path, names)
    stored = json.loads((tmp_path / NAMES_FILE).read_text())
    assert stored == {
        "Customs of Tuvalu": "0x" + explicit.hex(),
        "Douane de Nouvelle-Calédonie": None,
    }
    book = OrganisationNames.known(tmp_path)
    assert book[explicit] == "Customs of Tuvalu"
    assert book[org_id("Douane de Nouvelle-Calédonie")] == "Douane de Nouvelle-Calédonie"
    # Recording again adds to the file, keeping what the operator wrote.
    record_names(tmp_path, {"Customs of Fiji": org_id("Customs of Fiji")})
    assert len(json.loads((tmp_path / NAMES_FILE).read_text())) == 3


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[1, 2]", "must be a JSON object"),
        ('{"Acme": "0x1234"}', "64 hex"),
        ('{"": null}', "empty name"),
        ("{not json", "organisation names file"),
    ],
)
def test_a_bad_names_file_is_refused_with_the_reason(
    tmp_path: Path, content: str, words: str
) -> None:
    (tmp_path / NAMES_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=words):
        OrganisationNames.known(tmp_path)

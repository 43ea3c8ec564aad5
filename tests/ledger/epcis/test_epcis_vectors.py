"""The GS1 CBV 2.0 event hash test vectors (RalphTro/epcis-event-hash-generator, in
``../shared/data/epcis/hash-vectors``): every ``X.jsonld`` gives exactly ``X.hashes``, one id
per event in document order. The GS1 EPCIS 2.0 examples hash without error, deterministically.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _pytest.mark import ParameterSet

from ledger.epcis import document_hash_ids, document_prehashes, load_document
from tests.data_paths import data_params, require_data

VECTORS = ("epcis", "hash-vectors")
EXAMPLES = ("epcis", "examples")


def _vectors(folder: Path) -> list[ParameterSet]:
    return [pytest.param(p, id=p.stem) for p in sorted(folder.glob("*.jsonld"))]


@pytest.mark.parametrize("path", data_params(VECTORS, _vectors))
def test_vector_file_hashes_match(path: Path) -> None:
    expected = path.with_suffix(".hashes").read_text(encoding="utf-8").split()
    assert document_hash_ids(load_document(path)) == expected


def _published_prehashes(path: Path) -> list[str]:
    published = path.with_suffix(".prehashes")
    if not published.exists():
        return []
    return [line for line in published.read_text(encoding="utf-8").splitlines() if line]


def _with_prehashes(folder: Path) -> list[ParameterSet]:
    """The vector files that come with published pre-hash strings (10 of the 11)."""
    return [p for p in _vectors(folder) if _published_prehashes(Path(str(p.values[0])))]


@pytest.mark.parametrize("path", data_params(VECTORS, _with_prehashes))
def test_vector_file_prehashes_match_where_published(path: Path) -> None:
    assert document_prehashes(load_document(path)) == _published_prehashes(path)


def test_all_eleven_vector_files_are_present() -> None:
    params = data_params(VECTORS, _vectors)
    require_data(params)
    assert len(params) == 11


@pytest.mark.parametrize("path", data_params(EXAMPLES, _vectors))
def test_gs1_example_hashes_are_well_formed_and_deterministic(path: Path) -> None:
    first = document_hash_ids(load_document(path))
    again = document_hash_ids(load_document(path))
    assert first == again
    assert first, "every GS1 example holds at least one event"
    for hash_id in first:
        assert hash_id.startswith("ni:///sha-256;")
        assert hash_id.endswith("?ver=CBV2.0")
        assert len(hash_id) == len("ni:///sha-256;?ver=CBV2.0") + 64

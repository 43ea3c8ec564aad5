"""The code lists shipped with the library: what they hold, the UNECE release reader and
``ledger codelists update`` (on a small release written here), the lists in force, and (when
``../shared/data`` is there) how they compare with independent copies of the same lists."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ledger.errors import ConfigurationError, InvalidHsCode, InvalidLocode
from ledger.records import (
    CodeLists,
    HsCode,
    Locode,
    LocodeDirectory,
    active_code_lists,
    great_circle_km,
    load_unlocode,
    packaged_hs,
    packaged_unlocode,
    packaged_unlocode_source,
    parse_unece_coordinates,
    read_unece_release,
    use_code_lists,
)
from tests.data_paths import DATA_ENV, REPO_ROOT, shared_file

# ------------------------------------------------------------------------------------------
# What is shipped
# ------------------------------------------------------------------------------------------


def test_the_packaged_unlocode_list_is_a_whole_release_with_coordinates() -> None:
    directory = packaged_unlocode()
    source = packaged_unlocode_source()
    assert len(directory) == source["codes"] > 115_000
    assert source["with_coordinates"] > 90_000
    assert source["edition"]
    assert "UNECE" in source["source"]
    assert source["licence"]
    adelaide, shanghai = directory.get("AUADL"), directory.get("CN SGH")
    assert adelaide is not None
    assert shanghai is not None
    assert (adelaide.name, adelaide.subdivision, adelaide.is_seaport) == ("Adelaide", "SA", True)
    assert adelaide.coordinates is not None
    assert shanghai.coordinates is not None
    assert 7_000 < great_circle_km(adelaide.coordinates, shanghai.coordinates) < 7_600
    brussels = directory.get("BEBRU")  # listed twice with two spellings
    assert brussels is not None
    assert set(brussels.names) >= {"Brussel (Bruxelles)", "Bruxelles (Brussel)"}
    assert "DE9B0" in directory  # listed with a 0 in the location part


@pytest.mark.parametrize("code", ["AUZZZ", "AUADX", "NLZZZ", "CNZZY"])
def test_well_formed_codes_that_are_not_listed_are_refused(code: str) -> None:
    Locode(code)  # the format rule alone accepts it
    with pytest.raises(InvalidLocode) as err:
        active_code_lists().locode(code, field="location")
    assert (err.value.field, err.value.rule) == ("location", "is not in the UN/LOCODE list")


def test_cnzzz_is_a_real_entry_and_is_accepted() -> None:
    """CNZZZ looks made up but is Zhengzhoudong Railway Station (status AS)."""
    entry = packaged_unlocode().entry("CNZZZ")
    assert "Zhengzhou" in entry.name
    assert active_code_lists().locode("CNZZZ") == Locode("CNZZZ")


def test_the_packaged_hs_nomenclature_is_hs_2022() -> None:
    hs = packaged_hs()
    subheadings = hs.subheadings()
    assert len(subheadings) == 5_612  # 5,613 in the source, less its '999999' "not specified"
    assert hs.description("2204") is not None
    assert "220421" in subheadings
    assert {"880211", "851713", "851714"} <= subheadings  # new in HS 2022
    # 2204.99 never existed; 8802.10 and 8517.12 were HS 2017 codes, split in HS 2022
    for not_2022 in ("2204.99", "8802.10", "8517.12"):
        HsCode(not_2022)  # well-formed
        with pytest.raises(InvalidHsCode) as err:
            active_code_lists().hs_code(not_2022, field="hs_codes[0]")
        assert err.value.rule == "is not an HS 2022 subheading"


def test_the_packaged_file_is_compact_and_sorted() -> None:
    path = REPO_ROOT / "ledger" / "records" / "data" / "unlocode.tsv.gz"
    assert path.stat().st_size < 3_000_000
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\n").split("\t")
        codes = [line[:5] for line in handle]
    assert header[:7] == ["code", "name", "subdivision", "status", "functions", "lat", "lon"]
    assert codes == sorted(set(codes))


# ------------------------------------------------------------------------------------------
# The lists in force
# ------------------------------------------------------------------------------------------


def test_installed_lists_take_precedence_and_missing_ones_fall_back() -> None:
    mine = LocodeDirectory({"NLRTM": ("Rotterdam", (), None, None, "1-------", 51.9, 4.5)})
    use_code_lists(CodeLists(locodes=mine, hs=None))
    try:
        assert active_code_lists().locode("NLRTM") == Locode("NLRTM")
        with pytest.raises(InvalidLocode):
            active_code_lists().locode("AUADL")
        assert active_code_lists().hs is packaged_hs()  # no HS list given: the packaged one
    finally:
        use_code_lists(None)
    assert active_code_lists().locode("AUADL") == Locode("AUADL")


# ------------------------------------------------------------------------------------------
# The UNECE release reader and `ledger codelists update`
# ------------------------------------------------------------------------------------------

RELEASE_ROWS = [
    ["", "AU", "", ".AUSTRALIA", "", "", "", "", "", "", "", ""],
    [
        "",
        "AU",
        "ADL",
        "Adelaide",
        "Adelaide",
        "SA",
        "12345---",
        "AI",
        "9501",
        "",
        "3455S 13835E",
        "",
    ],
    [
        "",
        "SE",
        "GOT",
        "Göteborg",
        "Goteborg",
        "O",
        "12345---",
        "AA",
        "0501",
        "",
        "5743N 01158E",
        "",
    ],
    [
        "",
        "BE",
        "BRU",
        "Brussel (Bruxelles)",
        "Brussel (Bruxelles)",
        "BRU",
        "1234----",
        "AI",
        "",
        "",
        "5050N 00420E",
        "",
    ],
    ["=", "BE", "BRU", "Bruxelles (Brussel)", "Bruxelles (Brussel)", "BRU", "", "", "", "", "", ""],
    ["", "XZ", "XYZ", "Platform", "Platform", "", "7-------", "RQ", "", "", "2444N 05045", ""],
]


def _release(tmp_path: Path, encoding: str) -> Path:
    folder = tmp_path / "loc231csv"
    folder.mkdir()
    half = len(RELEASE_ROWS) // 2
    for part, rows in ((1, RELEASE_ROWS[:half]), (2, RELEASE_ROWS[half:])):
        with (folder / f"2023-1 UNLOCODE CodeListPart{part}.csv").open(
            "w", encoding=encoding, newline=""
        ) as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
    (folder / "2023-1 SubdivisionCodes.csv").write_text('"AU","SA","South Australia"\n')
    archive = tmp_path / "loc231csv.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.iterdir()):
            out.write(path, path.name)
    return archive


@pytest.mark.parametrize("encoding", ["latin-1", "utf-8"])
def test_a_unece_release_is_read_from_its_zip(tmp_path: Path, encoding: str) -> None:
    release = read_unece_release(_release(tmp_path, encoding))
    assert release.edition == "2023-1"
    assert sorted(release.rows) == ["AUADL", "BEBRU", "SEGOT", "XZXYZ"]
    name, alts, subdivision, status, functions, lat, lon = release.rows["SEGOT"]
    assert (name, alts, subdivision, status, functions) == (
        "Göteborg",
        ("Goteborg",),
        "O",
        "AA",
        "12345---",
    )
    assert lat == pytest.approx(57 + 43 / 60)
    assert lon == pytest.approx(11 + 58 / 60)
    assert release.rows["BEBRU"][1] == ("Bruxelles (Brussel)",)
    assert release.rows["XZXYZ"][5] is None  # a malformed coordinate is left out, not guessed
    assert release.with_coordinates == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3455S 13835E", (-(34 + 55 / 60), 138 + 35 / 60)),
        ("4042N 07400W", (40 + 42 / 60, -74.0)),
        ("", None),
        ("2444N 05045", None),
        ("4275N 00100E", None),  # 75 minutes
        ("26.8128N 89.1903E", None),  # decimal degrees, not the list's format
    ],
)
def test_unece_coordinates(text: str, expected: tuple[float, float] | None) -> None:
    parsed = parse_unece_coordinates(text)
    if expected is None:
        assert parsed is None
    else:
        assert parsed == pytest.approx(expected)


def test_codelists_update_writes_a_list_that_loads(tmp_path: Path) -> None:
    archive = _release(tmp_path, "latin-1")
    out = tmp_path / "out" / "unlocode.tsv.gz"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "codelists",
            "update",
            "--unlocode",
            str(archive),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "UN/LOCODE 2023-1: 4 codes, 3 with coordinates" in done.stdout
    meta = json.loads((tmp_path / "out" / "unlocode.source.json").read_text(encoding="utf-8"))
    assert (meta["edition"], meta["codes"], meta["with_coordinates"]) == ("2023-1", 4, 3)
    assert "UNECE" in meta["source"]
    assert "UNECE" in meta["licence"]
    loaded = load_unlocode(out)
    assert sorted(loaded) == ["AUADL", "BEBRU", "SEGOT", "XZXYZ"]
    assert loaded.coordinates("AUADL") == pytest.approx((-(34 + 55 / 60), 138 + 35 / 60), abs=1e-4)
    assert loaded.get("SEGOT").name == "Göteborg"  # type: ignore[union-attr]
    first = out.read_bytes()
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "codelists",
            "update",
            "--unlocode",
            str(archive),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert again.returncode == 0
    assert out.read_bytes() == first  # the same release gives the same bytes


def test_codelists_update_refuses_a_source_without_entries(tmp_path: Path) -> None:
    empty = tmp_path / "nothing.csv"
    empty.write_text("")
    with pytest.raises(ConfigurationError, match="no UN/LOCODE entry found"):
        read_unece_release(empty)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "codelists",
            "update",
            "--unlocode",
            str(empty),
            "--out",
            str(tmp_path / "x.tsv.gz"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert "no UN/LOCODE entry found" in done.stderr
    assert not (tmp_path / "x.tsv.gz").exists()


def test_an_operator_list_in_the_unece_layout_is_read(tmp_path: Path) -> None:
    archive = _release(tmp_path, "utf-8")
    assert sorted(load_unlocode(archive)) == ["AUADL", "BEBRU", "SEGOT", "XZXYZ"]
    # the re-published layout: a header row, Status before Function
    republished = tmp_path / "code-list.csv"
    header = "Change,Country,Location,Name,NameWoDiacritics,Subdivision,Status,Function,Date,IATA,"
    republished.write_text(
        header + "Coordinates,Remarks\n"
        ",AU,ADL,Adelaide,Adelaide,SA,AI,12345---,9501,,3455S 13835E,\n",
        encoding="utf-8",
    )
    entry = load_unlocode(republished).entry("AUADL")
    assert (entry.status, entry.functions) == ("AI", "12345---")
    assert entry.coordinates == pytest.approx((-(34 + 55 / 60), 138 + 35 / 60))


# ------------------------------------------------------------------------------------------
# Against independent copies of the same lists (../shared/data; skipped without it)
# ------------------------------------------------------------------------------------------


def test_every_seaport_of_a_later_copy_is_listed_and_placed_alike() -> None:
    """The seaports of a later UN/LOCODE edition (geoapify's derived copy): all but the few
    added since the packaged edition are listed, and where both give coordinates they agree."""
    seaports = LocodeDirectory.from_csv(shared_file("unlocode", "unlocode_seaports.csv"))
    packaged = packaged_unlocode()
    missing = [code for code in seaports if code not in packaged]
    assert len(missing) <= 20, missing
    far = []
    compared = 0
    for code in seaports:
        a, b = seaports.coordinates(code), packaged.coordinates(code)
        if a is not None and b is not None:
            compared += 1
            if great_circle_km(a, b) > 5:
                far.append(code)
    assert compared > 10_000
    assert len(far) / compared < 0.01, far[:20]


def test_the_whole_later_list_differs_only_by_the_codes_of_later_editions() -> None:
    later = LocodeDirectory.from_csv(shared_file("unlocode", "unlocode_all_compact.csv"))
    packaged = packaged_unlocode()
    assert len(set(later) - set(packaged)) < 300
    assert len(set(packaged) - set(later)) < 50


def test_the_hs_nomenclature_equals_an_independent_copy() -> None:
    with shared_file("hs", "harmonized-system.csv").open(encoding="utf-8") as handle:
        copy = {row["hscode"] for row in csv.DictReader(handle) if len(row["hscode"]) == 6}
    assert {str(c) for c in packaged_hs().subheadings()} == copy - {"999999"}


def test_the_test_data_folder_can_be_pointed_elsewhere(tmp_path: Path) -> None:
    """``make test-plain-clone`` runs the suite as a clone without ../shared does."""
    code = "import tests.data_paths as d; print(d.SHARED_DATA)"
    env = {"PATH": "/usr/bin:/bin", DATA_ENV: str(tmp_path / "none")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
    )
    assert done.stdout.strip() == str(tmp_path / "none")


def test_codelists_show_names_the_lists_in_force(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "codelists", "show"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["unlocode"]["file"] == "packaged"
    assert shown["unlocode"]["codes"] == len(packaged_unlocode())
    assert shown["unlocode"]["edition"] == packaged_unlocode_source()["edition"]
    assert shown["hs"]["subheadings"] == 5_612

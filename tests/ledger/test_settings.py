"""Settings: environment, a TOML file (``LEDGER_CONFIG`` or ``ledger.toml``), precedence, one
file shared with the gateway, and the configured code lists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError as SettingsValidationError

from gateway.config import GatewaySettings
from ledger.errors import ConfigurationError, InvalidHsCode, InvalidLocode
from ledger.records import HsCode, Locode, packaged_hs, packaged_unlocode
from ledger.settings import GATEWAY_KEYS, Settings


@pytest.fixture(autouse=True)
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No LEDGER_* variables, and an empty working directory (no stray ledger.toml)."""
    for name in list(os.environ):
        if name.startswith("LEDGER_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_defaults_without_a_file() -> None:
    settings = Settings()
    assert settings.chain_id == 31337
    assert settings.config is None
    # the packaged lists, with no setting
    assert settings.code_lists().locodes is packaged_unlocode()
    assert settings.code_lists().hs is packaged_hs()


def test_file_named_by_ledger_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('chain_id = 4242\ndata_dir = "/srv/ledger"\nconfirmations = 2\n')
    monkeypatch.setenv("LEDGER_CONFIG", str(path))
    settings = Settings()
    assert settings.chain_id == 4242
    assert settings.data_dir == Path("/srv/ledger")
    assert settings.confirmations == 2


def test_ledger_toml_in_the_working_directory(clean_environment: Path) -> None:
    (clean_environment / "ledger.toml").write_text('rpc_url = "http://10.0.0.5:8545"\n')
    settings = Settings()
    assert settings.rpc_url == "http://10.0.0.5:8545"
    assert not settings.embedded


def test_ledger_config_wins_over_ledger_toml(
    clean_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "ledger.toml").write_text("chain_id = 1\n")
    named = tmp_path / "named.toml"
    named.write_text("chain_id = 2\n")
    monkeypatch.setenv("LEDGER_CONFIG", str(named))
    assert Settings().chain_id == 2


def test_environment_over_file_and_keywords_over_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / "ledger.toml").write_text("chain_id = 4242\nconfirmations = 3\n")
    monkeypatch.setenv("LEDGER_CHAIN_ID", "7")
    settings = Settings()
    assert settings.chain_id == 7, "environment over file"
    assert settings.confirmations == 3, "the file still gives what the environment does not"
    assert Settings(chain_id=9).chain_id == 9, "keyword arguments over environment"


def test_ledger_config_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such.toml"
    monkeypatch.setenv("LEDGER_CONFIG", str(missing))
    with pytest.raises(ConfigurationError, match="LEDGER_CONFIG names the settings file") as err:
        Settings()
    assert str(missing) in str(err.value)
    assert "no such file" in str(err.value)


def test_config_keyword_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"config names the settings file .* no such"):
        Settings(config=tmp_path / "absent.toml")


def test_a_file_that_is_not_toml_is_an_error_naming_it(clean_environment: Path) -> None:
    (clean_environment / "ledger.toml").write_text("chain_id = = 3\n")
    with pytest.raises(ConfigurationError, match=r"ledger\.toml is not valid TOML"):
        Settings()


SHARED = """
chain_id = 4242
rpc_url = "http://10.0.0.5:8545"
cors_origins = ["https://verifier.example.org"]
batch_max_size = 250
"""


def test_one_file_holds_library_and_gateway_settings(clean_environment: Path) -> None:
    (clean_environment / "ledger.toml").write_text(SHARED)
    library = Settings()
    assert library.chain_id == 4242
    assert not hasattr(library, "cors_origins")
    gateway = GatewaySettings()
    assert gateway.chain_id == 4242
    assert gateway.cors_origins == ["https://verifier.example.org"]
    assert gateway.batch_max_size == 250


@pytest.mark.parametrize("cls", [Settings, GatewaySettings])
def test_an_unknown_key_in_the_file_is_an_error_naming_it(
    clean_environment: Path, cls: type[Settings]
) -> None:
    (clean_environment / "ledger.toml").write_text(SHARED + 'cors_orgins = ["typo"]\n')
    with pytest.raises(SettingsValidationError) as err:
        cls()
    errors = err.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(("cors_orgins",), "extra_forbidden")]


def test_the_gateway_keys_are_the_ones_gateway_settings_adds() -> None:
    assert set(GATEWAY_KEYS) == set(GatewaySettings.model_fields) - set(Settings.model_fields)


# ------------------------------------------------------------------------------------------
# unlocode_csv and hs_csv: the code lists that input is checked against
# ------------------------------------------------------------------------------------------

UNLOCODES = """unlocode,nameWoDiacritics,subdivision,status,function
AUADL,Adelaide,SA,AI,12345---
CNSGH,Shanghai,SH,AI,12345---
"""

HS = """section,hscode,description,parent,level
IV,22,Beverages,TOTAL,2
IV,2204,Wine of fresh grapes,22,4
IV,220421,In containers holding 2 l or less,2204,6
"""


def _lists(tmp_path: Path) -> Settings:
    (tmp_path / "unlocode.csv").write_text(UNLOCODES)
    (tmp_path / "hs.csv").write_text(HS)
    return Settings(unlocode_csv=tmp_path / "unlocode.csv", hs_csv=tmp_path / "hs.csv")


def test_listed_codes_are_accepted(tmp_path: Path) -> None:
    codes = _lists(tmp_path).code_lists()
    assert codes.locode("CN SGH", field="location") == Locode("CNSGH")
    assert codes.hs_code("2204.21") == HsCode("220421")
    assert codes.hs_codes(["220421", "2204 21"]) == [HsCode("220421")] * 2


def test_a_locode_absent_from_the_configured_list_is_refused(tmp_path: Path) -> None:
    codes = _lists(tmp_path).code_lists()
    Locode("NLRTM")  # well-formed, so only the list can refuse it
    with pytest.raises(InvalidLocode) as err:
        codes.locode("NLRTM", field="location")
    assert err.value.field == "location"
    assert err.value.rule == "is not in the UN/LOCODE list"


def test_an_hs_code_absent_from_the_configured_nomenclature_is_refused(tmp_path: Path) -> None:
    codes = _lists(tmp_path).code_lists()
    HsCode("2204.29")  # well-formed, so only the nomenclature can refuse it
    with pytest.raises(InvalidHsCode) as err:
        codes.hs_codes(["2204.21", "2204.29"], field="hs_codes")
    assert err.value.field == "hs_codes[1]"
    assert err.value.rule == "is not an HS 2022 subheading"
    with pytest.raises(InvalidHsCode, match=r"^hs_codes\[0\]: is not an HS 2022 subheading"):
        codes.hs_codes_digest(["2204.29"])


def test_without_configured_lists_the_packaged_ones_apply() -> None:
    codes = Settings().code_lists()
    assert codes.locode("NLRTM") == Locode("NLRTM")
    assert codes.hs_code("2204.29") == HsCode("220429")
    with pytest.raises(InvalidLocode) as err:
        codes.locode("AUZZZ", field="location")
    assert (err.value.field, err.value.rule) == ("location", "is not in the UN/LOCODE list")
    with pytest.raises(InvalidHsCode) as hs_err:
        codes.hs_code("2204.99", field="hs_codes[0]")
    assert (hs_err.value.field, hs_err.value.rule) == (
        "hs_codes[0]",
        "is not an HS 2022 subheading",
    )
    with pytest.raises(InvalidLocode) as err:
        codes.locode("N1RTM", field="location")
    assert err.value.field == "location"


def test_code_lists_from_the_settings_file(tmp_path: Path, clean_environment: Path) -> None:
    (tmp_path / "hs.csv").write_text(HS)
    (clean_environment / "ledger.toml").write_text(f'hs_csv = "{tmp_path / "hs.csv"}"\n')
    with pytest.raises(InvalidHsCode, match="is not an HS 2022 subheading"):
        Settings().code_lists().hs_code("2204.29")


def test_a_configured_list_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="hs_csv: cannot read"):
        Settings(hs_csv=tmp_path / "missing.csv").code_lists()
    with pytest.raises(ConfigurationError, match="cannot read"):
        Settings(unlocode_csv=tmp_path / "missing.csv").code_lists()


def test_commands_find_the_data_directorys_running_node(clean_environment: Path) -> None:
    data = clean_environment / "data"
    assert Settings(data_dir=data).effective_rpc_url == "http://127.0.0.1:8545"
    (data / "node").mkdir(parents=True)
    (data / "node" / "rpc-url").write_text("http://127.0.0.1:18545\n", encoding="utf-8")
    assert Settings(data_dir=data).effective_rpc_url == "http://127.0.0.1:18545"
    # A node named outright wins over the one the data directory ran.
    assert Settings(data_dir=data, node_port=9545).effective_rpc_url == "http://127.0.0.1:9545"
    assert Settings(data_dir=data, rpc_url="http://10.0.0.1:8545").effective_rpc_url == (
        "http://10.0.0.1:8545"
    )


def test_the_node_writes_its_url_while_it_runs(tmp_path: Path) -> None:
    from ledger.chain import AnvilNode
    from tests.conftest import free_port

    port = free_port()
    node = AnvilNode(port=port, state_dir=tmp_path / "node")
    with node:
        written = (tmp_path / "node" / "rpc-url").read_text(encoding="utf-8").strip()
        assert written == f"http://127.0.0.1:{port}"
        assert Settings(data_dir=tmp_path).effective_rpc_url == written
    assert not (tmp_path / "node" / "rpc-url").exists()

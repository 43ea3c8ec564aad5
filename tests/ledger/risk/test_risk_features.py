"""History features: leakage-free by construction, and right on small hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ledger.errors import ValidationError
from ledger.risk.features import FeatureConfig, build_features, describe, feature_names
from tests.ledger.risk.risk_synthetic import synthetic_declarations


def numeric(features: pd.DataFrame) -> pd.DataFrame:
    return features.select_dtypes("number")


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame, rows: pd.Index) -> None:
    pd.testing.assert_frame_equal(a.loc[rows], b.loc[rows])


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return synthetic_declarations(400, days=40)


def test_own_label_does_not_change_own_features(table: pd.DataFrame) -> None:
    before = build_features(table)
    for pos in (0, 150, 399):
        flipped = table.copy()
        flipped.loc[flipped.index[pos], ["fraud", "critical"]] = (
            1.0 - flipped.iloc[pos]["fraud"],
            1.0 - flipped.iloc[pos]["critical"],
        )
        after = build_features(flipped)
        assert_same_rows(before, after, table.index[[pos]])


def test_later_rows_do_not_change_earlier_features(table: pd.DataFrame) -> None:
    before = build_features(table)
    day = table["date"].iloc[200]
    later = table["date"] >= day  # the same day and after: none of them is "strictly earlier"
    changed = table.copy()
    changed.loc[later, "fraud"] = 1.0 - changed.loc[later, "fraud"]
    changed.loc[later, "item_price"] = changed.loc[later, "item_price"] * 100
    changed.loc[later, "importer_id"] = "IMP1"
    after = build_features(changed)
    earlier = table.index[~later.to_numpy()]
    assert len(earlier) > 100
    assert_same_rows(before, after, earlier)
    # and the change does reach the later rows, so the comparison can fail
    assert not numeric(before.loc[later]).equals(numeric(after.loc[later]))


def test_labels_of_unlabelled_rows_are_never_read(table: pd.DataFrame) -> None:
    scored = table["date"] >= table["date"].iloc[300]
    mask = ~scored.to_numpy()
    before = build_features(table, labelled=mask)
    changed = table.copy()
    changed.loc[scored, "fraud"] = 1.0
    changed.loc[scored, "critical"] = 1.0
    pd.testing.assert_frame_equal(before, build_features(changed, labelled=mask))
    # with their labels usable, the later rows' rates do move
    assert not before.equals(build_features(changed))


def test_rates_counts_and_flags_on_a_hand_made_history() -> None:
    base = synthetic_declarations(6, days=6)
    base["importer_id"] = ["A", "A", "B", "A", "A", "A"]
    base["fraud"] = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    base["critical"] = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    base["date"] = pd.to_datetime(
        ["2020-01-01", "2020-01-02", "2020-01-02", "2020-01-03", "2020-01-03", "2020-01-04"]
    )
    base["departure_country"] = ["HK", "CN", "CN", "CN", "CN", "CN"]
    base["origin_country"] = ["CN"] * 6
    base["tax_type"] = ["FCN1", "A", "A", "C", "A", "A"]
    m = 2.0
    f = build_features(base, config=FeatureConfig(keys=("importer",), smoothing=m))
    assert list(f["importer_n"]) == [0, 1, 0, 2, 2, 4]
    assert np.isnan(f["importer_fraud_rate"].iloc[0])  # no labelled history at all yet
    # row 3 (2020-01-03): earlier = rows 0, 1 (A: 2 frauds of 2), 2 (B); prior 2/3
    prior = 2 / 3
    assert f["importer_fraud_rate"].iloc[3] == pytest.approx((2 + m * prior) / (2 + m))
    assert f["importer_critical_rate"].iloc[3] == pytest.approx((1 + m * 1 / 3) / (2 + m))
    # row 5: A's earlier rows 0, 1, 3, 4 (2 frauds of 4), prior 2/5 over all 5 earlier
    assert f["importer_fraud_rate"].iloc[5] == pytest.approx((2 + m * 2 / 5) / (4 + m))
    assert list(f["origin_differs"]) == [1.0, 0, 0, 0, 0, 0]
    assert list(f["preference"]) == [1.0, 0, 0, 0, 0, 0]
    assert list(f["new_importer"]) == [1.0, 0, 1, 0, 0, 0]


def test_value_per_kg_against_the_hs6_history() -> None:
    base = synthetic_declarations(5, days=5)
    base["hs6"] = "440890"
    base["date"] = pd.date_range("2020-01-01", periods=5)
    base["net_mass_kg"] = 10.0
    base["item_price"] = [100.0, 120.0, 80.0, 100.0, 10_000.0]
    f = build_features(base)
    assert f["value_z_hs6"].iloc[:2].isna().all()  # fewer than two earlier
    assert f["value_z_hs6"].iloc[4] > 10
    assert abs(f["value_z_hs6"].iloc[3]) < 1


def test_extra_features_are_joined_by_declaration_id(table: pd.DataFrame) -> None:
    first, second = table["declaration_id"].iloc[[0, 5]]
    extra = {first: {"aeo_credit": 1.0}, second: {"findings_critical": 2.0}}
    f = build_features(table, extra=extra)
    assert list(f.columns) == [*feature_names(), "aeo_credit", "findings_critical"]
    assert f["aeo_credit"].iloc[0] == 1.0
    assert f["findings_critical"].iloc[5] == 2.0
    assert f["aeo_credit"].iloc[1:].isna().all()
    with pytest.raises(ValidationError, match="reuse feature names"):
        build_features(table, extra={first: {"importer_n": 1.0}})


def test_describe_puts_features_in_plain_words(table: pd.DataFrame) -> None:
    f = build_features(table)
    row = {**table.iloc[300].to_dict(), **f.iloc[300].to_dict()}
    text = describe("importer_fraud_rate", row, overall_rate=0.2)
    assert text.startswith("importer: past fraud rate ")
    assert "(overall 20 %)" in text
    row["origin_differs"] = 1.0
    row["departure_country"], row["origin_country"] = "HK", "CN"
    assert (
        describe("origin_differs", row) == "origin (CN) differs from the country of departure (HK)"
    )
    for name in f.columns:
        assert describe(name, row)

"""Paired comparisons A - B: exact zero for identical runs, a planted effect, values from h5py."""

import h5py
import numpy as np
import pytest

from therasim_analysis import compare, io


def _national(path, name):
    with h5py.File(path, "r") as f:
        return f[f"series/national/{name}"][...]


def test_identical_runs_differ_by_exactly_zero(rollout, rollout_again):
    e = compare.paired_effects(rollout, rollout_again, outcomes=io.series_names(rollout))
    assert set(e["dimension"]) == {"national", "region", "severity"}
    for col in ("effect_mean", "effect_q025", "effect_q975", "per_1000_mean", "per_1000_q025",
                "per_1000_q975", "national_mean", "national_q025", "national_q975"):
        values = e[col].to_numpy()
        values = values[~np.isnan(values)]
        assert values.size > 0
        assert np.all(values == 0.0), col
    costs = compare.cost_effects(rollout, rollout_again)
    assert np.all(costs[["effect_mean", "effect_q025", "effect_q975"]].to_numpy() == 0.0)
    ce = compare.cost_effectiveness(rollout, rollout_again)
    assert (ce["benefit_positive"] == 0).all() and ce["note"].str.contains("not positive").all()


def test_planted_rollout_effect_has_the_expected_direction(rollout, no_dialog):
    e = compare.paired_effects(rollout, no_dialog, outcomes=["mean_unmet_needs", "dialog_sessions",
                                                             "mean_qol", "cost_dialog_time"])
    nat = e[(e["dimension"] == "national") & (e["period"] == "years 1-2")].set_index("outcome")
    # every DIALOG session acts on needs: fewer unmet needs in every replicate
    assert nat.loc["mean_unmet_needs", "effect_q975"] < -0.3
    assert nat.loc["dialog_sessions", "effect_q025"] > 0
    assert nat.loc["mean_qol", "effect_mean"] > 0
    assert nat.loc["cost_dialog_time", "effect_q025"] > 0
    # ... and in every subgroup
    sub = e[(e["outcome"] == "mean_unmet_needs") & (e["period"] == "years 1-2") & (e["dimension"] != "national")]
    assert len(sub) == 3 + 3 and (sub["effect_mean"] < 0).all()


def test_effects_equal_paired_differences_from_h5py(rollout, no_dialog):
    e = compare.paired_effects(rollout, no_dialog, outcomes=["bed_days", "mean_qol"], population=300000)
    t = io.time_axis(rollout)
    year = t["year"].to_numpy()
    # bed-days (a flow) in year 2: per-replicate sums, A - B, mean and quantiles
    a, b = _national(rollout, "bed_days"), _national(no_dialog, "bed_days")
    d = a[:, year == 2].sum(axis=1) - b[:, year == 2].sum(axis=1)
    row = e[(e["outcome"] == "bed_days") & (e["dimension"] == "national") & (e["period"] == "year 2")].iloc[0]
    assert row["effect_mean"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-9)
    assert row["effect_q025"] == pytest.approx(np.quantile(d, 0.025), rel=1e-12, abs=1e-9)
    assert row["effect_q975"] == pytest.approx(np.quantile(d, 0.975), rel=1e-12, abs=1e-9)
    n = _national(rollout, "patients")[:, 0]
    assert row["per_1000_mean"] == pytest.approx(np.mean(d / n * 1000), rel=1e-12, abs=1e-9)
    assert row["national_mean"] == pytest.approx(d.mean() * 300000 / 300, rel=1e-12, abs=1e-9)
    # mean QoL (a level) by region at the horizon: re-weight the groups by the patients series
    with h5py.File(rollout, "r") as fa, h5py.File(no_dialog, "r") as fb:
        regions = list(fa["dimensions/region"].asstr()[:])
        def region_mean(f, r):
            m = f["series/grouped/mean_qol"][:, -1, :, r, :]
            w = f["series/grouped/patients"][:, -1, :, r, :]
            return np.nansum(m * w, axis=(1, 2)) / w.sum(axis=(1, 2))
        for r, name in enumerate(regions):
            d = region_mean(fa, r) - region_mean(fb, r)
            row = e[(e["outcome"] == "mean_qol") & (e["group"] == name) & (e["period"] == "years 1-2")].iloc[0]
            assert row["effect_mean"] == pytest.approx(d.mean(), rel=1e-9, abs=1e-12)
            assert row["effect_q975"] == pytest.approx(np.quantile(d, 0.975), rel=1e-9, abs=1e-12)
            assert np.isnan(row["per_1000_mean"])          # a mean is not scaled to patients
            assert row["unit"] == fa["series/national/mean_qol"].attrs["unit"]


def test_costs_and_cost_per_benefit_from_h5py(rollout, no_dialog):
    costs = compare.cost_effects(rollout, no_dialog)
    ce = compare.cost_effectiveness(rollout, no_dialog).set_index("benefit")
    total = {}
    for name in ("cost_training", "cost_devices", "cost_dialog_time", "cost_bed_days", "cost_contacts"):
        total[name] = _national(rollout, name)[:, 1:].sum(axis=1) - _national(no_dialog, name)[:, 1:].sum(axis=1)
    intervention = total["cost_training"] + total["cost_devices"] + total["cost_dialog_time"]
    savings = -(total["cost_bed_days"] + total["cost_contacts"])
    net = intervention - savings
    horizon = costs[costs["period"] == "years 1-2"].set_index("item")
    assert horizon.loc["intervention_cost", "effect_mean"] == pytest.approx(intervention.mean(), rel=1e-12)
    assert horizon.loc["intervention_cost", "effect_q025"] > 0
    assert horizon.loc["savings", "effect_mean"] == pytest.approx(savings.mean(), rel=1e-12, abs=1e-6)
    assert horizon.loc["net_cost", "effect_q975"] == pytest.approx(np.quantile(net, 0.975), rel=1e-12, abs=1e-6)
    assert horizon.loc["net_cost", "unit"] == "GBP"
    adm = lambda p: (_national(p, "admissions_voluntary") + _national(p, "admissions_involuntary"))[:, 1:].sum(axis=1)
    avoided = adm(no_dialog) - adm(rollout)
    assert ce.loc["admissions_avoided", "ratio"] == pytest.approx(net.mean() / avoided.mean(), rel=1e-12)
    q = _national(rollout, "mean_qol")[:, -1] - _national(no_dialog, "mean_qol")[:, -1]
    per_1000 = net / 300 * 1000
    assert ce.loc["qol_gained", "ratio"] == pytest.approx(per_1000.mean() / q.mean(), rel=1e-9)
    if (q > 0).all():
        assert ce.loc["qol_gained", "ratio_q025"] == pytest.approx(np.quantile(per_1000 / q, 0.025), rel=1e-9)
    assert "per 1,000 patients" in ce.loc["qol_gained", "ratio_unit"]


def test_pairing_is_refused_for_other_seeds_or_replicates(runner, rollout):
    other_seed = runner.run("other_seed.h5", "--seed", "12")
    with pytest.raises(compare.PairingError, match="seeds differ"):
        compare.paired_effects(rollout, other_seed)
    two = runner.run("two_replicates.h5", "--replicates", "2")
    with pytest.raises(compare.PairingError, match="numbers of replicates differ"):
        compare.paired_effects(rollout, two)

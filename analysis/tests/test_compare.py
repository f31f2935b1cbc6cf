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
    assert (ce["benefit_positive"] == 0).all() and (ce["verdict"] == "no difference").all()
    assert ce["ratio"].isna().all()                     # nothing gained: no ratio, not 0/0 or infinity


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


def _per_year(path, name, rate=0.0):
    """Per-replicate sums of a flow over each year, year y times 1 / (1 + rate)^(y - 1): [R, years]."""
    year = io.time_axis(path)["year"].to_numpy()
    v = _national(path, name)
    return np.stack([v[:, year == y].sum(axis=1) / (1 + rate) ** (y - 1) for y in range(1, year.max() + 1)], axis=1)


COSTS = ("cost_training", "cost_devices", "cost_dialog_time", "cost_bed_days", "cost_contacts")


def test_costs_by_category_undiscounted_and_discounted_from_h5py(rollout, no_dialog):
    costs = compare.cost_effects(rollout, no_dialog, discount_rate=0.035)
    assert costs.attrs["discount_rate"] == 0.035 and costs.attrs["price_year"] == 2024
    for rate, discounted in ((0.0, False), (0.035, True)):
        total = {n: (_per_year(rollout, n, rate) - _per_year(no_dialog, n, rate)).sum(axis=1) for n in COSTS}
        intervention = total["cost_training"] + total["cost_devices"] + total["cost_dialog_time"]
        service = total["cost_bed_days"] + total["cost_contacts"]
        net = intervention + service
        horizon = costs[(costs["period"] == "years 1-2") & (costs["discounted"] == discounted)].set_index("item")
        assert horizon.index.is_unique
        assert horizon.loc["intervention_cost", "effect_mean"] == pytest.approx(intervention.mean(), rel=1e-12)
        assert horizon.loc["intervention_cost", "effect_q025"] > 0
        assert horizon.loc["service_cost", "effect_mean"] == pytest.approx(service.mean(), rel=1e-12, abs=1e-6)
        assert horizon.loc["net_cost", "effect_q975"] == pytest.approx(np.quantile(net, 0.975), rel=1e-12, abs=1e-6)
        assert horizon.loc["cost_bed_days", "effect_mean"] == pytest.approx(total["cost_bed_days"].mean(), rel=1e-12,
                                                                            abs=1e-6)
        assert horizon.loc["net_cost", "unit"] == "GBP"
    # year 2 of the discounted rows is year 2 undiscounted / 1.035; year 1 is not discounted
    y = costs[costs["item"] == "net_cost"].set_index(["discounted", "period"])["effect_mean"]
    assert y[(True, "year 1")] == y[(False, "year 1")]
    assert y[(True, "year 2")] == pytest.approx(y[(False, "year 2")] / 1.035, rel=1e-12)


def test_cost_effectiveness_is_discounted_and_never_a_negative_ratio(rollout, no_dialog):
    rate = 0.035
    ce = compare.cost_effectiveness(rollout, no_dialog, discount_rate=rate).set_index("benefit")
    net = sum((_per_year(rollout, n, rate) - _per_year(no_dialog, n, rate)).sum(axis=1) for n in COSTS)
    adm = lambda p: (_per_year(p, "admissions_voluntary", rate) + _per_year(p, "admissions_involuntary", rate)).sum(axis=1)
    avoided = adm(no_dialog) - adm(rollout)
    x = ce.loc["admissions_avoided"]
    assert x["net_cost_mean"] == pytest.approx(net.mean(), rel=1e-12)
    assert x["benefit_mean"] == pytest.approx(avoided.mean(), rel=1e-12, abs=1e-12)
    assert x["verdict"] == compare.verdict(net.mean(), avoided.mean())
    if x["verdict"] == "costs more, gains":
        assert x["ratio"] == pytest.approx(net.mean() / avoided.mean(), rel=1e-12)
    q = _national(rollout, "mean_qol")[:, -1] - _national(no_dialog, "mean_qol")[:, -1]    # a level: not discounted
    per_1000 = net / 300 * 1000
    x = ce.loc["qol_gained"]
    assert x["benefit_mean"] == pytest.approx(q.mean(), rel=1e-12)
    assert x["verdict"] == ("costs more, gains" if net.mean() > 0 and q.mean() > 0 else compare.verdict(net.mean(), q.mean()))
    if x["verdict"] == "costs more, gains":
        assert x["ratio"] == pytest.approx(per_1000.mean() / q.mean(), rel=1e-9)
        if (q > 0).all() and (net > 0).all():
            assert x["ratio_q025"] == pytest.approx(np.quantile(per_1000 / q, 0.025), rel=1e-9)
    assert "per 1,000 patients" in x["ratio_unit"]
    # whatever the case, no ratio is negative: dominance is said in words
    assert ((ce["ratio"] > 0) | ce["ratio"].isna()).all()
    assert ce.loc[ce["verdict"].isin(["dominant", "dominated", "no difference"]), "ratio"].isna().all()


def test_verdicts_and_break_even():
    assert compare.verdict(-5, 2) == "dominant" and compare.verdict(0, 2) == "dominant"
    assert compare.verdict(5, 2) == "costs more, gains"
    assert compare.verdict(5, -2) == "dominated" and compare.verdict(-5, -2) == "saves, loses"
    assert compare.verdict(5, 0) == "no difference"
    assert compare.break_even_year([10, -4, -7, -1]) == 3          # cumulative 10, 6, -1, -2
    assert compare.break_even_year([10, -20, 15, -1]) is None       # below zero in year 2, above again in 3
    assert compare.break_even_year([-1, -1]) == 1
    assert compare.discount_factor(0.035, 1) == 1.0
    assert compare.discount_factor(0.035, 3) == pytest.approx(1 / 1.035 ** 2, rel=1e-15)


def test_pairing_is_refused_for_other_seeds_or_replicates(runner, rollout):
    other_seed = runner.run("other_seed.h5", "--seed", "12")
    with pytest.raises(compare.PairingError, match="seeds differ"):
        compare.paired_effects(rollout, other_seed)
    two = runner.run("two_replicates.h5", "--replicates", "2")
    with pytest.raises(compare.PairingError, match="numbers of replicates differ"):
        compare.paired_effects(rollout, two)

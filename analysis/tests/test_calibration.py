"""Calibration targets: each statistic against a known answer, and one tiny objective evaluation."""

import math

import numpy as np
import pytest

from therasim_analysis import calibration as cal


def test_logistic_regression_recovers_planted_odds_ratios():
    rng = np.random.default_rng(1)
    n = 20000
    star_c, star_p = rng.uniform(0, 4, n), rng.uniform(0, 4, n)
    symptoms = rng.normal(40, 10, n)
    eta = -2.0 + math.log(1.66) * star_c + math.log(1.21) * star_p - 0.02 * (symptoms - 40)
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    lr = cal.logistic_regression(y, np.column_stack([star_c, star_p, symptoms]),
                                 names=["star_c", "star_p", "symptoms"])
    assert lr["converged"]
    assert lr["odds_ratio"]["star_c"] == pytest.approx(1.66, rel=0.06)
    assert lr["odds_ratio"]["star_p"] == pytest.approx(1.21, rel=0.06)
    assert lr["or_lo"]["star_c"] < 1.66 < lr["or_hi"]["star_c"]
    assert lr["coef"]["symptoms"] == pytest.approx(-0.02, abs=0.006)


def test_logistic_regression_matches_hand_computed_2x2_table():
    # A binary covariate: the MLE odds ratio is the table's cross-product ratio, and its standard
    # error is Woolf's sqrt(1/a + 1/b + 1/c + 1/d).
    x = np.r_[np.ones(40), np.ones(10), np.zeros(20), np.zeros(30)]
    y = np.r_[np.ones(40), np.zeros(10), np.ones(20), np.zeros(30)]
    lr = cal.logistic_regression(y, x, names=["x"])
    assert lr["odds_ratio"]["x"] == pytest.approx((40 * 30) / (10 * 20), rel=1e-8)
    assert lr["se"]["x"] == pytest.approx(math.sqrt(1 / 40 + 1 / 10 + 1 / 20 + 1 / 30), rel=1e-6)


def test_spearman_on_known_data():
    assert cal.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert cal.spearman([1, 2, 3, 4], [10, 100, 1000, 10000]) == pytest.approx(1.0)
    lo, hi = cal.spearman_interval(0.13, 507)
    assert (lo, hi) == pytest.approx((0.043, 0.214), abs=0.001)
    t = cal.target("star_spearman_1y")
    assert t["interval"] == pytest.approx((lo, hi), abs=0.001)


def test_objective_is_zero_on_target_and_weighted_by_published_intervals():
    on = {k: cal.target(k)["value"] for k, _ in cal.TRIAL_FIT}
    assert cal.objective_terms(on) == 0.0
    off = dict(on, trial_qol_d=0.20 + 0.19 / 1.959963984540054)   # one standard error off
    assert cal.objective_terms(off) == pytest.approx(1.0)


def test_every_target_has_value_and_source():
    keys = [t["key"] for t in cal.TARGETS]
    assert len(keys) == len(set(keys))
    for t in cal.TARGETS:
        assert t["source"] and isinstance(t["value"], float)
        if t["interval"] is not None:
            assert t["interval"][0] <= t["interval"][1]


def test_trial_objective_end_to_end(therasim, tmp_path):
    # 5 simulated DIALOG trials at the defaults: same seed, same answer (common random numbers).
    val, means = cal.trial_objective(therasim, {}, replicates=5, workdir=str(tmp_path))
    val2, _ = cal.trial_objective(therasim, {}, replicates=5, workdir=str(tmp_path))
    assert math.isfinite(val) and val > 0 and val == val2
    assert set(means) == {k for k, _ in cal.TRIAL_FIT}
    # acting on more needs lowers unmet needs further (the planted direction)
    _, more = cal.trial_objective(therasim, {"dialog.action_probability": 0.9}, replicates=5,
                                  workdir=str(tmp_path))
    assert more["trial_unmet_needs_d"] < means["trial_unmet_needs_d"]


def test_national_quantities_end_to_end(runner):
    out = runner.run("national_small.h5", "--set", "population.n_patients=3000",
                     "--set", "time.years=1", scenario=cal.os.path.join(cal.REPO, cal.NATIONAL_SCENARIO))
    q = cal.national_quantities(out)
    for t in cal.TARGETS:
        if not t["key"].startswith(("trial_", "plus_", "tempo_", "withdrawal_")):  # trials, withdrawal: their own runs
            assert t["key"] in q
    assert 0 < q["share_good_adherence"] < 1 and -1 < q["star_spearman_1y"] < 1
    assert q["relapse_risk_ratio"] == pytest.approx(q["relapse_on"] / q["relapse_off"])


def test_withdrawal_comparison_end_to_end():
    # Leucht's design on 3,000 patients: one-year relapse held at full and at no adherence, each
    # within 4 binomial SEs (about 0.035 and 0.04) of relapse.p_year_on/off_medication.
    binary = cal.os.path.join(cal.REPO, "build", "therasim")
    if not cal.os.path.exists(binary):
        pytest.skip("no built binary")
    w = cal.withdrawal_results(binary, n_patients=3000)
    for key, p in (("withdrawal_on", 0.27), ("withdrawal_off", 0.64)):
        assert abs(w[key][0] - p) < 4 * (p * (1 - p) / 2500) ** 0.5


def test_verdict_lists_every_scored_target_per_hypothesis():
    rng = np.random.default_rng(1)
    keys = [t["key"] for t in cal.TARGETS]
    a = {k: rng.normal(cal.target(k)["value"], 0.01, 20) for k in keys}
    b = {k: v + (0.5 if k == "trial_qol_d" else 0.0) for k, v in a.items()}
    lines = cal.verdict([("one", a), ("two", b)])
    text = "\n".join(lines)
    scored = [t for t in cal.TARGETS if t.get("scored", True)]
    assert sum(line.startswith("| ") and any(s in line for s in ("(inside", "(within 10%)", "(outside"))
               for line in lines) >= len(scored)
    assert all(t["label"] in text for t in scored)
    assert not any(t["label"] in text for t in cal.TARGETS if not t.get("scored", True))
    # the planted difference is the quantity on which the hypotheses differ most
    first = next(line for line in lines if line.startswith("| `"))
    assert first.startswith("| `trial_qol_d`")


def test_range_scoring_asks_whether_the_published_value_lies_in_the_simulated_range():
    t = cal.target("trial_centres_qol_positive")
    assert t["scoring"] == "range"
    assert cal._status(t, 5.3, 4.0, 6.0) == "inside range"
    assert cal._status(t, 3.0, 1.0, 5.0) == "outside range"
    assert "inside range" in cal.INSIDE
    # interval targets still compare the mean
    q = cal.target("trial_qol_d")
    assert cal._status(q, 0.2, -5, 5) == "inside" and cal._status(q, 0.5, 0, 1) == "outside"


def test_status_header_records_each_hypothesis_and_every_fitted_default():
    keys = [t["key"] for t in cal.TARGETS]
    good = {k: np.array([cal.target(k)["value"]] * 3) for k in keys}
    bad = {k: v + 100.0 for k, v in good.items()}
    defaults = {p: f"{i}.5" for i, p in enumerate(cal.FITTED_PARAMS)}
    text = cal.status_header([("alpha", good), ("beta", bad)], defaults)
    inside, n = cal.scored_inside(good)
    assert n == sum(t.get("scored", True) for t in cal.TARGETS) and inside == n
    assert cal.scored_inside(bad)[0] == 0
    assert f'{{"alpha", {n}, {n}, 0.2}},' in text
    assert f'{{"beta", 0, {n}, 100.2}},' in text
    assert "std::array<Hypothesis, 2>" in text
    assert f"std::array<Fitted, {len(cal.FITTED_PARAMS)}>" in text
    for p, v in defaults.items():
        assert f'{{"{p}", "{v}"}},' in text

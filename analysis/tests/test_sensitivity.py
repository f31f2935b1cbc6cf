"""Sensitivity analysis of sweeps: estimators against analytic indices, files written here.

The estimators are checked on functions whose indices are known (Ishigami, linear models, a
function with one interaction); the file-level functions on small results files written in the
engine's sweep layout (docs/output.md) with outcomes that are known functions of the parameters.
"""

import argparse
import os

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from therasim_analysis import compare, io, sensitivity

from test_plots_cli import _check

# Ishigami function, a = 7, b = 0.1, x in [-pi, pi]^3 (Ishigami and Homma 1990; indices as in
# Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, section 4.9).
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def saltelli_points(k, n, seed=7):
    """Unit points in the engine's order: for s = 0..n-1 the rows A_s, B_s, AB_s^0..AB_s^(k-1)."""
    base = qmc.Sobol(2 * k, scramble=True, seed=seed).random(n)
    a, b = base[:, :k], base[:, k:]
    block = np.repeat(a[:, None, :], k + 2, axis=1)
    block[:, 1] = b
    idx = np.arange(k)
    block[:, 2 + idx, idx] = b[:, idx]
    role = np.tile(np.arange(k + 2), n)
    sample = np.repeat(np.arange(n), k + 2)
    return block.reshape(n * (k + 2), k), role, sample


def morris_points(k, r, levels=4, seed=3):
    """r Morris trajectories on a p-level grid: random start, each parameter moved once by +-delta."""
    rng = np.random.default_rng(seed)
    delta = levels / (2 * (levels - 1))
    points, role = [], []
    for _ in range(r):
        x = rng.integers(0, levels, k) / (levels - 1)
        points.append(x.copy())
        role.append(-1)
        for i in rng.permutation(k):
            x[i] = x[i] + delta if x[i] + delta <= 1 + 1e-12 else x[i] - delta
            points.append(x.copy())
            role.append(i)
    return np.array(points), np.array(role), np.repeat(np.arange(r), k + 1), delta


def write_sweep(path, design, unit, role, sample, lower, upper, outcome, replicates=2, samples=None,
                levels=0, seed=11, noise=0.3, sweep=True):
    """A results file in the engine's sweep layout (schema version 2).

    Run r = p J + j runs point p with replicate j. Outcome ``y = outcome(values)`` plus a noise
    ``e_j = noise (j - (J - 1) / 2)`` that is the same at every point (common random numbers) and
    averages to 0 over the replicates:

    - ``metric:effect`` = y + e_j;
    - ``mean_qol`` (level, rating) = 4 + y day / 730 + e_j, so 4 + y 728 / 730 at the last step;
    - ``bed_days`` (flow, days) = y + e_j in every step after step 0.
    """
    unit = np.asarray(unit, float)
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    values = lower + unit * (upper - lower)
    n_points, k = unit.shape
    runs = n_points * replicates
    point, rep = np.repeat(np.arange(n_points), replicates), np.tile(np.arange(replicates), n_points)
    y = outcome(values)[point] + noise * (rep - (replicates - 1) / 2)
    day = 7.0 * np.arange(105)                               # 2 years of weekly steps
    with h5py.File(path, "w") as f:
        f.attrs.update({"format": "therasim results", "schema_version": 2, "replicates": runs,
                        "therasim_version": "test", "git_commit": "test"})
        f.create_group("provenance").attrs.update({"scenario_name": os.path.basename(path), "seed": seed,
                                                   "replicates": runs})
        f["replicates/done"] = np.ones(runs, np.uint8)
        f["time/step"] = np.arange(len(day), dtype=np.int32)
        f["time/day"] = day
        f["time"].attrs.update({"years": 2.0, "step_days": 7.0, "n_steps": len(day) - 1})
        dims = f.create_group("dimensions")
        dims.attrs["order"] = "arm,region,severity"
        for name, levels_ in (("arm", ["usual_care", "dialog"]), ("region", ["North"]),
                              ("severity", ["low", "moderate", "high"])):
            dims.create_dataset(name, data=levels_, dtype=h5py.string_dtype())
        f.create_group("series/grouped")
        national = f.create_group("series/national")
        series = {"patients": (np.full((runs, len(day)), 300.0), "patients", "Patients", "sum", "level"),
                  "mean_qol": (4 + y[:, None] * day[None, :] / 730, "rating (1-7)", "Mean quality of life",
                               "mean over patients", "level"),
                  "bed_days": (np.where(day[None, :] > 0, y[:, None], 0.0), "days", "Inpatient bed-days",
                               "sum", "flow")}
        for name, (data, unit_, label, stat, kind) in series.items():
            national[name] = data
            national[name].attrs.update({"unit": unit_, "label": label, "stat": stat, "kind": kind, "headline": 1})
        f["metrics/effect"] = y
        f["metrics/effect"].attrs.update({"unit": "SD", "label": "Standardised effect"})
        if sweep:
            g = f.create_group("sweep")
            g.attrs.update({"design": design, "samples": samples if samples is not None else n_points,
                            "levels": levels, "points": n_points, "replicates_per_point": replicates})
            g.create_dataset("parameters", data=[f"model.group_{i}.parameter_number_{i}" for i in range(k)],
                             dtype=h5py.string_dtype())
            g["lower"], g["upper"] = lower, upper
            g["integer"] = np.zeros(k, np.uint8)
            g["unit_points"], g["values"] = unit, values
            g["role"], g["sample"] = role.astype(np.int32), sample.astype(np.int32)
            g["point"], g["replicate"] = point.astype(np.int32), rep.astype(np.int32)
        f.attrs["complete"] = 1
    return str(path)


PI3 = ([-np.pi] * 3, [np.pi] * 3)
N_FILE = 512


@pytest.fixture(scope="module")
def saltelli_file(tmp_path_factory):
    unit, role, sample = saltelli_points(3, N_FILE)
    path = tmp_path_factory.mktemp("sweeps") / "saltelli.h5"
    return write_sweep(path, "saltelli", unit, role, sample, *PI3, ishigami, samples=N_FILE)


# ---------------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------------

def test_sobol_indices_of_the_ishigami_function():
    k, n = 3, 4096
    unit, _, _ = saltelli_points(k, n)
    res = sensitivity.sobol_indices(ishigami(-np.pi + 2 * np.pi * unit), k, n)
    np.testing.assert_allclose(res["S1"], ISHIGAMI_S1, atol=0.05)
    np.testing.assert_allclose(res["ST"], ISHIGAMI_ST, atol=0.05)
    for name, truth in (("S1", ISHIGAMI_S1), ("ST", ISHIGAMI_ST)):
        lo, hi = res[f"{name}_q025"], res[f"{name}_q975"]
        assert np.all(lo <= truth) and np.all(truth <= hi), (name, lo, hi)
        assert np.all(hi - lo < 0.12)
    # The variance of Ishigami is a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.845.
    assert res["variance"] == pytest.approx(13.845, rel=0.05)


def test_sobol_indices_do_not_depend_on_the_outcomes_mean_or_scale():
    # A quality of life near 4 varying by hundredths has the indices of the variation itself.
    k, n = 3, 256
    unit, _, _ = saltelli_points(k, n)
    y = ishigami(-np.pi + 2 * np.pi * unit)
    res = sensitivity.sobol_indices(y, k, n, n_boot=200)
    shifted = sensitivity.sobol_indices(4 + 0.003 * y, k, n, n_boot=200)
    for name in ("S1", "S1_q025", "S1_q975", "ST", "ST_q025", "ST_q975"):
        np.testing.assert_allclose(shifted[name], res[name], atol=1e-9)


def test_sobol_indices_of_a_linear_model_are_the_variance_shares():
    k, n = 3, 2048
    c, lower, upper = np.array([1.0, 2.0, -3.0]), np.array([0.0, -1.0, 0.0]), np.array([1.0, 1.0, 2.0])
    unit, _, _ = saltelli_points(k, n, seed=5)
    y = (lower + unit * (upper - lower)) @ c
    share = c ** 2 * (upper - lower) ** 2 / 12
    share /= share.sum()                                      # (1, 16, 36) / 53
    res = sensitivity.sobol_indices(y, k, n)
    np.testing.assert_allclose(res["S1"], share, atol=0.03)
    np.testing.assert_allclose(res["ST"], share, atol=0.03)
    with pytest.raises(ValueError, match="n \\(k \\+ 2\\)"):
        sensitivity.sobol_indices(y[:-1], k, n)


def test_morris_indices_of_a_linear_model_are_exact():
    k, r = 4, 12
    unit, _, _, delta = morris_points(k, r)
    c = np.array([2.0, -0.5, 0.0, 10.0])
    lower, upper = np.array([0.0, 10.0, -1.0, 0.0]), np.array([1.0, 30.0, 1.0, 0.01])
    y = (lower + unit * (upper - lower)) @ c
    res = sensitivity.morris_indices(unit, y, k, r, delta, lower, upper)
    span = upper - lower
    np.testing.assert_allclose(res["mu_star"], np.abs(c) * span, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["mu"], c * span, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["sigma"], 0.0, atol=1e-9)
    np.testing.assert_allclose(res["mu_per_unit"], c, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res["mu_star_q025"], np.abs(c) * span, rtol=1e-9, atol=1e-12)
    # Ranking by the full range: 10 x 0.01 = 0.1 matters less than -0.5 x 20 = -10.
    assert list(np.argsort(-res["mu_star"])) == [1, 0, 3, 2]


def test_morris_sigma_is_positive_only_for_interacting_parameters():
    k, r = 4, 30
    unit, _, _, delta = morris_points(k, r, seed=8)
    y = 2 * unit[:, 0] + unit[:, 1] * unit[:, 2]             # x4 has no effect
    res = sensitivity.morris_indices(unit, y, k, r, delta)
    assert res["sigma"][0] == pytest.approx(0, abs=1e-9) and res["sigma"][3] == pytest.approx(0, abs=1e-9)
    assert res["sigma"][1] > 0.1 and res["sigma"][2] > 0.1
    assert res["mu_star"][0] == pytest.approx(2.0) and res["mu_star"][3] == 0
    # The elementary effect of x2 is the value x3 had when x2 moved; sigma is their SD (ddof 1).
    moved = unit.reshape(r, k + 1, k)
    step = np.argmax(np.abs(np.diff(moved[:, :, 1], axis=1)) > 0, axis=1) + 1
    x3 = moved[np.arange(r), step, 2]
    np.testing.assert_allclose(res["ee"][:, 1], x3, atol=1e-12)
    assert res["sigma"][1] == pytest.approx(np.std(x3, ddof=1))
    assert res["mu_star_q025"][1] < res["mu_star"][1] < res["mu_star_q975"][1]


def test_morris_refuses_points_that_are_not_trajectories():
    k, r = 3, 5
    unit, _, _, delta = morris_points(k, r)
    with pytest.raises(ValueError, match="expected delta"):
        sensitivity.morris_indices(unit, unit.sum(axis=1), k, r, delta / 2)
    bad = unit.copy()
    bad[1] = bad[0]
    with pytest.raises(ValueError, match="exactly one parameter"):
        sensitivity.morris_indices(bad, bad.sum(axis=1), k, r, delta)


def test_regression_indices_of_a_noisy_linear_model():
    n, noise = 2000, 1.0
    c, lower, upper = np.array([1.0, -2.0, 0.5, 0.0]), np.zeros(4), np.array([4.0, 1.0, 6.0, 1.0])
    x = lower + qmc.LatinHypercube(4, seed=2).random(n) * (upper - lower)
    y = x @ c + np.random.default_rng(1).normal(0, noise, n)
    var = c ** 2 * (upper - lower) ** 2 / 12
    total = var.sum() + noise ** 2
    res = sensitivity.regression_indices(x, y)
    np.testing.assert_allclose(res["SRC"], np.sign(c) * np.sqrt(var / total), atol=0.03)
    assert res["r2"] == pytest.approx(var.sum() / total, abs=0.03)
    assert np.all(res["SRC_q025"] < res["SRC"]) and np.all(res["SRC"] < res["SRC_q975"])
    assert list(np.sign(res["PRCC"][:3])) == [1, -1, 1]
    assert list(np.argsort(-np.abs(res["PRCC"]))) == list(np.argsort(-var))
    assert res["PRCC_q025"][3] < 0 < res["PRCC_q975"][3] and res["PRCC_p"][3] > 0.01
    assert np.all(res["PRCC_p"][:3] < 1e-6)
    # A partial correlation exceeds the standardised coefficient: the other parameters' share is removed.
    assert np.all(np.abs(res["PRCC"][:3]) > np.abs(res["SRC"][:3]))


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def test_sweep_design_reads_the_points(saltelli_file):
    d = sensitivity.sweep_design(saltelli_file)
    with h5py.File(saltelli_file, "r") as f:
        values, names = f["sweep/values"][...], list(f["sweep/parameters"].asstr()[:])
    assert list(d.columns) == names + ["role", "sample"] and len(d) == N_FILE * 5
    np.testing.assert_array_equal(d[names].to_numpy(), values)
    assert d.attrs["design"] == "saltelli" and d.attrs["samples"] == N_FILE
    assert d.attrs["replicates_per_point"] == 2 and d.attrs["runs"] == N_FILE * 5 * 2
    assert d.attrs["lower"] == [-np.pi] * 3 and d.attrs["unit_points"].shape == (N_FILE * 5, 3)


def test_outcomes_average_the_replicates_of_each_point(saltelli_file):
    d = sensitivity.sweep_design(saltelli_file)
    y = ishigami(d[d.attrs["parameters"]].to_numpy())
    specs = ["metric:effect", "mean_qol", "mean_qol@year1", "bed_days", "bed_days@year1", "bed_days@all"]
    out = sensitivity.outcomes(saltelli_file, specs)
    assert list(out.columns) == specs and len(out) == len(d)
    np.testing.assert_allclose(out["metric:effect"], y, atol=1e-12)
    np.testing.assert_allclose(out["mean_qol"], 4 + y * 728 / 730, atol=1e-12)   # last step, day 728
    np.testing.assert_allclose(out["mean_qol@year1"], 4 + y * 364 / 730, atol=1e-12)  # last step <= 365.25
    np.testing.assert_allclose(out["bed_days"], 52 * y, atol=1e-9)               # steps 53-104
    np.testing.assert_allclose(out["bed_days@year1"], 52 * y, atol=1e-9)         # steps 1-52
    np.testing.assert_allclose(out["bed_days@all"], 104 * y, atol=1e-9)
    info = out.attrs["outcomes"]
    assert info["metric:effect"]["unit"] == "SD" and info["mean_qol"]["unit"] == "rating (1-7)"
    assert info["mean_qol@year1"]["label"] == "Mean quality of life, end of year 1"
    assert info["bed_days"]["label"] == "Inpatient bed-days, summed over year 2"
    assert info["bed_days@all"]["label"] == "Inpatient bed-days, summed over years 1-2"
    # Replicate noise e_j = +-0.15: within-point variance 0.045, / J = 0.0225, over Var(y) = 13.8.
    assert info["metric:effect"]["noise_share"] == pytest.approx(0.0225 / np.var(y, ddof=1), rel=1e-6)


def test_outcome_specifications_are_checked(saltelli_file):
    assert sensitivity.parse_outcome("mean_qol@year2") == {"source": "series", "name": "mean_qol", "period": 2}
    assert sensitivity.parse_outcome("metric:trial_qol_d")["source"] == "metric"
    for bad in ("mean_qol@decade", "metric:", "a b", "@year1"):
        with pytest.raises(ValueError, match="expected SERIES"):
            sensitivity.parse_outcome(bad)
    with pytest.raises(KeyError, match="years 1-2"):
        sensitivity.outcomes(saltelli_file, "mean_qol@year3")
    with pytest.raises(KeyError, match="metrics are: effect"):
        sensitivity.outcomes(saltelli_file, "metric:trial_qol_d")
    with pytest.raises(KeyError, match="no series"):
        sensitivity.outcomes(saltelli_file, "no_such_series")


def test_indices_of_a_saltelli_file_are_those_of_the_function(saltelli_file, tmp_path):
    table = sensitivity.indices(saltelli_file, "metric:effect")
    d = sensitivity.sweep_design(saltelli_file)
    direct = sensitivity.sobol_indices(ishigami(d[d.attrs["parameters"]].to_numpy()), 3, N_FILE)
    for name in ("S1", "ST"):
        t = table[table["index"] == name]
        assert list(t["parameter"]) == d.attrs["parameters"]
        np.testing.assert_allclose(t["value"], direct[name], atol=1e-12)
        np.testing.assert_allclose(t["q025"], direct[f"{name}_q025"], atol=1e-12)
        np.testing.assert_allclose(t["value"], ISHIGAMI_S1 if name == "S1" else ISHIGAMI_ST, atol=0.1)
    assert set(table["index_unit"]) == {"share of the outcome's variance (0-1)"}
    assert table.attrs["family"] == "sobol" and table.attrs["used"] == N_FILE
    assert table.attrs["unit"] == "SD" and table.attrs["label"] == "Standardised effect"
    _check(sensitivity.tornado(table, tmp_path / "tornado"))
    sw = sensitivity.swing(saltelli_file, "metric:effect")
    assert list(sw["parameter"]) == d.attrs["parameters"] and (sw["n_low"] > 0).all()
    # (1 + 0.1 x3^4) sin x1 is negative for x1 near -pi (the low end), positive near pi.
    assert sw.loc[0, "swing"] > 2 and abs(sw.loc[1, "swing"]) < 1
    _check(sensitivity.swing_tornado(sw, tmp_path / "swing"))


def test_nan_outcomes_drop_their_base_sample_with_a_warning(saltelli_file, copy_of):
    path = copy_of(saltelli_file)
    with h5py.File(path, "r+") as f:
        m = f["metrics/effect"][...]
        m[[12, 13]] = np.nan          # both replicates of point 6 (base sample 1, AB_1)
        m[40] = np.nan                # one replicate of point 20: the other replicate stands for the point
        f["metrics/effect"][...] = m
    out = sensitivity.outcomes(path, "metric:effect")
    assert np.isnan(out.loc[6, "metric:effect"]) and out.attrs["outcomes"]["metric:effect"]["missing"] == 3
    assert out.loc[20, "metric:effect"] == pytest.approx(m[41])
    with pytest.warns(RuntimeWarning, match="1 of 512 base samples"):
        table = sensitivity.indices(path, "metric:effect", n_boot=0)
    assert table.attrs["used"] == N_FILE - 1 and table["value"].notna().all()


def test_baseline_is_subtracted_run_by_run(saltelli_file, tmp_path):
    unit, role, sample = saltelli_points(3, N_FILE)
    base = write_sweep(tmp_path / "base.h5", "saltelli", unit, role, sample, *PI3,
                       lambda x: -5 * np.sin(x[:, 0]), samples=N_FILE)
    out = sensitivity.outcomes(saltelli_file, ["metric:effect", "bed_days"], baseline=base)
    d = sensitivity.sweep_design(saltelli_file)
    x = d[d.attrs["parameters"]].to_numpy()
    np.testing.assert_allclose(out["metric:effect"], ishigami(x) + 5 * np.sin(x[:, 0]), atol=1e-12)
    np.testing.assert_allclose(out["bed_days"], 52 * (ishigami(x) + 5 * np.sin(x[:, 0])), atol=1e-9)
    # Paired run by run, the replicate noise (the same e_j in both files) cancels exactly.
    assert out.attrs["outcomes"]["metric:effect"]["noise_share"] == pytest.approx(0, abs=1e-20)
    assert "difference from the baseline (base.h5)" in out.attrs["outcomes"]["metric:effect"]["label"]
    assert out.attrs["baseline"] == base
    table = sensitivity.indices(saltelli_file, "metric:effect", baseline=base, n_boot=0)
    # The difference is 6 sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1: x1 now explains most of the variance,
    # ST1 = ((6 + 0.1 pi^4 / 5)^2 / 2 + V13) / V = (31.58 + 1.48) / 39.18 = 0.844.
    st = table[table["index"] == "ST"].set_index("parameter")["value"]
    assert st.iloc[0] == pytest.approx(0.844, abs=0.08)


@pytest.mark.parametrize("change, message", [
    ("upper", "their upper differ"),
    ("unit_points", "their unit_points differ"),
    ("design", "design 'saltelli' and 'latin_hypercube'"),
    ("seed", "seeds differ"),
])
def test_a_baseline_of_another_design_is_refused(saltelli_file, tmp_path, change, message):
    unit, role, sample = saltelli_points(3, N_FILE, seed=99 if change == "unit_points" else 7)
    upper = [3.0 if (change == "upper" and i == 2) else u for i, u in enumerate(PI3[1])]
    other = write_sweep(tmp_path / "other.h5", "latin_hypercube" if change == "design" else "saltelli",
                        unit, role, sample, PI3[0], upper, ishigami, samples=N_FILE,
                        seed=12 if change == "seed" else 11)
    with pytest.raises(compare.PairingError, match=message):
        sensitivity.outcomes(saltelli_file, "metric:effect", baseline=other)


def test_a_file_without_a_sweep_is_refused(tmp_path):
    unit, role, sample = saltelli_points(3, 8)
    path = write_sweep(tmp_path / "plain.h5", "saltelli", unit, role, sample, *PI3, ishigami, sweep=False)
    for call in (lambda: sensitivity.sweep_design(path), lambda: sensitivity.indices(path, "mean_qol")):
        with pytest.raises(io.ResultsError, match="not a sweep: run a scenario with a sweep: block"):
            call()


def test_a_sweep_out_of_layout_is_refused(tmp_path):
    unit, role, sample = saltelli_points(3, 8)
    path = write_sweep(tmp_path / "swapped.h5", "saltelli", unit, np.roll(role, 1), sample, *PI3, ishigami,
                       samples=8)
    with pytest.raises(io.ResultsError, match="not in the order A_s, B_s"):
        sensitivity.sweep_design(path)
    bad_ab = unit.copy()
    bad_ab[2, 0] += 0.01 if bad_ab[2, 0] < 0.5 else -0.01
    path = write_sweep(tmp_path / "bad_ab.h5", "saltelli", bad_ab, role, sample, *PI3, ishigami, samples=8)
    with pytest.raises(io.ResultsError, match="AB_i is not A with column i taken from B"):
        sensitivity.indices(path, "metric:effect")


def test_indices_and_tornado_of_a_morris_file(tmp_path):
    k, r = 4, 16
    unit, role, sample, delta = morris_points(k, r)
    lower, upper = np.array([0.0, 0.0, 0.0, 0.0]), np.array([1.0, 2.0, 1.0, 5.0])
    c = np.array([3.0, -1.0, 0.0, 0.2])
    path = write_sweep(tmp_path / "morris.h5", "morris", unit, role, sample, lower, upper,
                       lambda x: x @ c + x[:, 0] * x[:, 2], samples=r, levels=4)
    table = sensitivity.indices(path, "metric:effect")
    v = table.pivot(index="parameter", columns="index", values="value")
    v = v.loc[sensitivity.sweep_design(path).attrs["parameters"]]
    # Over the full range: x1 3 + x3 (3 to 4), x2 -2, x3 x1 (0 to 1), x4 0.2 x 5 = 1.
    mu_star = v["mu_star"].to_numpy()
    assert np.all((mu_star >= [3, 2 - 1e-9, 0, 1 - 1e-9]) & (mu_star <= [4, 2 + 1e-9, 1, 1 + 1e-9]))
    np.testing.assert_allclose(v["mu"].iloc[[1, 3]], [-2.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(v["sigma"].iloc[[1, 3]], 0.0, atol=1e-9)
    assert v["sigma"].iloc[0] > 0 and v["sigma"].iloc[2] > 0
    np.testing.assert_allclose(v["mu_per_unit"].iloc[[1, 3]], [-1.0, 0.2], atol=1e-9)
    assert set(table.loc[table["index"] == "mu_star", "index_unit"]) == {"SD over the parameter's full range"}
    _check(sensitivity.tornado(table, tmp_path / "tornado"))
    _check(sensitivity.swing_tornado(sensitivity.swing(path, "mean_qol"), tmp_path / "swing"))
    with h5py.File(path, "r+") as f:
        f["sweep/role"][1] = (f["sweep/role"][1] + 1) % k
    with pytest.raises(io.ResultsError, match="morris: role"):
        sensitivity.indices(path, "metric:effect")


@pytest.mark.parametrize("design", ["latin_hypercube", "sobol"])
def test_indices_and_tornado_of_space_filling_points(tmp_path, design):
    n, k = 256, 3
    unit = (qmc.LatinHypercube(k, seed=4) if design == "latin_hypercube"
            else qmc.Sobol(k, scramble=True, seed=4)).random(n)
    minus1 = -np.ones(n, np.int64)
    path = write_sweep(tmp_path / f"{design}.h5", design, unit, minus1, np.arange(n), np.zeros(k),
                       np.array([1.0, 10.0, 1.0]), lambda x: 2 * x[:, 0] - 0.1 * x[:, 1] + np.exp(x[:, 0]) * 0.1)
    table = sensitivity.indices(path, "bed_days@all")
    prcc = table[table["index"] == "PRCC"].set_index("parameter")["value"]
    assert prcc.iloc[0] > 0.9 and prcc.iloc[1] < -0.9 and abs(prcc.iloc[2]) < 0.2
    assert table.attrs["family"] == "regression" and table.attrs["r2"] > 0.99
    assert table.attrs["unit"] == "days"
    _check(sensitivity.tornado(table, tmp_path / "tornado"))


def test_tornado_keeps_long_parameter_names_apart(saltelli_file, tmp_path):
    table = sensitivity.indices(saltelli_file, "mean_qol", n_boot=50)
    assert sensitivity._param_label("dialog.rollout.duration_years_of_the_national_programme", 30) == \
        "dialog.rollout\n.duration_years_of_the_national_programme"
    long = table.copy()
    long["parameter"] = long["parameter"].map(lambda p: "very.long.path.of." + p)
    long.attrs.update(table.attrs)
    _check(sensitivity.tornado(long, tmp_path / "long", max_parameters=2))


def test_cli_writes_the_table_and_figures(saltelli_file, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    sensitivity.add_cli(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "out"
    args = parser.parse_args(["sensitivity", saltelli_file, "--outcome", "metric:effect", "--outcome",
                              "bed_days@year1", "--outdir", str(out), "--bootstrap", "100"])
    assert args.func(args) == 0
    files = set(os.listdir(out))
    assert {"indices.csv", "tornado_metric_effect.png", "tornado_metric_effect.svg",
            "tornado_bed_days_year1.png", "swing_bed_days_year1.svg"} <= files
    csv = pd.read_csv(out / "indices.csv")
    assert set(csv["outcome"]) == {"metric:effect", "bed_days@year1"} and len(csv) == 2 * 3 * 2
    _check(sensitivity.tornado(csv, tmp_path / "from_csv", outcome="bed_days@year1"))
    with pytest.raises(ValueError, match="say which to draw"):
        sensitivity.tornado(csv, tmp_path / "ambiguous")
    text = capsys.readouterr().out
    assert "Standardised effect (SD)" in text and "ST [95% interval]" in text and "wrote 9 files" in text
    args = parser.parse_args(["sensitivity", saltelli_file, "--outcome", "mean_qol@decade", "--outdir", str(out)])
    assert args.func(args) == 2
    assert "expected SERIES" in capsys.readouterr().err


TRIAL_SWEEP = """\
name: Trial sweep (test)
extends: {trial}
replicates: 2
sweep:
  design: saltelli
  samples: 16
  parameters:
    dialog.action_probability: [0.02, 0.3]
    wellbeing.sat_dialog: [0.1, 0.8]
    costs.bed_day: [100, 800]
"""


@pytest.fixture(scope="session")
def engine_sweep(runner):
    """A Saltelli sweep of the simulated DIALOG trial run by the engine (80 points x 2 trials)."""
    trial = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "scenarios", "trials",
                                         "dialog_2007.yaml"))
    with open(os.path.join(runner.root, "trial_sweep.yaml"), "w", encoding="utf-8") as fh:
        fh.write(TRIAL_SWEEP.format(trial=trial))
    return runner.run("trial_sweep.h5", "--quiet", scenario="trial_sweep.yaml")


def test_engine_sweep_layout_and_common_random_numbers(engine_sweep):
    design = sensitivity.sweep_design(engine_sweep)
    assert design.attrs["design"] == "saltelli" and design.attrs["points"] == 16 * 5
    assert design.attrs["replicates_per_point"] == 2
    with io.open_results(engine_sweep) as f:
        assert f.attrs["replicates"] == 160
        effect = f["metrics/trial_qol_d"][()]
        point = f["sweep/point"][()]
        values = f["sweep/values"][()]
    assert np.all(np.isfinite(effect))
    # Points whose only difference is the bed-day cost give identical trials (same random numbers).
    role = design["role"].to_numpy()
    ab_cost = np.flatnonzero(role == 2 + 2)   # A with costs.bed_day from B
    a_rows = np.flatnonzero(role == 0)
    moved = 0
    for a, ab in zip(a_rows, ab_cost):
        assert np.all(values[ab, :2] == values[a, :2])
        moved += values[ab, 2] != values[a, 2]
        assert np.array_equal(effect[point == ab], effect[point == a])
    assert moved >= 12  # (A and B can share a coordinate at a few Sobol' points)


def test_engine_sweep_indices_name_the_parameters_that_matter(engine_sweep):
    """Satisfaction with meetings moves the trial's satisfaction effect and not its QoL effect;
    needs met per session the reverse; a unit cost moves neither (its indices are exactly 0)."""
    qol = sensitivity.indices(engine_sweep, "metric:trial_qol_d", n_boot=200).set_index(["parameter", "index"])["value"]
    sat = sensitivity.indices(engine_sweep, "metric:trial_satisfaction_d", n_boot=200).set_index(["parameter", "index"])["value"]
    assert qol["costs.bed_day", "ST"] == 0 and sat["costs.bed_day", "ST"] == 0
    assert qol["wellbeing.sat_dialog", "ST"] == 0
    assert qol["dialog.action_probability", "ST"] > 0.5
    assert sat["wellbeing.sat_dialog", "ST"] > sat["dialog.action_probability", "ST"]
    assert sat["wellbeing.sat_dialog", "ST"] > 0.5

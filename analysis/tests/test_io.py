"""Reading results files: checks, tidy tables and yearly aggregation against h5py directly."""

import math

import h5py
import numpy as np
import pytest

from therasim_analysis import io


def test_open_results_accepts_a_complete_file(rollout):
    with io.open_results(rollout) as f:
        assert f.attrs["schema_version"] == 2


def test_open_results_refuses_another_schema_version(rollout, copy_of):
    path = copy_of(rollout)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 3
    with pytest.raises(io.ResultsError, match="schema_version 3.*reads schema_version 2"):
        io.open_results(path)


def test_open_results_refuses_incomplete_and_foreign_files(rollout, copy_of, tmp_path):
    path = copy_of(rollout)
    with h5py.File(path, "r+") as f:
        f.attrs["complete"] = 0
    with pytest.raises(io.ResultsError, match="incomplete"):
        io.open_results(path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.attrs["format"] = "something else"
    with pytest.raises(io.ResultsError, match="not a therasim results file"):
        io.open_results(other)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(io.ResultsError, match="not an HDF5 file"):
        io.open_results(text)
    with pytest.raises(FileNotFoundError):
        io.open_results(tmp_path / "missing.h5")


def test_open_results_refuses_a_shard_and_names_the_merge(runner):
    # a real shard's file from the engine: shard 1 of 2 of a 2-replicate run
    shard = runner.run("shard-1-of-2.h5", "--replicates", "2", "--shard", "1/2", "--quiet")
    with pytest.raises(io.ResultsError, match=r"shard 1 of 2.*therasim merge"):
        io.open_results(shard)


def test_national_series_is_the_dataset_with_its_attributes(rollout):
    df = io.series(rollout, "engaged")
    with h5py.File(rollout, "r") as f:
        ds = f["series/national/engaged"]
        raw = ds[...]
        day = f["time/day"][:]
        assert df.attrs["unit"] == ds.attrs["unit"] and df.attrs["label"] == ds.attrs["label"]
        assert df.attrs["kind"] == ds.attrs["kind"]
    r, t = raw.shape
    assert list(df.columns) == ["replicate", "step", "day", "year", "value"]
    assert len(df) == r * t
    for rep in range(r):
        d = df[df["replicate"] == rep]
        np.testing.assert_array_equal(d["value"].to_numpy(), raw[rep])
        np.testing.assert_array_equal(d["day"].to_numpy(), day)
        np.testing.assert_array_equal(d["step"].to_numpy(), np.arange(t))


def test_grouped_series_is_the_dataset_by_arm_region_severity(rollout):
    df = io.series(rollout, "mean_qol", grouped=True)
    with h5py.File(rollout, "r") as f:
        raw = f["series/grouped/mean_qol"][...]
        regions = list(f["dimensions/region"].asstr()[:])
    assert list(df.columns) == ["replicate", "step", "day", "year", "arm", "region", "severity", "value"]
    for rep, step, arm, region, sev in [(0, 0, 0, 0, 0), (2, 50, 1, len(regions) - 1, 2), (1, 104, 0, 1, 1)]:
        row = df[(df["replicate"] == rep) & (df["step"] == step) & (df["arm"] == ["usual_care", "dialog"][arm])
                 & (df["region"] == regions[region]) & (df["severity"] == ["low", "moderate", "high"][sev])]
        assert len(row) == 1
        np.testing.assert_equal(row["value"].iloc[0], raw[rep, step, arm, region, sev])


def _years_of_steps(day):
    """Independent year assignment: year k holds the steps ending in (365.25(k-1), 365.25k]."""
    n_years = 0
    while 365.25 * (n_years + 1) < day[-1] - 3.5:   # last partial step (half a step or less) folds in
        n_years += 1
    n_years += 1
    years = []
    for d in day[1:]:
        k = 1
        while d > 365.25 * k + 1e-9:
            k += 1
        years.append(min(k, n_years))
    return np.array(years), n_years


def test_time_axis_years(rollout):
    t = io.time_axis(rollout)
    years, n_years = _years_of_steps(t["day"].to_numpy())
    assert t.attrs["n_years"] == n_years == 2
    assert t["year"].iloc[0] == 0
    np.testing.assert_array_equal(t["year"].to_numpy()[1:], years)


@pytest.mark.parametrize("name", ["bed_days", "relapses", "engaged", "mean_symptoms"])
def test_yearly_sums_flows_and_reads_levels_at_year_end(rollout, name):
    y = io.yearly(io.series(rollout, name))
    with h5py.File(rollout, "r") as f:
        raw = f[f"series/national/{name}"][...]
        kind = f[f"series/national/{name}"].attrs["kind"]
        day = f["time/day"][:]
    years, n_years = _years_of_steps(day)
    for rep in range(raw.shape[0]):
        for k in range(1, n_years + 1):
            steps = 1 + np.flatnonzero(years == k)
            expected = raw[rep, steps].sum() if kind == "flow" else raw[rep, steps.max()]
            got = y[(y["replicate"] == rep) & (y["year"] == k)]["value"]
            assert len(got) == 1
            assert math.isclose(got.iloc[0], expected, rel_tol=1e-12, abs_tol=1e-9)
    assert y.attrs["kind"] == kind


def test_yearly_grouped_keeps_groups(rollout):
    df = io.series(rollout, "admissions_voluntary", grouped=True)
    y = io.yearly(df)
    with h5py.File(rollout, "r") as f:
        raw = f["series/grouped/admissions_voluntary"][...]
    years, _ = _years_of_steps(io.time_axis(rollout)["day"].to_numpy())
    expected = raw[1, 1 + np.flatnonzero(years == 2)].sum(axis=0)     # [arm, region, severity]
    got = y[(y["replicate"] == 1) & (y["year"] == 2)]["value"].to_numpy().reshape(expected.shape)
    np.testing.assert_allclose(got, expected)


def test_summary_is_the_files_and_matches_numpy(rollout):
    s = io.summary(rollout, "mean_qol")
    with h5py.File(rollout, "r") as f:
        raw = f["series/national/mean_qol"][...]
        stored = f["summary/national/mean_qol"][...]
    np.testing.assert_array_equal(s["mean"].to_numpy(), stored[0])
    np.testing.assert_array_equal(s["q975"].to_numpy(), stored[3])
    np.testing.assert_allclose(s["mean"].to_numpy(), raw.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s["q025"].to_numpy(), np.quantile(raw, 0.025, axis=0), rtol=1e-12)
    g = io.summary(rollout, "engaged", grouped=True)
    assert {"arm", "region", "severity", "mean", "q025", "q50", "q975"} <= set(g.columns)


def test_agents_trajectories_scenario(rollout):
    base = io.agents(rollout, "patient", when="baseline")
    final = io.agents(rollout, "patient")
    dyad = io.agents(rollout, "dyad", "baseline")
    with h5py.File(rollout, "r") as f:
        assert len(final) == f["agents/patient"].attrs["count"] == 300
        np.testing.assert_array_equal(base["qol"].to_numpy(), f["agents/patient/baseline/qol"][:])
        np.testing.assert_array_equal(dyad["star_p"].to_numpy(), f["agents/dyad/baseline/star_p"][:])
        assert final.attrs["units"]["symptoms"] == f["agents/patient/final/symptoms"].attrs["unit"]
        traced = f["trajectories/adherence"][...]
        rows = f["trajectories/row"][:]
    with pytest.raises(KeyError):
        io.agents(rollout, "team", when="baseline")
    tr = io.trajectories(rollout)
    assert len(tr) == traced.size
    for j, pid in enumerate(rows):
        np.testing.assert_allclose(tr[tr["patient"] == pid]["adherence"].to_numpy(), traced[:, j])
    assert tr.attrs["units"]["symptoms"].startswith("BPRS")
    text = io.scenario(rollout)
    assert "n_patients: 300" in text and "action_probability: 1" in text

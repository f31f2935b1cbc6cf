"""Mediation of the relationship-outcome association: planted effects, the bootstrap, results files.

Synthetic data with known coefficients check the estimates, the identity total = direct +
indirect, the bootstrap (it equals resampling rows; its intervals cover the truth); small
synthetic results files check the per-patient table, the side-by-side table, the figure and the
command line without the binary; two small runs of the mechanism scenarios check that the direct
path of ``therapy_in_itself`` shows up against ``basis``.
"""

import argparse
import os
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from therasim_analysis import io, mediation as md

from conftest import REPO

# Planted coefficients: indirect = 0.5 * 1.0 + 0.4 * 1.25 = 1.0, total = 2/3 + 1 = 5/3, so the
# true proportion mediated is 0.6.
A1, B1, A2, B2 = 0.5, 1.0, 0.4, 1.25
DIRECT = 2.0 / 3.0
TRUE_INDIRECT = A1 * B1 + A2 * B2
TRUE_PROPORTION = TRUE_INDIRECT / (DIRECT + TRUE_INDIRECT)
N_PLANTED = 4000
PROPORTION_TOLERANCE = 0.04          # about 4 bootstrap SEs at 4,000 rows
ENGINE_PATIENTS = 4000
ENGINE_YEARS = 2
BASIS = os.path.join(REPO, "scenarios", "mechanism_basis.yaml")
THERAPY = os.path.join(REPO, "scenarios", "mechanism_therapy_in_itself.yaml")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def planted(n=N_PLANTED, a1=A1, a2=A2, b1=B1, b2=B2, direct=DIRECT, seed=0, n_cov=2):
    """X ~ N(0, 1); Mj = aj X + e; Y = c' X + b1 M1 + b2 M2 + covariates + e (all e ~ N(0, 1))."""
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(n, n_cov))
    x = rng.normal(size=n) + 0.3 * C[:, 0]                     # a confounder of X and Y
    m1 = a1 * x + 0.2 * C[:, 0] + rng.normal(size=n)
    m2 = a2 * x - 0.2 * C[:, 1] + rng.normal(size=n)
    y = direct * x + b1 * m1 + b2 * m2 + 0.5 * C[:, 0] - 0.3 * C[:, 1] + rng.normal(size=n)
    return x, np.column_stack([m1, m2]), y, C


def _get(table, effect, model="joint"):
    return table[(table["model"] == model) & (table["effect"] == effect)].iloc[0]


# ---------------------------------------------------------------------------------------------
# Estimates on planted data
# ---------------------------------------------------------------------------------------------

def test_planted_mediated_share_is_recovered_and_covered():
    x, M, y, C = planted()
    t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=500, seed=1)
    prop = _get(t, "proportion_mediated")
    assert prop.estimate == pytest.approx(TRUE_PROPORTION, abs=PROPORTION_TOLERANCE)
    assert prop.lo < TRUE_PROPORTION < prop.hi
    for name, truth in (("direct", DIRECT), ("indirect", TRUE_INDIRECT), ("indirect_m1", A1 * B1),
                        ("indirect_m2", A2 * B2), ("a_m1", A1), ("b_m2", B2)):
        row = _get(t, name)
        assert row.lo < truth < row.hi, name
        assert row.estimate == pytest.approx(truth, abs=4 * row.se), name
    # One mediator at a time: the other's path is left in the direct effect.
    alone = _get(t, "direct", model="m1")
    assert alone.estimate == pytest.approx(DIRECT + A2 * B2, abs=4 * alone.se)


def test_pure_basis_direct_interval_covers_zero_and_all_is_mediated():
    x, M, y, C = planted(direct=0.0, seed=2)
    t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=500, seed=1)
    d = _get(t, "direct")
    assert d.lo < 0 < d.hi
    assert _get(t, "proportion_mediated").estimate == pytest.approx(1.0, abs=0.05)


def test_pure_direct_indirect_is_zero():
    x, M, y, C = planted(a1=0.0, a2=0.0, seed=3)
    t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=500, seed=1)
    ind = _get(t, "indirect")
    assert ind.lo < 0 < ind.hi and abs(ind.estimate) < 0.03
    assert _get(t, "direct").estimate == pytest.approx(DIRECT, abs=0.05)
    assert abs(_get(t, "proportion_mediated").estimate) < 0.05


def test_total_is_direct_plus_indirect_in_every_model():
    x, M, y, C = planted(seed=4)
    t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=0)
    for model in ("joint", "m1", "m2"):
        total = _get(t, "total", model).estimate
        direct = _get(t, "direct", model).estimate
        indirect = _get(t, "indirect", model).estimate
        assert total == pytest.approx(direct + indirect, rel=1e-10, abs=1e-12)
    parts = _get(t, "indirect_m1").estimate + _get(t, "indirect_m2").estimate
    assert _get(t, "indirect").estimate == pytest.approx(parts, rel=1e-12)


def test_point_estimates_equal_ordinary_least_squares():
    x, M, y, C = planted(n=500, seed=5)
    t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=0)
    one = np.ones(len(x))
    c = np.linalg.lstsq(np.column_stack([one, x, C]), y, rcond=None)[0][1]
    full = np.linalg.lstsq(np.column_stack([one, x, M, C]), y, rcond=None)[0]
    a1 = np.linalg.lstsq(np.column_stack([one, x, C]), M[:, 0], rcond=None)[0][1]
    assert _get(t, "total").estimate == pytest.approx(c, rel=1e-9)
    assert _get(t, "direct").estimate == pytest.approx(full[1], rel=1e-9)
    assert _get(t, "b_m1").estimate == pytest.approx(full[2], rel=1e-9)
    assert _get(t, "a_m1").estimate == pytest.approx(a1, rel=1e-9)


def test_persistence_flag_reads_interval_and_sign():
    def est(e, lo, hi):
        return SimpleNamespace(estimate=e, lo=lo, hi=hi)
    total = est(-2.0, -2.5, -1.5)
    assert md.persistence(total, est(-1.0, -1.4, -0.6)) == "yes"
    assert md.persistence(total, est(0.1, -0.2, 0.4)) == "no"
    assert md.persistence(total, est(0.3, 0.1, 0.5)) == "reversed"


# ---------------------------------------------------------------------------------------------
# The bootstrap
# ---------------------------------------------------------------------------------------------

def test_weighted_cross_products_equal_resampled_rows():
    # A bootstrap draw is a multiplicity vector; the fit from Z'WZ must be the fit on the rows
    # drawn. Re-draw the same indices from the same seed and refit by hand.
    x, M, y, C = planted(n=200, seed=6)
    draws, seed = 5, 42
    Z, scale = md._design([x, *M.T, *C.T, y])
    G = md._grams(Z, draws, seed)
    est = md._effects(G, scale, 1, [2, 3], 6, [4, 5])["joint"]
    idx = np.random.default_rng(seed).integers(0, len(x), size=(draws, len(x)))
    for b in range(draws):
        r = idx[b]
        D = np.column_stack([np.ones(len(r)), x[r], M[r], C[r]])
        beta = np.linalg.lstsq(D, y[r], rcond=None)[0]
        assert est["direct"][b + 1] == pytest.approx(beta[1], rel=1e-8)
        assert est["b:1"][b + 1] == pytest.approx(beta[3], rel=1e-8)


def test_bootstrap_intervals_cover_the_truth_and_have_the_right_width():
    # 50 datasets of 300 rows: the 95% interval of the indirect effect covers the truth in at
    # least 85% of them, and the bootstrap SE matches the spread of the estimates over datasets.
    covered, estimates, ses = 0, [], []
    for k in range(50):
        x, M, y, C = planted(n=300, seed=100 + k)
        t = md.mediate(x, M, y, C, mediator_names=["m1", "m2"], draws=200, seed=k)
        ind = _get(t, "indirect")
        covered += ind.lo < TRUE_INDIRECT < ind.hi
        estimates.append(ind.estimate)
        ses.append(ind.se)
    assert covered >= 0.85 * 50
    assert np.mean(ses) == pytest.approx(np.std(estimates, ddof=1), rel=0.3)


def test_fixed_seed_gives_identical_intervals():
    x, M, y, C = planted(n=300, seed=7)
    t1 = md.mediate(x, M, y, C, draws=100, seed=3)
    t2 = md.mediate(x, M, y, C, draws=100, seed=3)
    t3 = md.mediate(x, M, y, C, draws=100, seed=4)
    assert t1.equals(t2)
    assert not t1["lo"].equals(t3["lo"])


def test_cluster_bootstrap_is_wider_when_outcomes_share_cluster_effects():
    rng = np.random.default_rng(8)
    n, k = 3000, 60
    cluster = rng.integers(0, k, n)
    x = rng.normal(size=n) + rng.normal(size=k)[cluster]
    m = 0.5 * x + rng.normal(size=n)
    y = 0.5 * x + m + 2.0 * rng.normal(size=k)[cluster] + rng.normal(size=n)
    plain = _get(md.mediate(x, m, y, draws=300, seed=1), "direct")
    clustered = _get(md.mediate(x, m, y, draws=300, seed=1, cluster=cluster), "direct")
    assert clustered.hi - clustered.lo > 1.5 * (plain.hi - plain.lo)


# ---------------------------------------------------------------------------------------------
# Synthetic results files (no binary needed)
# ---------------------------------------------------------------------------------------------

SCENARIO_YAML = """\
name: "{name}"
seed: 5
time:
  years: 2
  step_days: 7
adherence:
  threshold: 2.6
  good_threshold: {good}
mechanism:
  hypothesis: {hypothesis}
  direct_weight: 0.5
"""


def write_results(path, name, direct, n=3000, seed=0, good=0.8, mediators=True, traced=None,
                  hypothesis="basis"):
    """A minimal results file (schema 2) with planted per-patient data.

    Baseline STAR-P X ~ N(3, 0.6); share_engaged = 0.9 + 0.1 (X - 3) + e; mean_adherence =
    0.6 + 0.15 (X - 3) + e; change in BPRS = direct (X - 3) - 3 share_engaged - 7 mean_adherence
    + e. ``traced``: patients with a trajectory (engaged, adherence) over 5 steps.
    """
    rng = np.random.default_rng(seed)
    star_p = 3 + 0.6 * rng.normal(size=n)
    star_c = 2.9 + 0.1 * (star_p - 3) + 0.6 * rng.normal(size=n)
    share = 0.9 + 0.1 * (star_p - 3) + 0.05 * rng.normal(size=n)
    adh = 0.6 + 0.15 * (star_p - 3) + 0.1 * rng.normal(size=n)
    sym0 = 41 + 10 * rng.normal(size=n)
    change = direct * (star_p - 3) - 3 * share - 7 * adh + 0.2 * (sym0 - 41) + 3 * rng.normal(size=n)
    qol0 = 4.3 + 0.7 * rng.normal(size=n)
    dqol = 0.1 * direct * (star_p - 3) + 0.5 * share + 0.3 * adh + 0.3 * rng.normal(size=n)
    severity = np.digitize(sym0, [41, 53]).astype(np.uint8)
    adh0 = np.clip(0.6 + 0.2 * (star_p - 3) + 0.2 * rng.normal(size=n), 0, 1)
    f32, i32, u8 = np.float32, np.int32, np.uint8

    def flag(p):
        return (rng.random(n) < p).astype(u8)

    def count(lam):
        return rng.poisson(lam, n).astype(i32)

    base = dict(symptoms=sym0.astype(f32), qol=qol0.astype(f32), unmet_needs=count(3),
                satisfaction=(4.8 + 0.5 * rng.normal(size=n)).astype(f32), adherence=adh0.astype(f32),
                engaged=flag(0.92), relapsed=flag(0.06), inpatient=flag(0.02), n_involuntary=count(0.5))
    final = dict(symptoms=(sym0 + change).astype(f32), qol=(qol0 + dqol).astype(f32),
                 unmet_needs=count(3), satisfaction=(4.8 + 0.5 * rng.normal(size=n)).astype(f32),
                 adherence=np.clip(adh + 0.1 * rng.normal(size=n), 0, 1).astype(f32),
                 engaged=flag(0.92), relapsed=flag(0.08), inpatient=flag(0.02), n_involuntary=count(0.6),
                 n_relapses=rng.poisson(np.clip(1.5 - adh, 0.05, None)).astype(i32),
                 n_admissions_voluntary=count(0.2), n_admissions_involuntary=count(0.15),
                 bed_days=(rng.exponential(10, n) * (1.2 - adh).clip(0.1)).astype(f32),
                 n_disengagements=count(0.3), n_dyads=(1 + flag(0.2)).astype(i32), n_contacts=count(50),
                 severity=severity, clinician=(np.arange(n) // 30).astype(i32),
                 team=(np.arange(n) // 300).astype(i32))
    if mediators:
        final.update(share_engaged=share.astype(f32), mean_adherence=adh.astype(f32))
    dyad0 = dict(star_p=star_p.astype(f32), star_c=star_c.astype(f32))
    dyad1 = {k: (v + 0.1 * rng.normal(size=n)).astype(f32) for k, v in dyad0.items()}
    units = dict(symptoms="BPRS (18-126)", qol="rating (1-7)", adherence="fraction", bed_days="days",
                 n_relapses="relapses", share_engaged="fraction", mean_adherence="fraction")
    text = SCENARIO_YAML.format(name=name, good=good, hypothesis=hypothesis)
    with h5py.File(path, "w") as f:
        f.attrs.update(format="therasim results", schema_version=2, complete=1, replicates=1,
                       therasim_version="test", git_commit="test")
        p = f.create_group("provenance")
        p.attrs.update(scenario_name=name, seed=5, replicates=1)
        p.create_dataset("scenario_yaml", data=[text], dtype=h5py.string_dtype())
        f.create_dataset("replicates/done", data=np.ones(1, np.uint8))
        f.create_dataset("time/step", data=np.arange(6, dtype=np.int32))
        f.create_dataset("time/day", data=7.0 * np.arange(6))
        f["time"].attrs.update(years=2.0, step_days=7.0, n_steps=5)
        ag = f.create_group("agents")
        ag.attrs["replicate"] = 0
        for kind, when, cols in (("patient", "baseline", base), ("patient", "final", final),
                                 ("dyad", "baseline", dyad0), ("dyad", "final", dyad1)):
            g = ag.require_group(kind)
            g.attrs.update(label=kind, count=n)
            for attr, values in cols.items():
                ds = g.create_dataset(f"{when}/{attr}", data=values)
                if attr in units:
                    ds.attrs["unit"] = units[attr]
                ds.attrs["label"] = attr.replace("_", " ").capitalize()
        if traced is not None:
            rows = np.asarray(traced, dtype=np.uint32)
            k = len(rows)
            eng = np.vstack([np.ones(k), (rng.random((5, k)) < share[rows]).astype(float)])
            ad = np.vstack([np.zeros(k), adh[rows] + 0.05 * rng.normal(size=(5, k))])
            tr = f.create_group("trajectories")
            tr.create_dataset("row", data=rows)
            tr.create_dataset("engaged", data=eng.astype(f32))
            tr.create_dataset("adherence", data=ad.astype(f32))
    return str(path)


@pytest.fixture(scope="module")
def synthetic_pair(tmp_path_factory):
    """Two synthetic files: 'basis' (no direct effect) and 'therapy_in_itself' (-3 BPRS per point)."""
    root = tmp_path_factory.mktemp("synthetic")
    return (write_results(root / "basis.h5", "Mechanism - basis", direct=0.0, seed=1),
            write_results(root / "therapy.h5", "Mechanism - therapy in itself", direct=-3.0, seed=1,
                          hypothesis="therapy_in_itself"))


def test_patient_table_columns_units_and_threshold(tmp_path):
    path = write_results(tmp_path / "r.h5", "basis", direct=0.0, good=0.5)
    t = md.patient_table(path)
    with h5py.File(path) as f:
        sym0 = f["agents/patient/baseline/symptoms"][:]
        sym1 = f["agents/patient/final/symptoms"][:]
        adh0 = f["agents/patient/baseline/adherence"][:]
        x = f["agents/dyad/baseline/star_p"][:]
    np.testing.assert_allclose(t["change_symptoms"], sym1.astype(float) - sym0, rtol=1e-6)
    np.testing.assert_array_equal(t["star_p_baseline"], x)
    np.testing.assert_array_equal(t["good_adherence_baseline"], (adh0 >= 0.5).astype(np.uint8))
    assert t.attrs["good_threshold"] == 0.5 and t.attrs["mediator_source"] == "attributes"
    assert t.attrs["units"]["change_symptoms"] == "BPRS points"
    assert t.attrs["units"]["change_qol"] == "rating points"
    assert t.attrs["hypothesis"] == "basis" and t.attrs["scenario_name"] == "basis"
    expected = {"n_admissions", "new_dyad", "share_engaged", "mean_adherence", *md.COVARIATES}
    assert expected <= set(t.columns)


def test_scenario_lookup_without_pyyaml_agrees_with_yaml():
    yaml = pytest.importorskip("yaml")
    text = SCENARIO_YAML.format(name="x", good=0.65, hypothesis="mixture") + \
        "population:\n  diagnosis:\n    bipolar: 0.15\n  p_family: 0.6\n"
    doc = yaml.safe_load(text)
    for key in ("adherence.good_threshold", "mechanism.hypothesis", "mechanism.direct_weight",
                "time.years", "seed", "population.diagnosis.bipolar", "population.p_family"):
        node = doc
        for part in key.split("."):
            node = node[part]
        assert md._plain_lookup(text, key) == node, key
    assert md._plain_lookup(text, "adherence.missing", "d") == "d"
    assert md._plain_lookup(text, "time.threshold") is None      # a key of another section


def test_missing_mediators_raise_a_clear_error(tmp_path):
    path = write_results(tmp_path / "old.h5", "old", direct=0.0, n=200, mediators=False)
    with pytest.raises(md.MediationError, match="share_engaged.*output.trajectories"):
        md.patient_table(path)
    assert issubclass(md.MediationError, io.ResultsError)     # the command line's exit 2
    partial = write_results(tmp_path / "partial.h5", "old", direct=0.0, n=200, mediators=False,
                            traced=np.arange(0, 200, 2))
    with pytest.raises(md.MediationError):
        md.patient_table(partial)


def test_mediators_from_every_patients_trajectory(tmp_path):
    n = 200
    order = np.random.default_rng(0).permutation(n)             # rows need not be sorted
    path = write_results(tmp_path / "traced.h5", "old", direct=0.0, n=n, mediators=False,
                         traced=order)
    t = md.patient_table(path)
    assert t.attrs["mediator_source"] == "trajectories"
    with h5py.File(path) as f:
        eng = f["trajectories/engaged"][...]
        rows = f["trajectories/row"][:]
    expected = np.empty(n)
    expected[rows] = eng[1:].mean(axis=0)                        # steps 1..n, not step 0
    np.testing.assert_allclose(t["share_engaged"], expected)


def test_per_sd_is_per_point_times_sd(synthetic_pair):
    t = md.patient_table(synthetic_pair[1])
    point = md.mediation(None, table=t, draws=0)
    sd = md.mediation(None, table=t, draws=0, per="sd")
    s = t["star_p_baseline"].std(ddof=0)
    for effect in ("total", "direct", "indirect"):
        a = point[(point["model"] == "joint") & (point["effect"] == effect)]["estimate"].to_numpy()
        b = sd[(sd["model"] == "joint") & (sd["effect"] == effect)]["estimate"].to_numpy()
        np.testing.assert_allclose(b, a * s, rtol=1e-9)
    assert "SD of baseline STAR-P" in sd["unit"].iloc[0]
    assert point.loc[point["effect"] == "total", "unit"].iloc[0] == "BPRS points per STAR-P point"


def test_mediation_of_planted_files(synthetic_pair):
    for path, direct in zip(synthetic_pair, (0.0, -3.0)):
        m = md.mediation(path, draws=300)
        sym = m[(m["outcome"] == "change_symptoms") & (m["model"] == "joint")].set_index("effect")
        assert sym.loc["direct", "lo"] < direct < sym.loc["direct", "hi"]
        # indirect: a1 b1 + a2 b2 = 0.1 * (-3) + 0.15 * (-7)
        assert sym.loc["indirect", "lo"] < -1.35 < sym.loc["indirect", "hi"]
        total = sym.loc["total", "estimate"]
        parts = sym.loc["direct", "estimate"] + sym.loc["indirect", "estimate"]
        assert total == pytest.approx(parts, rel=1e-9)
        assert set(m["outcome"]) == set(md.OUTCOMES)


def test_hypothesis_table_cli_and_figure(synthetic_pair, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    md.add_cli(parser.add_subparsers(dest="command"))
    outdir = tmp_path / "out"
    args = parser.parse_args(["mediation", *synthetic_pair, "--outdir", str(outdir), "--draws", "200"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "Mechanism - basis" in printed and "Mechanism - therapy in itself" in printed
    assert "McCabe" in printed
    files = set(os.listdir(outdir))
    assert {"mediation.csv", "hypotheses.csv", "mediation.png", "mediation.svg"} <= files
    with open(outdir / "mediation.png", "rb") as fh:
        assert fh.read(8) == PNG_MAGIC
    wide = md.hypothesis_table(synthetic_pair, draws=200)
    basis, therapy = "Mechanism - basis", "Mechanism - therapy in itself"
    assert list(wide.columns) == ["section", "quantity", basis, therapy, "target", "source"]
    persists = wide[wide["quantity"].str.startswith("association persists")
                    & wide["section"].str.startswith("Change in symptoms")].iloc[0]
    assert (persists[basis], persists[therapy]) == ("no", "yes")
    targets = wide[wide["section"] == "published targets"]
    assert len(targets) == 5
    assert targets["target"].str.contains("1.66 \\[1.35, 2.05\\]").any()
    assert targets[basis].str.endswith(("inside", "outside")).all()


# ---------------------------------------------------------------------------------------------
# The engine: the mechanism scenarios
# ---------------------------------------------------------------------------------------------

def _engine_run(runner, scenario, name):
    # The direct path is planted on STAR-P (relationship.perception_weight 1: behaviour follows
    # the patient's view) and the run starts unsettled (no burn-in), so that baseline STAR-P
    # causes later change and the analysis has a known path to recover; a direct effect on quality
    # of life of 0.3 per point keeps the ratings away from the ends of the 1-7 scale, which
    # would attenuate the slope the analysis recovers. Sessions are not moderated by the
    # relationship here, so that basis has no path from STAR-P outside the mediators.
    return runner.run(name, "--set", "relationship.perception_weight=1", "--set", "time.burn_in_weeks=0",
                      "--set", "mechanism.qol_effect=0.3", "--set", "dialog.alliance_moderation=0",
                      "--set", f"population.n_patients={ENGINE_PATIENTS}",
                      "--set", f"time.years={ENGINE_YEARS}",
                      "--set", f"output.trajectories={ENGINE_PATIENTS}", scenario=scenario)


@pytest.fixture(scope="module")
def mechanism_runs(runner):
    """basis and therapy_in_itself, 4,000 patients, 2 years, the scenarios' seed; every patient traced."""
    return _engine_run(runner, BASIS, "mech_basis.h5"), _engine_run(runner, THERAPY, "mech_therapy.h5")


def test_direct_path_of_therapy_in_itself_shows_up(mechanism_runs):
    # The two runs share every random number and differ only in the weight of the direct path
    # from STAR-P to the symptom target and life-domain ratings (docs/model.md section 13).
    basis, therapy = (md.mediation(p, draws=500) for p in mechanism_runs)

    def row(m, outcome, effect):
        return m[(m["outcome"] == outcome) & (m["model"] == "joint") & (m["effect"] == effect)].iloc[0]

    # Symptoms: a clearly larger (more negative: BPRS falls) direct effect under therapy in
    # itself; the basis direct effect is not asserted to be 0, because mediators measured as run
    # averages and partly caused by the outcome (admission supervises medication and
    # re-engages) leave some association outside them.
    assert row(therapy, "change_symptoms", "direct").hi < row(basis, "change_symptoms", "direct").lo
    assert row(therapy, "change_symptoms", "direct").estimate < -1.0
    assert (row(basis, "change_symptoms", "proportion_mediated").estimate
            > row(therapy, "change_symptoms", "proportion_mediated").estimate + 0.3)
    # Quality of life: no direct path under basis (only symptoms, needs met at meetings).
    assert row(therapy, "change_qol", "direct").lo > row(basis, "change_qol", "direct").hi
    assert abs(row(basis, "change_qol", "direct").estimate) < 0.05
    # The mediator paths are the same model under both hypotheses ...
    for a in ("a_share_engaged", "a_mean_adherence"):
        assert row(therapy, "change_symptoms", a).estimate == pytest.approx(
            row(basis, "change_symptoms", a).estimate, abs=0.01)
    # ... and the direct path does not act on relapse.
    assert row(therapy, "n_relapses", "direct").estimate == pytest.approx(
        row(basis, "n_relapses", "direct").estimate, abs=0.03)
    for m in (basis, therapy):
        j = m[m["model"] == "joint"]
        for outcome in md.OUTCOMES:
            e = j[j["outcome"] == outcome].set_index("effect")["estimate"]
            assert e["total"] == pytest.approx(e["direct"] + e["indirect"], rel=1e-9, abs=1e-12)


def test_direct_effect_difference_recovers_the_planted_direct_path(mechanism_runs):
    # Among patients who kept their care coordinator, later STAR-P follows baseline STAR-P almost
    # one for one (the patient's rating offset and the chemistry persist), so the difference of
    # the direct effects of therapy in itself (w = 1) and basis (w = 0) estimates the direct path:
    # -mechanism.symptom_effect BPRS per STAR point on symptoms, and on quality of life
    # mechanism.qol_effect plus the symptoms' effect on the life domains
    # (wellbeing.qol_symptom_effect per 10 BPRS; docs/model.md sections 9 and 13).
    text = io.scenario(mechanism_runs[1])
    symptom_effect = float(md._scenario_value(text, "mechanism.symptom_effect"))
    qol_effect = float(md._scenario_value(text, "mechanism.qol_effect")) + symptom_effect * float(
        md._scenario_value(text, "wellbeing.qol_symptom_effect")) / 10
    basis, therapy = (md.mediation(p, draws=0, same_dyad=True) for p in mechanism_runs)
    assert set(basis["sample"]) == {"same dyad"} and basis["n"].iloc[0] < ENGINE_PATIENTS

    def direct(m, outcome):
        return m[(m["outcome"] == outcome) & (m["model"] == "joint")
                 & (m["effect"] == "direct")]["estimate"].iloc[0]

    diff = direct(therapy, "change_symptoms") - direct(basis, "change_symptoms")
    assert diff == pytest.approx(-symptom_effect, rel=0.1)
    diff = direct(therapy, "change_qol") - direct(basis, "change_qol")
    assert diff == pytest.approx(qol_effect, rel=0.1)


def test_mediator_attributes_match_the_trajectories(mechanism_runs):
    # share_engaged and mean_adherence written by the binary are the means over steps 1..n of
    # what the trajectories record every step (skipped with a binary that does not write them).
    path = mechanism_runs[0]
    with h5py.File(path) as f:
        if "share_engaged" not in f["agents/patient/final"]:
            pytest.skip("this therasim does not write /agents/patient/final/share_engaged")
    t = md.patient_table(path)
    assert t.attrs["mediator_source"] == "attributes"
    with h5py.File(path) as f:
        assert md._mediators_from_trajectories(f, len(t)) is not None
        eng, adh = md._mediators_from_trajectories(f, len(t))
    np.testing.assert_allclose(t["share_engaged"], eng, atol=1e-5)
    np.testing.assert_allclose(t["mean_adherence"], adh, atol=1e-5)


def test_a_run_too_small_to_estimate_is_refused_clearly(runner):
    """30 patients over 2 years: nobody starts in hospital, so that covariate is constant."""
    small = runner.run("teaching_mediation.h5", "--quiet", "--set", "relapse.prevalence_at_start=0",
                       "--set", "time.burn_in_weeks=0",
                       scenario=os.path.join(REPO, "scenarios", "teaching_small.yaml"))
    with pytest.raises(md.MediationError, match="is the same for every patient analysed .30 patients."):
        md.mediation(small, draws=50)

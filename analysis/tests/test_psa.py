"""Probabilistic sensitivity analysis: per-draw increments from h5py, CEAC, EVPI and drivers."""

import os

import h5py
import numpy as np
import pytest
from scipy import stats

from therasim_analysis import io, psa, sensitivity
from therasim_analysis.__main__ import main

PSA_BLOCK = """
psa:
  draws: 6
  comparator:
    dialog.enabled: false
  distributions:
    costs.bed_day: {gamma: {mean: 450, interval: [200, 800]}}
    mechanism.direct_weight: fixed
"""
COSTS = ("cost_training", "cost_devices", "cost_dialog_time", "cost_bed_days", "cost_contacts")


@pytest.fixture(scope="module")
def psa_file(runner):
    with open(os.path.join(runner.root, "rollout.yaml"), encoding="utf-8") as fh:
        base = fh.read().replace("replicates: 3", "replicates: 2")
    with open(os.path.join(runner.root, "psa.yaml"), "w", encoding="utf-8") as fh:
        fh.write(base + PSA_BLOCK)
    return runner.run("psa.h5", scenario="psa.yaml")


def _flow(f, name, runs, rate, years):
    """Per run: the series summed over each year, year y divided by (1 + rate)^(y - 1)."""
    v = f[f"series/national/{name}"][...][runs]
    return sum(v[:, years == y].sum(axis=1) / (1 + rate) ** (y - 1) for y in range(1, years.max() + 1))


def test_per_draw_increments_equal_paired_differences_from_h5py(psa_file):
    p = psa.read(psa_file, population=3000)
    assert len(p.draws) == 6 and p.replicates == 2 and p.population == 3000
    assert "mechanism.direct_weight" not in p.parameters and "costs.bed_day" in p.parameters
    i = p.parameters.index("costs.bed_day")
    assert p.distributions[i].startswith("gamma(mean 450, sd 153.06")
    years = io.time_axis(psa_file)["year"].to_numpy()
    with h5py.File(psa_file, "r") as f:
        point, role = f["sweep/point"][:], f["sweep/role"][:]
        values = f["sweep/values"][...]
        for d in range(6):
            a = np.flatnonzero(point == 2 * d)          # replicates 0, 1 of the intervention
            b = np.flatnonzero(point == 2 * d + 1)      # ... and of the comparator
            assert role[2 * d] == 0 and role[2 * d + 1] == 1
            net = sum(_flow(f, c, a, 0.035, years) - _flow(f, c, b, 0.035, years) for c in COSTS) * 10
            assert p.draws.loc[d, "net_cost"] == pytest.approx(net.mean(), rel=1e-12)
            det = (_flow(f, "admissions_involuntary", b, 0.035, years)
                   - _flow(f, "admissions_involuntary", a, 0.035, years)) * 10
            assert p.draws.loc[d, "detentions"] == pytest.approx(det.mean(), rel=1e-12, abs=1e-9)
            q = f["series/national/mean_qol"][...]
            assert p.draws.loc[d, "qol"] == pytest.approx((q[a, -1] - q[b, -1]).mean() * 3000, rel=1e-12)
            assert p.draws.loc[d, "costs.bed_day"] == values[2 * d, i] == values[2 * d + 1, i]
            # the comparator arm never used DIALOG; the intervention did
            assert f["series/national/dialog_sessions"][...][b].sum() == 0
            assert f["series/national/dialog_sessions"][...][a].sum() > 0


def test_ceac_and_evpi_follow_their_definitions(psa_file):
    p = psa.read(psa_file)
    c, e = p.draws["net_cost"].to_numpy(), p.draws["detentions"].to_numpy()
    tab = psa.ceac(p, "detentions", [0.0, 20_000.0, 1e9])
    inb = np.array([0.0, 20_000.0, 1e9])[:, None] * e[None, :] - c[None, :]
    assert tab["p_cost_effective"].tolist() == (inb > 0).mean(axis=1).tolist()
    assert tab.loc[0, "p_cost_effective"] == np.mean(c < 0)       # at no willingness to pay: saves money
    evpi = np.maximum(inb, 0).mean(axis=1) - np.maximum(inb.mean(axis=1), 0)
    assert np.allclose(tab["evpi"], evpi, rtol=1e-12, atol=1e-6) and (tab["evpi"] >= -1e-9).all()
    s = psa.summary(p, "detentions")
    assert s["share_dominant"] + s["share_dominated"] + s["share_costs_more_gains"] + s["share_saves_loses"] == pytest.approx(1)


def test_drivers_are_spearman_correlations_with_the_net_benefit(psa_file):
    p = psa.read(psa_file)
    d = psa.drivers(p, "detentions", wtp=20_000)
    inb = 20_000 * p.draws["detentions"] - p.draws["net_cost"]
    for row in d.itertuples():
        expected = stats.spearmanr(p.draws[row.parameter], inb)[0]
        assert row.rho_inb == pytest.approx(expected, abs=1e-12), row.parameter
        assert row.inb_lo <= row.rho_inb <= row.inb_hi
    assert list(d["rho_inb"].abs()) == sorted(d["rho_inb"].abs(), reverse=True)
    # a unit cost changes what things cost, not what happens: its draws cannot correlate with
    # the detentions avoided except by the chance pattern of 6 draws, which is the same for
    # every unit cost's draws only if they are the same ranks
    costs = d.set_index("parameter")
    assert costs.loc["costs.bed_day", "rho_benefit"] == pytest.approx(
        stats.spearmanr(p.draws["costs.bed_day"], p.draws["detentions"])[0], abs=1e-12)


def test_psa_cli_writes_tables_and_figures_and_other_files_are_refused(psa_file, rollout, tmp_path, capsys):
    out = tmp_path / "psa_out"
    assert main(["psa", psa_file, "--outdir", str(out), "--population", "3000"]) == 0
    names = set(os.listdir(out))
    assert {"psa_draws.csv", "ceac_detentions.csv", "drivers_detentions.csv", "ce_plane_detentions.png",
            "ceac_qol.png", "drivers_qol.svg"} <= names
    text = capsys.readouterr().out
    assert "Probability cost-effective at GBP 20,000 per detention avoided" in text
    with pytest.raises(psa.NotAPsa, match="not a probabilistic sensitivity analysis"):
        psa.read(rollout)
    with pytest.raises(io.ResultsError, match="analyse it with python3 -m therasim_analysis psa"):
        sensitivity.indices(psa_file, "mean_qol")


def test_report_with_a_psa_shows_it_and_names_the_drivers(psa_file, rollout, no_dialog, tmp_path):
    import html
    import re
    from therasim_analysis import report
    from test_report import rows_by_key, tables
    out = tmp_path / "r.html"
    report.build_report(rollout, compare=no_dialog, out=str(out), population=3000, psa=psa_file, strict=True)
    page = out.read_text(encoding="utf-8")
    assert '<section id="uncertainty">' in page
    p = psa.read(psa_file, population=3000)
    s = psa.summary(p, "detentions")
    row = rows_by_key(tables(page)["psa"])["detentions"]
    assert row["net_cost"]["value"] == pytest.approx(s["net_cost"][0], rel=1e-12)
    assert row["p_cost_effective"]["value"] == pytest.approx(s["p_cost_effective"] * 100, rel=1e-12)
    top = psa.drivers(p, "detentions").iloc[0]["parameter"]
    findings = html.unescape(re.search(r'<section id="findings">(.*?)</section>', page, re.S).group(1))
    assert f"<code>{top}</code>" in findings and "not assessed" not in findings
    assert list(rows_by_key(tables(page)["psa-drivers"]))[0] == top

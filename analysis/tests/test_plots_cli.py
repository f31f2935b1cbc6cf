"""Every figure renders to a non-empty PNG and SVG; the command line writes tables and figures."""

import os
import subprocess
import sys

import h5py
import pytest

from therasim_analysis import compare, io, plots, report

from conftest import ANALYSIS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check(paths):
    assert sorted(os.path.splitext(p)[1] for p in paths) == [".png", ".svg"]
    for path in paths:
        assert os.path.getsize(path) > 1000, path
        with open(path, "rb") as fh:
            head = fh.read(200)
        if path.endswith(".png"):
            assert head.startswith(PNG_MAGIC)
        else:
            assert b"<svg" in head or b"<?xml" in head


def test_rollout_curve_level_and_flow(rollout, no_dialog, tmp_path):
    _check(plots.rollout_curve(rollout, no_dialog, "mean_qol", tmp_path / "qol", names=("rollout", "none")))
    _check(plots.rollout_curve(rollout, no_dialog, "bed_days", tmp_path / "bed_days"))


def test_training_waves_are_where_the_trained_count_jumps(rollout, no_dialog, runner):
    # the test rollout trains its three trusts in one wave at year 0.02
    assert plots.training_waves(rollout) == [0.02]
    assert plots.training_waves(no_dialog) == []
    three = runner.run("three_waves.h5", "--set", "dialog.rollout.n_waves=3", "--set", "dialog.rollout.duration_years=0.6")
    assert plots.training_waves(three) == pytest.approx([0.02, 0.22, 0.42])
    # and the care coordinators trained do rise at each wave (one trust per wave)
    with h5py.File(three, "r") as f:
        trained = f["series/national/clinicians_dialog_trained"][...].mean(axis=0)
        year = f["time/day"][:] / 365.25
    for w in (0.02, 0.22, 0.42):
        assert trained[year > w + 0.1].min() > trained[year < w - 0.5 * 7 / 365.25].max()


def test_a_level_on_a_bounded_scale_keeps_a_fifth_of_the_scale(tmp_path):
    fig = plots._figure(3, 2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [4.30, 4.35])
    plots._honest_ylim(ax, "rating (1-7)")
    lo, hi = ax.get_ylim()
    assert hi - lo == pytest.approx(1.2) and lo <= 4.30 <= 4.35 <= hi
    ax.set_ylim(0.0, 0.1)
    plots._honest_ylim(ax, "STAR (0-4)")                 # against the bottom of the scale: extends upward
    assert ax.get_ylim() == pytest.approx((0.0, 0.8))
    ax.set_ylim(10, 20)
    plots._honest_ylim(ax, "BPRS")                       # no scale in the unit: left as it is
    assert ax.get_ylim() == (10, 20)


def test_net_cost_path_ends_at_the_horizon_net_cost(rollout, no_dialog, tmp_path):
    disc, undisc, t = plots.net_cost_path(rollout, no_dialog, population=3000, discount_rate=0.035)
    net = compare.net_cost_summary(rollout, no_dialog, population=3000, discount_rate=0.035)
    assert disc[:, -1].mean() == pytest.approx(net["discounted"][0], rel=1e-12)
    assert undisc[:, -1].mean() == pytest.approx(net["undiscounted"][0], rel=1e-12)
    assert (disc[:, 0] == 0).all()
    _check(plots.net_cost_curve(rollout, no_dialog, tmp_path / "net", population=3000))
    _check(plots.horizon_chart(compare.horizon_effects(rollout, no_dialog), tmp_path / "horizon"))


def test_cascade(rollout, tmp_path):
    _check(plots.cascade(rollout, tmp_path / "cascade"))


def test_forest(rollout, no_dialog, tmp_path):
    effects = compare.paired_effects(rollout, no_dialog, outcomes=["mean_qol", "bed_days", "relapses"])
    _check(plots.forest(effects, tmp_path / "forest"))


def test_patient_trajectories(rollout, no_dialog, tmp_path):
    _check(plots.patient_trajectories(rollout, tmp_path / "traj", n=3))
    _check(plots.paired_trajectories(rollout, no_dialog, tmp_path / "paired", _traced(rollout, 2),
                                     names=("rollout", "none")))


# ---- what the figures say ------------------------------------------------------------------

@pytest.fixture(scope="session")
def one_replicate(runner):
    """The rollout scenario with one replicate, with and without DIALOG (no 95% band)."""
    return (runner.run("one_rep.h5", "--replicates", "1"),
            runner.run("one_rep_none.h5", "--replicates", "1", "--set", "dialog.enabled=false"))


@pytest.fixture
def figures(monkeypatch):
    """Capture every figure :func:`plots.save` is given (it still writes them): (fig, stem, formats)."""
    saved, real = [], plots.save

    def capture(fig, stem, *args, **kwargs):
        saved.append((fig, os.fspath(stem), kwargs.get("formats", args[0] if args else None)))
        return real(fig, stem, *args, **kwargs)

    monkeypatch.setattr(plots, "save", capture)
    return saved


def _flat(text):
    return " ".join(text.split())          # titles are wrapped


def _legend_texts(fig_or_ax):
    """Texts of every legend of a figure (its axes and subfigures) or of one axes."""
    if hasattr(fig_or_ax, "get_axes"):
        fig = fig_or_ax
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.get_axes()]
        legends += [leg for sub in getattr(fig, "subfigs", []) for leg in sub.legends]
    else:
        legends = [fig_or_ax.get_legend()]
    return [_flat(t.get_text()) for leg in legends if leg is not None for t in leg.get_texts()]


def _titles(fig):
    """Titles of the axes, then the figure's title."""
    out = [_flat(ax.get_title()) for ax in fig.get_axes()]
    return out + ([_flat(fig._suptitle.get_text())] if fig._suptitle is not None else [])


def _traced(path, k):
    rows = io.trajectories(path)["patient"].unique()
    return [int(p) for p in rows[:k]]


def test_trajectory_shading_leaves_the_y_limits_to_the_data(rollout, figures, tmp_path):
    patients = _traced(rollout, 3)
    plots.patient_trajectories(rollout, tmp_path / "traj", patients=patients)
    (fig, _, _), = figures
    tr = io.trajectories(rollout)
    data = tr.loc[tr["patient"].isin(patients), "symptoms"]
    axes = [ax for ax in fig.get_axes() if ax.get_ylabel().startswith("symptoms")]
    assert len(axes) == 1
    ax = axes[0]
    lo, hi = ax.get_ylim()
    # BPRS is 18-126: the axis follows the data (5% margins), it does not start at 0
    assert 0 < lo <= data.min() and hi >= data.max()
    assert hi - lo < 1.25 * (data.max() - data.min())
    # and the weeks with DIALOG are still shaded, full height
    assert ax.patches, "no shaded weeks"
    for span in ax.patches:
        assert {float(y) for y in span.get_xy()[:, 1]} == {0.0, 1.0}      # axes fraction: full height
    with pytest.raises(ValueError, match="not traced"):
        plots.patient_trajectories(rollout, tmp_path / "none", patients=[10**6])


def test_one_replicate_has_no_interval_in_legends_or_titles(one_replicate, figures, tmp_path):
    a, b = one_replicate
    plots.rollout_curve(a, b, "mean_qol", tmp_path / "qol", names=("rollout", "none"))
    plots.cascade(a, tmp_path / "cascade")
    plots.file_plots(a, tmp_path / "plots")
    plots.forest(compare.paired_effects(a, b, outcomes=["mean_qol", "bed_days"]), tmp_path / "forest")
    stems = [os.path.basename(stem) for _, stem, _ in figures]
    assert {"qol", "cascade", "series_mean_qol", "series_bed_days", "forest"} <= set(stems)
    for fig, stem, _ in figures:
        texts = _legend_texts(fig) + _titles(fig)
        assert not [t for t in texts if "95%" in t or "interval" in t], (stem, texts)
    qol = figures[stems.index("qol")][0]
    assert sorted(_legend_texts(qol)) == ["A (rollout)", "B (none)", "DIALOG training wave"]
    assert "(one replicate)" in _titles(qol)[0]
    assert "one replicate" in _titles(figures[stems.index("cascade")][0])[-1]
    assert sorted(_legend_texts(figures[stems.index("cascade")][0])) == ["dialog", "usual care"]
    assert "(one replicate)" in _titles(figures[stems.index("series_mean_qol")][0])[0]


def test_replicates_have_interval_legends_and_titles(rollout, no_dialog, figures, tmp_path):
    plots.rollout_curve(rollout, no_dialog, "mean_qol", tmp_path / "qol", names=("rollout", "none"))
    plots.cascade(rollout, tmp_path / "cascade")
    (qol, _, _), (cas, _, _) = figures
    assert sorted(_legend_texts(qol)) == ["A (rollout): 95% interval", "A (rollout): mean",
                                          "A \u2212 B: 95% interval", "A \u2212 B: mean",
                                          "B (none): 95% interval", "B (none): mean", "DIALOG training wave"]
    assert "(mean and 95% interval over 3 replicates)" in _titles(qol)[0]
    assert "dialog: 95% interval" in _legend_texts(cas)
    assert "mean and 95% interval over 3 replicates" in _titles(cas)[-1]


def test_rollout_curve_default_names_are_the_letters(rollout, no_dialog, figures, tmp_path):
    plots.rollout_curve(rollout, no_dialog, "mean_qol", tmp_path / "qol")
    plots.rollout_curve(rollout, no_dialog, "mean_qol", tmp_path / "qol_ab", names=("A", "B"))
    for fig, _, _ in figures:
        texts = _legend_texts(fig.get_axes()[0])
        assert sorted(texts) == ["A: 95% interval", "A: mean", "B: 95% interval", "B: mean",
                                 "DIALOG training wave"], texts


def test_save_writes_the_formats_it_is_given(rollout, no_dialog, tmp_path):
    fig = plots._figure(2, 2)
    assert plots.save(fig, tmp_path / "one", formats=("png",)) == [f"{tmp_path / 'one'}.png"]
    assert plots.save(fig, tmp_path / "svg", formats="svg") == [f"{tmp_path / 'svg'}.svg"]
    with pytest.raises(ValueError):
        plots.save(fig, tmp_path / "none", formats=())
    assert sorted(os.listdir(tmp_path)) == ["one.png", "svg.svg"]
    png = ("png",)
    out = tmp_path / "figs"
    written = (plots.rollout_curve(rollout, no_dialog, "mean_qol", out / "qol", formats=png)
               + plots.cascade(rollout, out / "cascade", formats=png)
               + plots.patient_trajectories(rollout, out / "traj", n=2, formats=png)
               + plots.paired_trajectories(rollout, no_dialog, out / "paired", _traced(rollout, 2), formats=png)
               + plots.series_curve(rollout, "bed_days", out / "bed_days", formats=png)
               + plots.file_plots(rollout, out / "plots", formats=png))
    assert all(p.endswith(".png") and os.path.getsize(p) > 1000 for p in written)
    assert not [f for _, _, files in os.walk(out) for f in files if not f.endswith(".png")]
    assert plots.FORMATS == ("png", "svg")


def test_report_asks_for_png_without_touching_module_state(rollout, no_dialog, monkeypatch, tmp_path):
    calls, real = [], plots.save

    def check(fig, stem, *args, **kwargs):
        calls.append((kwargs.get("formats", args[0] if args else None), plots.FORMATS))
        return real(fig, stem, *args, **kwargs)

    monkeypatch.setattr(plots, "save", check)
    sections = [s for s in report.SECTIONS if s.key in ("subgroups", "figures", "trajectories")]
    report.build_report(rollout, compare=no_dialog, out=str(tmp_path / "r.html"), sections=sections,
                        strict=True)
    assert len(calls) >= 5
    assert set(calls) == {(("png",), ("png", "svg"))}


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=ANALYSIS, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-m", "therasim_analysis", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_help():
    res = _cli("--help")
    assert res.returncode == 0 and "compare" in res.stdout and "plots" in res.stdout
    assert _cli("compare", "--help").returncode == 0


def test_cli_compare_and_plots(rollout, no_dialog, tmp_path):
    res = _cli("compare", rollout, no_dialog, "--outdir", str(tmp_path / "cmp"), "--population", "3000")
    assert res.returncode == 0, res.stderr
    assert "Net cost" in res.stdout
    files = set(os.listdir(tmp_path / "cmp"))
    assert {"effects.csv", "costs.csv", "cost_effectiveness.csv", "forest.png", "forest.svg",
            "rollout_mean_qol.png", "cascade_A.svg"} <= files
    res = _cli("plots", rollout, "--outdir", str(tmp_path / "plots"))
    assert res.returncode == 0, res.stderr
    assert {"cascade.png", "trajectories.svg", "series_mean_qol.png"} <= set(os.listdir(tmp_path / "plots"))


def test_cli_refuses_bad_input_with_exit_2(rollout, copy_of, runner):
    path = copy_of(rollout)
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = 1
    res = _cli("plots", path)
    assert res.returncode == 2 and "schema_version 1" in res.stderr
    res = _cli("compare", rollout, runner.run("other_seed.h5", "--seed", "12"))
    assert res.returncode == 2 and "seeds differ" in res.stderr

"""The cascade figure of the lesson: linked panels in weeks, the run's own thresholds marked; and
every figure over time of a short run reads in weeks."""

import h5py
import numpy as np
import pytest
import yaml

from therasim_analysis import plots

from test_plots_cli import _check

TITLES = ("1. The relationship", "2. Patients engaged", "3. Patients with good adherence",
          "4. Relapses", "5. Mean quality of life")


def _scenario(path, key):
    """A value of the resolved scenario stored in the file, read here without the package."""
    with h5py.File(path, "r") as f:
        node = yaml.safe_load(f["provenance/scenario_yaml"].asstr()[0])
    for part in key.split("."):
        node = node[part]
    return float(node)


def _threshold(fig, key):
    lines = [ln for ax in fig.axes for ln in ax.lines if ln.get_gid() == key]
    assert len(lines) == 1, key
    ax = lines[0].axes
    ys = np.unique(np.asarray(lines[0].get_ydata(), dtype=float))
    assert len(ys) == 1                                   # a horizontal line
    return ax, float(ys[0])


def test_linked_panels_in_weeks_relationship_first(rollout, no_dialog, tmp_path):
    fig = plots.cascade_figure(rollout, no_dialog)
    axes = fig.axes
    assert [ax.get_title()[:len(t)] for ax, t in zip(axes, TITLES)] == list(TITLES)
    assert len(axes) == 5
    for ax in axes[1:]:                                   # one time axis for every panel
        assert axes[0].get_shared_x_axes().joined(axes[0], ax)
    assert axes[-1].get_xlabel() == "Weeks since the start"
    with h5py.File(rollout, "r") as f:
        weeks = f["time/day"][:] / 7
        star_p = f["series/national/mean_star_p"][...].mean(axis=0)
        engaged = f["series/national/engaged"][...].mean(axis=0)
    assert axes[-1].get_xlim() == pytest.approx((weeks[0], weeks[-1]))
    # the relationship panel draws the file's mean STAR-P of A, and the engaged panel its engaged
    drawn = [np.asarray(ln.get_ydata(), dtype=float) for ln in axes[0].lines if "mean STAR-P" in ln.get_label()]
    assert any(len(y) == len(star_p) and np.allclose(y, star_p) for y in drawn)
    assert any(np.allclose(np.asarray(ln.get_ydata(), dtype=float), engaged) for ln in axes[1].lines
               if len(ln.get_ydata()) == len(engaged))
    # the training wave of the test rollout (year 0.02) is marked in weeks on every panel
    wave = 0.02 * 365.25 / 7
    for ax in axes:
        assert any(np.allclose(ln.get_xdata(), wave) for ln in ax.lines if ln.get_linestyle() == ":")
    _check(plots.relationship_cascade(rollout, no_dialog, tmp_path / "cascade"))


def test_thresholds_are_the_runs_own_parameter_values(rollout, no_dialog, runner):
    fig = plots.cascade_figure(rollout, no_dialog)
    for key in ("engagement.threshold", "adherence.threshold"):
        ax, y = _threshold(fig, key)
        assert ax is fig.axes[0]                          # on the relationship's scale
        assert y == pytest.approx(_scenario(rollout, key))
    assert _threshold(fig, "adherence.threshold")[1] > _threshold(fig, "engagement.threshold")[1]
    # the same runs with other thresholds: the lines move with them
    changed = ("--set", "engagement.threshold=2.45", "--set", "adherence.threshold=2.95")
    a = runner.run("thresholds.h5", *changed)
    b = runner.run("thresholds_none.h5", *changed, "--set", "dialog.enabled=false")
    fig = plots.cascade_figure(a, b)
    assert _threshold(fig, "engagement.threshold")[1] == pytest.approx(2.45)
    assert _threshold(fig, "adherence.threshold")[1] == pytest.approx(2.95)
    assert plots.cascade_thresholds(a)["engagement.threshold"] == pytest.approx(_scenario(a, "engagement.threshold"))


@pytest.fixture
def captured(monkeypatch):
    """Figures handed to plots.save, kept instead of written."""
    figs = []

    def keep(fig, stem, formats=None):
        figs.append(fig)
        return [str(stem)]
    monkeypatch.setattr(plots, "save", keep)
    return figs


def _time_labels(fig):
    return {ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()}    # every x-axis here is time


def test_every_figure_over_time_of_a_two_year_run_is_in_weeks(rollout, no_dialog, captured, tmp_path):
    plots.rollout_curve(rollout, no_dialog, "mean_qol", tmp_path / "r")
    plots.cascade(rollout, tmp_path / "c")
    plots.series_curve(rollout, "engaged", tmp_path / "s", marker_year=0.02)
    plots.net_cost_curve(rollout, no_dialog, tmp_path / "n")
    plots.patient_trajectories(rollout, tmp_path / "t", n=2)
    rows = sorted(set(int(r) for r in h5py.File(rollout, "r")["trajectories/row"][:]))[:2]
    plots.paired_trajectories(rollout, no_dialog, tmp_path / "p", rows)
    assert len(captured) == 6
    for fig in captured:
        assert _time_labels(fig) == {"Weeks since the start"}
    # the marker of series_curve (year 0.02) is placed in weeks
    ax = captured[2].axes[0]
    assert any(np.allclose(ln.get_xdata(), 0.02 * 365.25 / 7) for ln in ax.lines if ln.get_linestyle() == "--")


def test_time_axis_weeks_up_to_three_years_then_years():
    two = np.arange(0, 2 * 365.25 + 1, 7.0)
    x, label, per_year = plots.time_axis(two)
    assert label == "Weeks since the start" and x[-1] == pytest.approx(two[-1] / 7)
    assert per_year == pytest.approx(365.25 / 7)
    ten = np.arange(0, 10 * 365.25 + 1, 7.0)
    x, label, per_year = plots.time_axis(ten)
    assert label == "Time since the start (years)" and x[-1] == pytest.approx(ten[-1] / 365.25) and per_year == 1

"""Every figure renders to a non-empty PNG and SVG; the command line writes tables and figures."""

import os
import subprocess
import sys

import h5py
import pytest

from therasim_analysis import compare, plots

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


def test_cascade(rollout, tmp_path):
    _check(plots.cascade(rollout, tmp_path / "cascade"))


def test_forest(rollout, no_dialog, tmp_path):
    effects = compare.paired_effects(rollout, no_dialog, outcomes=["mean_qol", "bed_days", "relapses"])
    _check(plots.forest(effects, tmp_path / "forest"))


def test_patient_trajectories(rollout, tmp_path):
    _check(plots.patient_trajectories(rollout, tmp_path / "traj", n=3))


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

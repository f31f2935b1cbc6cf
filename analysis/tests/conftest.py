"""Fixtures: small results files written by the therasim binary given with --therasim=PATH."""

import os
import shutil
import subprocess
import sys

import pytest

ANALYSIS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(ANALYSIS)
if ANALYSIS not in sys.path:
    sys.path.insert(0, ANALYSIS)          # the package is imported as therasim_analysis

ROLLOUT = """\
name: Test rollout
description: A small rollout with a large planted effect (every DIALOG session acts on needs).
seed: 11
replicates: 3
time:
  years: 2
  step_days: 7
output:
  trajectories: 8
population:
  n_patients: 300
structure:
  regions:
    - {name: North, share: 0.5, n_trusts: 1}
    - {name: South, share: 0.3, n_trusts: 1, coercion: 1.3}
    - {name: London, share: 0.2, n_trusts: 1, capacity: 0.8}
  team_size: 3
dialog:
  enabled: true
  action_probability: 1
  uptake: 1
  rollout:
    start_year: 0.02
    duration_years: 0.1
    n_waves: 1
"""


def pytest_addoption(parser):
    parser.addoption("--therasim", action="store", default=None,
                     help="path of the therasim binary (default: $THERASIM, else build/therasim)")


@pytest.fixture(scope="session")
def therasim(request):
    path = (request.config.getoption("--therasim") or os.environ.get("THERASIM")
            or os.path.join(REPO, "build", "therasim"))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"therasim binary not found at {path}; pass --therasim=PATH")
    return path


class Runner:
    """Writes scenarios and runs the binary into one session directory."""

    def __init__(self, binary, root):
        self.binary, self.root = binary, root
        with open(os.path.join(root, "rollout.yaml"), "w", encoding="utf-8") as fh:
            fh.write(ROLLOUT)

    def run(self, out_name, *extra, scenario="rollout.yaml"):
        out = os.path.join(self.root, out_name)
        if os.path.exists(out):
            return out
        cmd = [self.binary, "run", os.path.join(self.root, scenario), "-o", out, "--threads", "2", *extra]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
        return out


@pytest.fixture(scope="session")
def runner(therasim, tmp_path_factory):
    return Runner(therasim, str(tmp_path_factory.mktemp("runs")))


@pytest.fixture(scope="session")
def rollout(runner):
    """Rollout from year 0.02 with dialog.action_probability = 1 (3 replicates, 300 patients)."""
    return runner.run("rollout.h5")


@pytest.fixture(scope="session")
def rollout_again(runner):
    """The same scenario and seed run a second time (a run that differs in nothing)."""
    return runner.run("rollout_again.h5")


@pytest.fixture(scope="session")
def no_dialog(runner):
    """The same scenario and seed without DIALOG."""
    return runner.run("no_dialog.h5", "--set", "dialog.enabled=false")


@pytest.fixture
def copy_of(tmp_path):
    """Copy a results file into the test's directory (to alter it)."""
    def make(path, name="copy.h5"):
        dest = tmp_path / name
        shutil.copyfile(path, dest)
        return str(dest)
    return make

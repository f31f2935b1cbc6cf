"""Analysis of therasim results files: reading (io), paired comparisons (compare), figures (plots).

Example:
    >>> from therasim_analysis import io, compare
    >>> with io.open_results("rollout.h5") as f:
    ...     qol = io.yearly(io.series(f, "mean_qol"))
    >>> effects = compare.paired_effects("rollout.h5", "no_dialog.h5")
"""

from . import compare, io, plots
from .compare import PairingError, cost_effectiveness, cost_effects, paired_effects
from .io import (ResultsError, agents, open_results, provenance, scenario, series, summary,
                 trajectories, yearly)

__all__ = ["io", "compare", "plots", "open_results", "series", "summary", "agents", "trajectories",
           "scenario", "provenance", "yearly", "paired_effects", "cost_effects", "cost_effectiveness",
           "ResultsError", "PairingError"]

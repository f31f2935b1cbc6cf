"""Global sensitivity analysis of a parameter sweep (a scenario's ``sweep:`` block).

The engine runs every point of the sweep's design ``J`` times (replicates ``j = 0..J-1``, the
same random-number key ``j`` at every point, so points share their random numbers) and writes
the runs along the run axis of ``/series`` and ``/metrics``; ``/sweep`` holds the design
(docs/output.md). This module reduces each run to a scalar outcome, averages the ``J``
replicates of each point, and estimates how much each parameter matters:

- ``saltelli`` design: first-order and total Sobol' indices (:func:`sobol_indices`);
- ``morris`` design: elementary effects, mu, mu* and sigma (:func:`morris_indices`);
- ``latin_hypercube`` and ``sobol`` (Sobol' low-discrepancy points, not Sobol' indices):
  standardised regression coefficients and partial rank correlation coefficients
  (:func:`regression_indices`).

With ``baseline=`` (the same sweep without the intervention) the outcome is the paired
difference, run by run, so the indices describe the sensitivity of the intervention's effect.
Figures: :func:`tornado` (the indices) and :func:`swing_tornado` (the outcome at the low and
high end of each parameter's range). Command line: ``python3 -m therasim_analysis sensitivity
FILE --outcome SPEC`` (:func:`add_cli`).

Outcome specifications (:func:`parse_outcome`):

- ``"mean_qol"``: a national series; a level at the last step, a flow summed over the last year;
- ``"mean_qol@year2"``: a level at the end of year 2, a flow summed over year 2;
- ``"bed_days@all"``: a level at the last step, a flow summed over the whole horizon;
- ``"metric:trial_qol_d"``: an end-of-run metric in ``/metrics`` (simulated trials).
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from . import compare, io, plots

DESIGNS = ("saltelli", "morris", "latin_hypercube", "sobol")
#: Bootstrap resamples and the fixed seed of their generator (intervals are reproducible).
N_BOOT = 1000
BOOT_SEED = 20260101
Z975 = stats.norm.ppf(0.975)
NOT_A_SWEEP = "not a sweep: run a scenario with a sweep: block"

#: What each index measures: (unit of the index, description). ``{unit}`` is the outcome's unit.
INDEX_INFO = {
    "S1": ("share of the outcome's variance (0-1)",
           "first-order Sobol' index: variance due to the parameter alone (Saltelli et al. 2010)"),
    "ST": ("share of the outcome's variance (0-1)",
           "total Sobol' index: the parameter alone and in all its interactions (Jansen 1999)"),
    "mu_star": ("{unit} over the parameter's full range",
                "mean absolute elementary effect (Campolongo et al. 2007)"),
    "mu": ("{unit} over the parameter's full range",
           "mean elementary effect; its sign is the direction of the effect (Morris 1991)"),
    "sigma": ("{unit} over the parameter's full range",
              "standard deviation of the elementary effects: interactions or non-linearity (Morris 1991)"),
    "mu_star_per_unit": ("{unit} per unit of the parameter",
                         "mean absolute elementary effect per unit of the parameter"),
    "mu_per_unit": ("{unit} per unit of the parameter", "mean elementary effect per unit of the parameter"),
    "sigma_per_unit": ("{unit} per unit of the parameter",
                       "standard deviation of the elementary effects per unit of the parameter"),
    "SRC": ("SD of the outcome per SD of the parameter",
            "standardised regression coefficient (linear regression of the outcome on the parameters)"),
    "PRCC": ("rank correlation (-1 to 1)",
             "partial rank correlation coefficient (the other parameters' ranks partialled out)"),
}

#: How each design's indices are drawn: the index ranking the parameters, the bars (index,
#: colour, legend), and the axis label.
_TORNADO = {
    "sobol": ("ST", (("ST", "#9ecae1", "ST: total (alone and in interactions)"),
                     ("S1", plots.COLOURS["a"], "S1: first order (alone)")),
              "Sobol' index: share of the outcome's variance (0-1)"),
    "morris": ("mu_star", (("mu_star", plots.COLOURS["a"], "\u03bc*: mean absolute elementary effect"),
                           ("sigma", "#f4a582", "\u03c3: spread of the effects (interactions, non-linearity)")),
               "Elementary effect of moving the parameter over its full range ({unit})"),
    "regression": ("PRCC", (("PRCC", plots.COLOURS["a"], "PRCC: partial rank correlation"),
                            ("SRC", "#f4a582", "SRC: standardised regression coefficient")),
                   "Partial rank correlation and standardised regression coefficient (-1 to 1)"),
}


# ---------------------------------------------------------------------------------------------
# The design
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Sweep:
    """The ``/sweep`` group of a file (arrays as documented in docs/output.md)."""

    design: str
    samples: int
    levels: int
    replicates: int
    parameters: tuple
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    unit_points: np.ndarray
    values: np.ndarray
    role: np.ndarray
    sample: np.ndarray
    point: np.ndarray
    replicate: np.ndarray

    @property
    def k(self):
        return len(self.parameters)

    @property
    def points(self):
        return len(self.role)

    @property
    def delta(self):
        """Morris step in the unit cube, p / (2 (p - 1)); NaN for the other designs."""
        p = self.levels
        return p / (2.0 * (p - 1)) if self.design == "morris" and p > 1 else float("nan")


def _read_sweep(h):
    """Read and check the ``/sweep`` group of an open results file."""
    if "sweep" not in h:
        raise io.ResultsError(f"{h.filename}: {NOT_A_SWEEP}")
    g = h["sweep"]
    if io._attr(g, "design") == "psa":
        raise io.ResultsError(f"{h.filename}: a probabilistic sensitivity analysis (psa: block): its points pair each "
                              f"parameter draw's intervention with its comparator; analyse it with "
                              f"python3 -m therasim_analysis psa {h.filename}")
    try:
        sw = _Sweep(design=io._attr(g, "design"), samples=int(io._attr(g, "samples")),
                    levels=int(io._attr(g, "levels", 0)),
                    replicates=int(io._attr(g, "replicates_per_point")),
                    parameters=tuple(g["parameters"].asstr()[:]),
                    lower=g["lower"][:].astype(float), upper=g["upper"][:].astype(float),
                    integer=g["integer"][:].astype(bool),
                    unit_points=np.atleast_2d(g["unit_points"][...].astype(float)),
                    values=np.atleast_2d(g["values"][...].astype(float)),
                    role=g["role"][:].astype(np.int64), sample=g["sample"][:].astype(np.int64),
                    point=g["point"][:].astype(np.int64), replicate=g["replicate"][:].astype(np.int64))
        n_points = int(io._attr(g, "points"))
    except (KeyError, TypeError) as err:
        raise io.ResultsError(f"{h.filename}: incomplete /sweep group ({err})") from None
    _check_layout(sw, n_points, h.filename)
    return sw


def _check_layout(sw, n_points, path):
    """Check the design against the layout contract; raise ResultsError naming what is wrong."""
    def bad(what):
        raise io.ResultsError(f"{path}: /sweep does not follow the sweep layout: {what}")

    k, p, j = sw.k, sw.points, sw.replicates
    if sw.design not in DESIGNS:
        bad(f"design {sw.design!r} is not one of {', '.join(DESIGNS)}")
    if p != n_points:
        bad(f"attribute points = {n_points} but role has {p} entries")
    for name in ("lower", "upper", "integer"):
        if len(getattr(sw, name)) != k:
            bad(f"{name} has {len(getattr(sw, name))} entries for {k} parameters")
    for name in ("unit_points", "values"):
        if getattr(sw, name).shape != (p, k):
            bad(f"{name} has shape {getattr(sw, name).shape}, expected ({p}, {k})")
    if len(sw.sample) != p:
        bad(f"sample has {len(sw.sample)} entries for {p} points")
    if j < 1 or len(sw.point) != p * j or len(sw.replicate) != p * j:
        bad(f"{len(sw.point)} runs in point, {len(sw.replicate)} in replicate; expected points x "
            f"replicates_per_point = {p} x {j}")
    if np.any((sw.point < 0) | (sw.point >= p)) or np.any(np.bincount(sw.point, minlength=p) != j):
        bad(f"point does not give each of the {p} points its {j} replicates")
    if np.any(sw.unit_points < -1e-12) or np.any(sw.unit_points > 1 + 1e-12):
        bad("unit_points outside the unit cube [0, 1]")
    if sw.design == "saltelli":
        n = sw.samples
        if p != n * (k + 2):
            bad(f"saltelli: {p} points, expected samples x (k + 2) = {n} x {k + 2}")
        if not (np.array_equal(sw.role, np.tile(np.arange(k + 2), n))
                and np.array_equal(sw.sample, np.repeat(np.arange(n), k + 2))):
            bad("saltelli: points are not in the order A_s, B_s, AB_s^0..AB_s^(k-1) for s = 0..N-1")
        u = sw.unit_points.reshape(n, k + 2, k)
        expected = np.repeat(u[:, :1, :], k, axis=1)
        idx = np.arange(k)
        expected[:, idx, idx] = u[:, 1, :]
        if not np.allclose(u[:, 2:, :], expected, rtol=0, atol=1e-12):
            bad("saltelli: AB_i is not A with column i taken from B")
    elif sw.design == "morris":
        if sw.levels < 2:
            bad(f"morris: levels = {sw.levels}; a Morris grid needs at least 2 levels")
        r = sw.samples
        if p != r * (k + 1):
            bad(f"morris: {p} points, expected trajectories x (k + 1) = {r} x {k + 1}")
        if not np.array_equal(sw.sample, np.repeat(np.arange(r), k + 1)):
            bad("morris: sample is not the trajectory t of point t*(k+1)+m")
        try:
            _morris_steps(sw.unit_points, k, r, sw.delta)
        except ValueError as err:
            bad(str(err))
        d = np.diff(sw.unit_points.reshape(r, k + 1, k), axis=1)
        changed = np.argmax(np.abs(d), axis=2)
        role = sw.role.reshape(r, k + 1)
        if np.any(role[:, 0] != -1) or not np.array_equal(role[:, 1:], changed):
            bad("morris: role is not -1 at a trajectory's first point and the changed parameter after")


# ---------------------------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------------------------

_SPEC = re.compile(r"^(?:metric:(?P<metric>[\w.\-]+)|(?P<series>\w+)(?:@(?:year(?P<year>\d+)|(?P<all>all)))?)$")


def parse_outcome(spec):
    """Parse an outcome specification.

    Args:
        spec: ``"NAME"`` (a national series: a level at the last step, a flow summed over the
            last year), ``"NAME@yearY"`` (a level at the end of year Y, a flow summed over year
            Y), ``"NAME@all"`` (a level at the last step, a flow summed over the whole horizon) or
            ``"metric:NAME"`` (a ``/metrics`` entry).

    Returns:
        dict with ``source`` (``"series"`` or ``"metric"``), ``name`` and ``period`` (``None``:
        the last year; an int Y: year Y; ``"all"``: the whole horizon).

    Raises:
        ValueError: not one of these forms.
    """
    m = _SPEC.match(spec.strip())
    if m is None:
        raise ValueError(f"outcome {spec!r}: expected SERIES, SERIES@yearY, SERIES@all or metric:NAME "
                         f"(e.g. mean_qol, mean_qol@year2, bed_days@all, metric:trial_qol_d)")
    if m["metric"]:
        return {"source": "metric", "name": m["metric"], "period": None}
    period = "all" if m["all"] else int(m["year"]) if m["year"] else None
    return {"source": "series", "name": m["series"], "period": period}


def _run_outcome(h, spec, n_runs):
    """One scalar per run of an open sweep file: (array [R], info dict)."""
    p = parse_outcome(spec)
    name = p["name"]
    if p["source"] == "metric":
        if "metrics" not in h or name not in h["metrics"]:
            have = sorted(h["metrics"].keys()) if "metrics" in h else []
            raise KeyError(f"no metric {name!r} in {h.filename}; metrics are: {', '.join(have) or 'none'}")
        ds = h[f"metrics/{name}"]
        values = ds[...].astype(float)
        info = {"label": io._attr(ds, "label", name), "unit": io._attr(ds, "unit", ""), "kind": "metric"}
    else:
        info = io.series_info(h, name)
        data = h[f"series/national/{name}"][...].astype(float)
        t = io.time_axis(h)
        n_years = t.attrs["n_years"]
        period = n_years if p["period"] is None else p["period"]
        if period != "all" and not 1 <= period <= n_years:
            raise KeyError(f"outcome {spec!r}: the run has years 1-{n_years}")
        column = n_years if period == "all" else period - 1
        values = compare.by_period(data[:, :, None], t["year"], n_years, info["kind"])[:, column, 0]
        when = compare.period_names(n_years)[column]
        if info["kind"] == "level":
            when = f"end of year {n_years if period == 'all' else period}"
        info = {"label": f"{info['label']}, {'summed over ' if info['kind'] == 'flow' else ''}{when}",
                "unit": info["unit"], "kind": info["kind"]}
    if values.shape != (n_runs,):
        raise io.ResultsError(f"{h.filename}: outcome {spec!r} has shape {values.shape}, but the sweep "
                              f"has {n_runs} runs")
    info.update(spec=spec, source=p["source"], name=name)
    return values, info


def check_same_design(f, baseline):
    """Check that ``baseline`` ran the same sweep as ``f``, so runs pair one to one.

    Args:
        f: path or open results file of the sweep (e.g. the rollout).
        baseline: path or open results file of the comparison sweep (e.g. without DIALOG).

    Returns:
        dict of :func:`compare.check_paired` (runs, seed, patients, years).

    Raises:
        compare.PairingError: the seeds, time axes or runs differ (see
            :func:`compare.check_paired`), or the designs differ (design, parameters, bounds,
            samples, levels, replicates per point, unit points or the run to point map).
        io.ResultsError: either file is not a sweep.
    """
    with io._opened(f) as a, io._opened(baseline) as b:
        sa, sb = _read_sweep(a), _read_sweep(b)
        pair = compare.check_paired(a, b)
        diffs = []
        for field in ("design", "samples", "levels", "replicates", "parameters"):
            if getattr(sa, field) != getattr(sb, field):
                diffs.append(f"{field} {getattr(sa, field)!r} and {getattr(sb, field)!r}")
        if not diffs:
            for field in ("lower", "upper", "integer", "unit_points", "point", "replicate"):
                if not np.array_equal(getattr(sa, field), getattr(sb, field)):
                    diffs.append(f"their {field} differ")
        if diffs:
            raise compare.PairingError(f"cannot use {b.filename} as the baseline of {a.filename}: the sweep "
                                       f"designs differ ({'; '.join(diffs)}); run the baseline with the "
                                       f"same sweep: block and seed")
        return pair


def outcomes(f, specs, baseline=None):
    """Scalar outcomes of every design point, averaged over the point's replicates.

    Args:
        f: path or open results file of a sweep.
        specs: an outcome specification or a list of them (see :func:`parse_outcome`).
        baseline: optional path or open file of the same sweep (same design and seed) of a
            comparison scenario; the outcome is then ``f`` minus ``baseline`` run by run (the
            same point and replicate, so common random numbers cancel) before averaging.

    Returns:
        DataFrame indexed by ``point`` (0..P-1), one column per specification (in the
        outcome's unit). ``df.attrs["outcomes"]`` maps each specification to its ``label``,
        ``unit``, ``kind`` (level, flow or metric), ``noise_share`` (variance of the point means
        due to the replicates, estimated as the mean within-point variance / J, as a share of
        the variance of the point means; NaN when J = 1) and ``missing`` (runs with a NaN
        value, left out of their point's mean). ``df.attrs["replicates_per_point"]`` is J,
        ``df.attrs["baseline"]`` the baseline's path or None.

    Raises:
        io.ResultsError: ``f`` (or the baseline) is not a sweep: "not a sweep: run a scenario
            with a sweep: block".
        compare.PairingError: the baseline did not run the same design (:func:`check_same_design`).
        KeyError: an unknown series or metric, or a year outside the run.
        ValueError: a malformed specification.
    """
    specs = [specs] if isinstance(specs, str) else list(specs)
    for spec in specs:
        parse_outcome(spec)
    with io._opened(f) as h:
        sw = _read_sweep(h)
        runs = len(sw.point)
        columns = {spec: _run_outcome(h, spec, runs) for spec in specs}
        base_path = None
        if baseline is not None:
            with io._opened(baseline) as hb:
                check_same_design(h, hb)
                base_path = hb.filename
                base_name = io.provenance(hb)["scenario_name"]
                for spec in specs:
                    v, info = columns[spec]
                    vb, _ = _run_outcome(hb, spec, runs)
                    columns[spec] = (v - vb, dict(info, label=f"{info['label']}: difference from the "
                                                             f"baseline ({base_name})"))
    frame, attrs = {}, {}
    for spec, (v, info) in columns.items():
        g = pd.Series(v).groupby(sw.point)
        mean = g.mean()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            within = float(np.nanmean(g.var(ddof=1).to_numpy())) / sw.replicates if sw.replicates > 1 else np.nan
            between = float(np.nanvar(mean.to_numpy(), ddof=1))
        noise = within / between if between > 0 else np.nan
        frame[spec] = mean.to_numpy()
        attrs[spec] = dict(info, noise_share=noise, missing=int(np.isnan(v).sum()))
    out = pd.DataFrame(frame, index=pd.RangeIndex(sw.points, name="point"))
    out.attrs.update(outcomes=attrs, replicates_per_point=sw.replicates, baseline=base_path)
    return out


def sweep_design(f):
    """The design of a sweep: one row per point with the parameter values it ran with.

    Args:
        f: path or open results file of a sweep.

    Returns:
        DataFrame indexed by ``point`` with one column per parameter (its value, in the
        parameter's own unit; integers rounded), ``role`` and ``sample`` (see docs/output.md).
        ``df.attrs``: ``design``, ``samples`` (N base samples, r trajectories or the number of
        points), ``levels`` (Morris grid levels, 0 otherwise), ``delta`` (Morris step in the unit
        cube, NaN otherwise), ``points`` (P), ``replicates_per_point`` (J), ``runs`` (P x J),
        ``parameters``, ``lower``, ``upper``, ``integer`` (lists, one per parameter) and
        ``unit_points`` (array [P, k], the design in [0, 1]^k).

    Raises:
        io.ResultsError: the file has no ``/sweep`` ("not a sweep: run a scenario with a sweep:
            block") or its layout is inconsistent.
    """
    with io._opened(f) as h:
        sw = _read_sweep(h)
    out = pd.DataFrame(sw.values, columns=list(sw.parameters), index=pd.RangeIndex(sw.points, name="point"))
    out["role"] = sw.role
    out["sample"] = sw.sample
    out.attrs.update(design=sw.design, samples=sw.samples, levels=sw.levels, delta=sw.delta,
                     points=sw.points, replicates_per_point=sw.replicates, runs=len(sw.point),
                     parameters=list(sw.parameters), lower=sw.lower.tolist(), upper=sw.upper.tolist(),
                     integer=sw.integer.tolist(), unit_points=sw.unit_points)
    return out


# ---------------------------------------------------------------------------------------------
# Estimators (numpy only; usable without files)
# ---------------------------------------------------------------------------------------------

def _boot_interval(rng, n, n_boot, statistic):
    """2.5% and 97.5% quantiles of ``statistic(idx)`` over ``n_boot`` resamples of 0..n-1."""
    boot = np.array([statistic(rng.integers(0, n, n)) for _ in range(n_boot)])
    _, lo, hi = compare.interval(boot)
    return lo, hi


def _sobol(y_a, y_b, y_ab):
    both = np.concatenate([y_a, y_b])
    var = np.var(both)
    with np.errstate(invalid="ignore", divide="ignore"):
        s1 = np.mean((y_b - both.mean())[:, None] * (y_ab - y_a[:, None]), axis=0) / var
        st = 0.5 * np.mean((y_a[:, None] - y_ab) ** 2, axis=0) / var
    return s1, st, var


def sobol_indices(y, k, n, n_boot=N_BOOT, seed=BOOT_SEED):
    """First-order and total Sobol' indices from outcomes in Saltelli order.

    With ``f(A)``, ``f(B)`` and ``f(AB_i)`` (A with column i taken from B) for base samples
    s = 0..n-1 and V the variance of f over A and B together (2n values):

    - first order (Saltelli et al. 2010, Comput Phys Commun 181:259-270, table 2 (b)):
      ``S1_i = mean((f(B) - m) (f(AB_i) - f(A))) / V``, with f(B) centred by m, the mean over A
      and B (the expectation is the same, but without centring the estimate's error grows with
      the outcome's mean, e.g. a quality of life near 4 that varies by 0.05; SALib centres too);
    - total (Jansen 1999, Comput Phys Commun 117:35-43; Saltelli et al. 2010, table 2 (f)):
      ``ST_i = mean((f(A) - f(AB_i))^2) / 2 / V``.

    95% intervals: percentile bootstrap over base samples (the rows A_s, B_s, AB_s resampled
    together), with a generator of fixed seed.

    Args:
        y: outcomes of the n (k + 2) points, ordered A_s, B_s, AB_s^0..AB_s^(k-1) for s = 0..n-1.
        k: number of parameters.
        n: number of base samples N.
        n_boot: bootstrap resamples (0: no intervals, NaN).
        seed: seed of the bootstrap generator.

    Returns:
        dict of arrays [k]: ``S1``, ``S1_q025``, ``S1_q975``, ``ST``, ``ST_q025``, ``ST_q975``;
        and ``variance`` (float, V, in the outcome's unit squared). Indices are NaN if the
        outcome does not vary.

    Raises:
        ValueError: ``y`` does not hold n (k + 2) values.
    """
    y = np.asarray(y, dtype=float)
    if y.shape != (n * (k + 2),):
        raise ValueError(f"sobol_indices: {y.shape} outcomes, expected n (k + 2) = {n * (k + 2)}")
    y = y.reshape(n, k + 2)
    y_a, y_b, y_ab = y[:, 0], y[:, 1], y[:, 2:]
    s1, st, var = _sobol(y_a, y_b, y_ab)
    out = {"S1": s1, "ST": st, "variance": float(var)}
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        boot_s1, boot_st = [], []
        for _ in range(n_boot):
            idx = rng.integers(0, n, n)
            b1, bt, _ = _sobol(y_a[idx], y_b[idx], y_ab[idx])
            boot_s1.append(b1)
            boot_st.append(bt)
        for name, boot in (("S1", boot_s1), ("ST", boot_st)):
            _, out[f"{name}_q025"], out[f"{name}_q975"] = compare.interval(np.array(boot))
    else:
        for name in ("S1_q025", "S1_q975", "ST_q025", "ST_q975"):
            out[name] = np.full(k, np.nan)
    return out


def _morris_steps(x_unit, k, trajectories, delta):
    """The parameter changed at each step of each trajectory and the step's sign.

    Returns:
        (changed [r, k] int, sign [r, k] of +1/-1).

    Raises:
        ValueError: a step changes no coordinate or several, by other than +-delta, or a
            trajectory does not change each parameter exactly once.
    """
    x = np.asarray(x_unit, dtype=float)
    if x.shape != (trajectories * (k + 1), k):
        raise ValueError(f"morris: x_unit has shape {x.shape}, expected ({trajectories * (k + 1)}, {k})")
    d = np.diff(x.reshape(trajectories, k + 1, k), axis=1)              # [r, k steps, k coords]
    moved = np.abs(d) > 1e-9
    if np.any(moved.sum(axis=2) != 1):
        t = int(np.argwhere(moved.sum(axis=2) != 1)[0, 0])
        raise ValueError(f"morris: a step of trajectory {t} does not change exactly one parameter")
    changed = np.argmax(moved, axis=2)
    step = np.take_along_axis(d, changed[:, :, None], axis=2)[:, :, 0]
    if not np.allclose(np.abs(step), delta, rtol=0, atol=1e-9):
        raise ValueError(f"morris: steps of {np.unique(np.round(np.abs(step), 6))} in the unit cube, "
                         f"expected delta = {delta:g}")
    if np.any(np.sort(changed, axis=1) != np.arange(k)):
        raise ValueError("morris: a trajectory does not change every parameter exactly once")
    return changed, np.sign(step)


def morris_indices(x_unit, y, k, trajectories, delta, lower=None, upper=None, n_boot=N_BOOT, seed=BOOT_SEED):
    """Elementary effects of a Morris design and their summaries mu, mu* and sigma.

    Along trajectory t, the step from point m-1 to m changes parameter i by +-delta in the unit
    cube; its elementary effect, scaled to the parameter's full range, is
    ``EE = (y_m - y_(m-1)) / (+-delta)`` (in the outcome's unit: the change of the outcome if
    the effect held over the whole range), and per unit of the parameter
    ``EE / (upper_i - lower_i)`` (Morris 1991, Technometrics 33:161-174). Over the trajectories:
    ``mu`` = mean(EE), ``mu*`` = mean(|EE|) (Campolongo, Cariboni and Saltelli 2007, Environ
    Model Softw 22:1509-1518), ``sigma`` = standard deviation of EE (ddof 1; Morris 1991).
    The step is the nominal ``delta`` (rounding of integer parameters is not taken into account).
    The 95% interval of mu* is a percentile bootstrap over trajectories (fixed seed).

    Args:
        x_unit: design in the unit cube, [trajectories (k + 1), k], trajectory t at rows
            t (k + 1) .. t (k + 1) + k.
        y: outcomes of those points.
        k: number of parameters.
        trajectories: number of trajectories r.
        delta: the grid step p / (2 (p - 1)) of a p-level grid.
        lower, upper: the parameters' ranges (default 0 and 1: per unit = over the full range).
        n_boot: bootstrap resamples (0: no interval).
        seed: seed of the bootstrap generator.

    Returns:
        dict: ``ee`` [r, k] (scaled to the full range), arrays [k] ``mu``, ``mu_star``,
        ``sigma``, ``mu_star_q025``, ``mu_star_q975`` (outcome unit over the full range) and
        ``mu_per_unit``, ``mu_star_per_unit``, ``sigma_per_unit``, ``mu_star_per_unit_q025``,
        ``mu_star_per_unit_q975`` (outcome unit per unit of the parameter).

    Raises:
        ValueError: the points are not a Morris design of this shape (see the steps above).
    """
    y = np.asarray(y, dtype=float)
    if y.shape != (trajectories * (k + 1),):
        raise ValueError(f"morris: {y.shape} outcomes, expected r (k + 1) = {trajectories * (k + 1)}")
    changed, sign = _morris_steps(x_unit, k, trajectories, delta)
    dy = np.diff(y.reshape(trajectories, k + 1), axis=1)
    ee = np.empty((trajectories, k))
    np.put_along_axis(ee, changed, dy / (sign * delta), axis=1)
    span = (np.ones(k) if upper is None else np.asarray(upper, float)) - \
        (np.zeros(k) if lower is None else np.asarray(lower, float))
    out = {"ee": ee, "mu": ee.mean(axis=0), "mu_star": np.abs(ee).mean(axis=0),
           "sigma": ee.std(axis=0, ddof=1) if trajectories > 1 else np.full(k, np.nan)}
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        lo, hi = _boot_interval(rng, trajectories, n_boot, lambda idx: np.abs(ee[idx]).mean(axis=0))
    else:
        lo = hi = np.full(k, np.nan)
    out["mu_star_q025"], out["mu_star_q975"] = lo, hi
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in ("mu", "mu_star", "sigma", "mu_star_q025", "mu_star_q975"):
            base, _, q = name.partition("_q")
            out[f"{base}_per_unit" + (f"_q{q}" if q else "")] = out[name] / span
    return out


def regression_indices(x, y, n_boot=N_BOOT, seed=BOOT_SEED):
    """Standardised regression coefficients and partial rank correlation coefficients.

    - SRC (Saltelli et al. 2008, Global Sensitivity Analysis: The Primer, ch. 1.2.5): the
      coefficients of the least-squares regression of the standardised outcome on the
      standardised parameters, ``SRC_i = b_i sd(x_i) / sd(y)``; with R^2 near 1 the model is
      nearly linear and SRC_i^2 is the share of the variance due to parameter i. 95% intervals:
      percentile bootstrap over points (fixed seed).
    - PRCC (Marino et al. 2008, J Theor Biol 254:178-196): the correlation between the
      residuals of the ranks of x_i and of y, each regressed on the ranks of the other
      parameters (computed from the inverse of the rank correlation matrix,
      ``-P_iy / sqrt(P_ii P_yy)``). 95% interval from Fisher's z with standard error
      ``1 / sqrt(n - 3 - (k - 1))``; two-sided p-value from ``t = r sqrt(df / (1 - r^2))``
      with ``df = n - 2 - (k - 1)``.

    Args:
        x: parameter values [n, k] (any units; ties, as of integer parameters, get mean ranks).
        y: outcomes [n].
        n_boot: bootstrap resamples for SRC (0: no interval).
        seed: seed of the bootstrap generator.

    Returns:
        dict of arrays [k]: ``SRC``, ``SRC_q025``, ``SRC_q975``, ``PRCC``, ``PRCC_q025``,
        ``PRCC_q975``, ``PRCC_p``; floats ``r2`` (linear regression) and ``r2_rank`` (the same
        on ranks).

    Raises:
        ValueError: fewer than k + 3 points, or shapes that do not match.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, k = x.shape
    if y.shape != (n,):
        raise ValueError(f"regression_indices: {y.shape} outcomes for {n} points")
    if n < k + 3:
        raise ValueError(f"regression_indices: {n} points for {k} parameters; need at least {k + 3}")

    def src(idx):
        xs, ys = x[idx], y[idx]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = (xs - xs.mean(axis=0)) / xs.std(axis=0, ddof=1)
            zy = (ys - ys.mean()) / ys.std(ddof=1)
        design = np.column_stack([np.ones(len(idx)), z])
        coef, *_ = np.linalg.lstsq(design, zy, rcond=None)
        return coef[1:], 1.0 - np.sum((zy - design @ coef) ** 2) / np.sum(zy ** 2)

    all_rows = np.arange(n)
    out = {}
    out["SRC"], out["r2"] = src(all_rows)
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        out["SRC_q025"], out["SRC_q975"] = _boot_interval(rng, n, n_boot, lambda idx: src(idx)[0])
    else:
        out["SRC_q025"] = out["SRC_q975"] = np.full(k, np.nan)
    ranks = np.column_stack([stats.rankdata(x, axis=0), stats.rankdata(y)])
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(ranks, rowvar=False)
        prec = np.linalg.pinv(corr)
        prcc = np.clip(-prec[:k, k] / np.sqrt(np.diag(prec)[:k] * prec[k, k]), -1.0, 1.0)
        z, se = np.arctanh(prcc), 1.0 / np.sqrt(n - 3 - (k - 1))
        df = n - 2 - (k - 1)
        t = prcc * np.sqrt(df / (1.0 - prcc ** 2))
    out.update(PRCC=prcc, PRCC_q025=np.tanh(z - Z975 * se), PRCC_q975=np.tanh(z + Z975 * se),
               PRCC_p=2 * stats.t.sf(np.abs(t), df))
    rank_design = np.column_stack([np.ones(n), ranks[:, :k]])
    coef, *_ = np.linalg.lstsq(rank_design, ranks[:, k], rcond=None)
    resid = ranks[:, k] - rank_design @ coef
    out["r2_rank"] = float(1.0 - resid @ resid / np.sum((ranks[:, k] - ranks[:, k].mean()) ** 2))
    out["r2"] = float(out["r2"])
    return out


# ---------------------------------------------------------------------------------------------
# Indices of a file
# ---------------------------------------------------------------------------------------------

def _family(design):
    return {"saltelli": "sobol", "morris": "morris"}.get(design, "regression")


def indices(f, outcome, baseline=None, n_boot=N_BOOT, seed=BOOT_SEED):
    """Sensitivity indices of one outcome of a sweep, with the estimator its design calls for.

    ``saltelli``: S1 and ST (:func:`sobol_indices`); ``morris``: mu*, mu, sigma, over each
    parameter's full range and per unit of it (:func:`morris_indices`); ``latin_hypercube``
    and ``sobol`` points: SRC and PRCC (:func:`regression_indices`, on the values the points
    ran with). The outcome is the mean over the J replicates of each point. Base samples
    (saltelli), trajectories (morris) or points (the others) with a NaN outcome are left out,
    with a warning.

    Args:
        f: path or open results file of a sweep.
        outcome: outcome specification (see :func:`parse_outcome`), e.g. ``"mean_qol"`` or
            ``"metric:trial_qol_d"``.
        baseline: optional path or open file of the same sweep of a comparison scenario: the
            indices are then those of the paired difference (e.g. of the DIALOG effect).
        n_boot: bootstrap resamples for the intervals.
        seed: seed of the bootstrap generator.

    Returns:
        Tidy DataFrame, one row per parameter and index: ``outcome`` (the specification),
        ``outcome_label``, ``outcome_unit``, ``parameter``, ``lower``, ``upper`` (its range),
        ``index`` (``S1``, ``ST``; ``mu_star``, ``mu``, ``sigma``, ``mu_star_per_unit``,
        ``mu_per_unit``, ``sigma_per_unit``; ``SRC``, ``PRCC``), ``value``, ``q025``,
        ``q975`` (95% interval; NaN where none), ``index_unit`` and ``description``.
        ``df.attrs``: ``design``, ``family`` (``sobol``, ``morris``, ``regression``),
        ``outcome``, ``label``, ``unit``, ``samples``, ``used`` (base samples, trajectories or
        points used), ``replicates_per_point``, ``noise_share`` (see :func:`outcomes`),
        ``baseline``, and per design ``variance`` (saltelli), ``r2`` and ``r2_rank`` (regression).

    Raises:
        io.ResultsError: not a sweep file.
        compare.PairingError: the baseline ran another design.
        KeyError, ValueError: an unknown or malformed outcome; too few complete points.
    """
    with io._opened(f) as h:
        sw = _read_sweep(h)
        y_frame = outcomes(h, [outcome], baseline=baseline)
    y = y_frame[outcome].to_numpy()
    info = y_frame.attrs["outcomes"][outcome]
    family = _family(sw.design)
    k = sw.k
    unit_of = {"sobol": k + 2, "morris": k + 1, "regression": 1}[family]
    complete = np.all(np.isfinite(y.reshape(-1, unit_of)), axis=1)
    what = {"sobol": "base samples", "morris": "trajectories", "regression": "points"}[family]
    if not complete.all():
        warnings.warn(f"{outcome}: {int((~complete).sum())} of {len(complete)} {what} have no value (NaN) "
                      f"and are left out", RuntimeWarning, stacklevel=2)
    used = int(complete.sum())
    if used < (2 if family != "regression" else k + 3):
        raise ValueError(f"{outcome}: only {used} {what} have a value; too few to estimate sensitivity")
    keep = np.repeat(complete, unit_of)
    attrs = {"design": sw.design, "family": family, "outcome": outcome, "label": info["label"],
             "unit": info["unit"], "samples": sw.samples, "used": used, "what": what,
             "replicates_per_point": sw.replicates, "noise_share": info["noise_share"],
             "baseline": y_frame.attrs["baseline"]}
    if family == "sobol":
        res = sobol_indices(y[keep], k, used, n_boot=n_boot, seed=seed)
        names = ("S1", "ST")
        attrs["variance"] = res["variance"]
    elif family == "morris":
        res = morris_indices(sw.unit_points[keep], y[keep], k, used, sw.delta, sw.lower, sw.upper,
                             n_boot=n_boot, seed=seed)
        names = ("mu_star", "mu", "sigma", "mu_star_per_unit", "mu_per_unit", "sigma_per_unit")
    else:
        res = regression_indices(sw.values[keep], y[keep], n_boot=n_boot, seed=seed)
        names = ("PRCC", "SRC")
        attrs.update(r2=res["r2"], r2_rank=res["r2_rank"])
    rows = []
    for i, param in enumerate(sw.parameters):
        for name in names:
            unit, description = INDEX_INFO[name]
            if name == "SRC":
                description += f"; R\u00b2 = {res['r2']:.3f}"
            elif name == "PRCC":
                description += f"; p = {res['PRCC_p'][i]:.2g}"
            lo, hi = (res.get(f"{name}_q{q}", np.full(k, np.nan))[i] for q in ("025", "975"))
            rows.append({"outcome": outcome, "outcome_label": info["label"], "outcome_unit": info["unit"],
                         "parameter": param, "lower": float(sw.lower[i]), "upper": float(sw.upper[i]),
                         "index": name, "value": float(res[name][i]), "q025": float(lo), "q975": float(hi),
                         "index_unit": unit.format(unit=info["unit"]), "description": description})
    out = pd.DataFrame(rows)
    out.attrs.update(attrs)
    return out


def swing(f, outcome, baseline=None, fraction=0.2):
    """The outcome at the low and at the high end of each parameter's range, others varying.

    For parameter i: the mean outcome over the design points whose unit coordinate u_i is at
    most ``fraction`` (the low end) and at least ``1 - fraction`` (the high end), the other
    parameters varying as the design has them (a conditional mean, not a one-at-a-time run).
    Every design has such points (a Morris grid has u = 0 and 1 exactly).

    Args:
        f: path or open results file of a sweep.
        outcome: outcome specification (see :func:`parse_outcome`).
        baseline: optional comparison sweep (see :func:`outcomes`).
        fraction: the share of the range (0-0.5) that counts as an end.

    Returns:
        DataFrame, one row per parameter: ``parameter``, ``low_value`` and ``high_value`` (the
        parameter's mean value at each end, its own unit), ``outcome_low``, ``outcome_high``,
        ``outcome_mean`` (over all points), ``swing`` (high - low), ``n_low``, ``n_high``
        (points); in the outcome's unit. ``df.attrs``: ``outcome``, ``label``, ``unit``,
        ``design``, ``fraction``.
    """
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], not {fraction}")
    design = sweep_design(f)
    y_frame = outcomes(f, [outcome], baseline=baseline)
    y = y_frame[outcome].to_numpy()
    info = y_frame.attrs["outcomes"][outcome]
    u = design.attrs["unit_points"]
    rows = []
    for i, param in enumerate(design.attrs["parameters"]):
        low, high = u[:, i] <= fraction + 1e-9, u[:, i] >= 1 - fraction - 1e-9
        x = design[param].to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows.append({"parameter": param, "low_value": np.nanmean(x[low]), "high_value": np.nanmean(x[high]),
                         "outcome_low": np.nanmean(y[low]), "outcome_high": np.nanmean(y[high]),
                         "outcome_mean": np.nanmean(y), "n_low": int(low.sum()), "n_high": int(high.sum())})
    out = pd.DataFrame(rows)
    out["swing"] = out["outcome_high"] - out["outcome_low"]
    out.attrs.update(outcome=outcome, label=info["label"], unit=info["unit"], design=design.attrs["design"],
                     fraction=fraction)
    return out


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

def _param_label(name, width=30):
    """A parameter path broken at its dots into lines of at most ``width`` characters."""
    lines, line = [], ""
    for part in name.split("."):
        piece = part if not line else "." + part
        if line and len(line) + len(piece) > width:
            lines.append(line)
            line = piece
        else:
            line += piece
    return "\n".join(lines + [line])


def _bar_axes(labels):
    """A figure with one horizontal band per label (first on top), sized for the wrapped names."""
    lines = sum(label.count("\n") + 1 for label in labels)
    longest = max((len(line) for label in labels for line in label.split("\n")), default=0)
    fig = plots._figure(max(7.5, 4.6 + 0.075 * longest), 1.9 + 0.36 * max(len(labels), 1) + 0.14 * lines)
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1].astype(float)
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.grid(alpha=0.3, axis="x")
    return fig, ax, y


_INTERVALS = {"sobol": "95% bootstrap intervals over base samples",
              "morris": "95% bootstrap interval of \u03bc* over trajectories",
              "regression": "95% intervals (SRC: bootstrap over points; PRCC: Fisher z)"}


def _subtitle(attrs):
    n = {"sobol": f"N = {attrs['used']} base samples", "morris": f"r = {attrs['used']} trajectories",
         "regression": f"{attrs['used']} points"}[attrs["family"]]
    if attrs["family"] == "regression":
        n += f" (linear R\u00b2 = {attrs['r2']:.2f}, on ranks {attrs['r2_rank']:.2f})"
    return (f"{attrs['design'].replace('_', ' ')} design, {n}, {attrs['replicates_per_point']} "
            f"replicate(s) per point; error bars: {_INTERVALS[attrs['family']]}")


def tornado(table, stem, outcome=None, max_parameters=25):
    """Tornado plot of sensitivity indices, the most important parameter on top.

    Saltelli designs show ST (total) and S1 (first order), ranked by ST; Morris designs mu*
    and sigma (over each parameter's full range, in the outcome's unit), ranked by mu*; other
    designs PRCC and SRC, ranked by |PRCC|. Error bars are the 95% intervals of the table.

    Args:
        table: table from :func:`indices` (one outcome, or several with ``outcome`` given), or
            ``indices.csv`` read back (the subtitle on the design then is left out).
        stem: output path without extension.
        outcome: the outcome specification to draw when the table holds several.
        max_parameters: draw at most this many parameters (the most important).

    Returns:
        list of the written paths (PNG, SVG).
    """
    table = _one_outcome(table, outcome)
    attrs = table.attrs
    family = attrs.get("family") or next(fam for fam, (rank_by, _, _) in _TORNADO.items()
                                          if rank_by in set(table["index"]))
    rank_by, bars, xlabel = _TORNADO[family]
    wide = table.pivot(index="parameter", columns="index", values=["value", "q025", "q975"])
    importance = wide[("value", rank_by)].abs().fillna(-np.inf)
    order = importance.sort_values(ascending=False, kind="stable").index[:max_parameters]
    wide = wide.loc[order]
    fig, ax, y = _bar_axes([_param_label(p) for p in order])
    height = 0.8 / len(bars)
    for b, (name, colour, legend) in enumerate(bars):
        v = wide[("value", name)].to_numpy()
        lo, hi = wide[("q025", name)].to_numpy(), wide[("q975", name)].to_numpy()
        err = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
        offset = (len(bars) - 1) / 2 * height - b * height
        ax.barh(y + offset, v, height=height, color=colour, label=legend,
                xerr=None if np.all(np.isnan(err)) else err,
                error_kw={"elinewidth": 0.9, "capsize": 2, "ecolor": "#333333"})
    ax.axvline(0, color="grey", linewidth=0.8)
    unit = table["outcome_unit"].iloc[0]
    ax.set_xlabel(plots._wrap(xlabel.format(unit=unit), 60))
    ax.legend(fontsize=8, loc="best")
    shown = "" if len(order) == table["parameter"].nunique() else \
        f" (the {len(order)} most important of {table['parameter'].nunique()})"
    fig.suptitle(plots._wrap(f"Sensitivity of {plots._axis_label(table['outcome_label'].iloc[0], unit, 200)}"
                             f"{shown}", 80) + ("\n" + plots._wrap(_subtitle(attrs), 90) if "design" in attrs else ""),
                 fontsize=9)
    return plots.save(fig, stem)


def _one_outcome(table, outcome):
    names = list(dict.fromkeys(table["outcome"]))
    if outcome is None:
        if len(names) != 1:
            raise ValueError(f"the table holds outcomes {names}; say which to draw with outcome=")
        outcome = names[0]
    sub = table[table["outcome"] == outcome]
    if sub.empty:
        raise KeyError(f"no outcome {outcome!r} in the table; outcomes are {names}")
    sub = sub.copy()
    sub.attrs.update(table.attrs)
    return sub


def swing_tornado(table, stem, max_parameters=25):
    """Classic tornado of the mean outcome at the low and high end of each parameter's range.

    Two bars per parameter start at the mean over all points and end at the mean over the
    points at the low end (``outcome_low``, upper bar) and at the high end (``outcome_high``,
    lower bar) of the parameter; parameters are ranked by the length of the swing.

    Args:
        table: table from :func:`swing`.
        stem: output path without extension.
        max_parameters: draw at most this many parameters (the largest swings).

    Returns:
        list of the written paths (PNG, SVG).
    """
    t = table.reindex(table["swing"].abs().sort_values(ascending=False, kind="stable").index)
    t = t.iloc[:max_parameters]
    labels = [f"{_param_label(r.parameter)}\n[{r.low_value:.3g} \u2192 {r.high_value:.3g}]"
              for r in t.itertuples()]
    fig, ax, y = _bar_axes(labels)
    mid = float(t["outcome_mean"].iloc[0])
    for col, colour, legend, offset in (("outcome_low", plots.COLOURS["b"], "parameter at the low end", 0.2),
                                        ("outcome_high", plots.COLOURS["a"], "parameter at the high end", -0.2)):
        ax.barh(y + offset, t[col].to_numpy() - mid, left=mid, height=0.4, color=colour, label=legend)
    ax.axvline(mid, color="black", linewidth=0.9)
    a = table.attrs
    ax.set_xlabel(plots._axis_label(a["label"], a["unit"], 60))
    ax.legend(fontsize=8, loc="best")
    pct = round(100 * a["fraction"])
    fig.suptitle(plots._wrap(plots._axis_label(a["label"], a["unit"], 200), 80) + "\n" +
                 plots._wrap(f"mean with each parameter in the lowest vs highest {pct}% of its range "
                             f"(others varying; {a['design'].replace('_', ' ')} design); line: mean over all points; "
                             f"[ ]: the parameter's mean value at each end", 90), fontsize=9)
    return plots.save(fig, stem)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def _slug(spec):
    return re.sub(r"[^\w]+", "_", spec).strip("_")


def _print_table(table):
    a = table.attrs
    rank_by, bars, _ = _TORNADO[a["family"]]
    wide = table.pivot(index="parameter", columns="index", values=["value", "q025", "q975"])
    wide = wide.loc[wide[("value", rank_by)].abs().sort_values(ascending=False).index]
    print(f"\n{a['outcome']}: {a['label']} ({a['unit']})")
    print(f"  {_subtitle(a)}")
    if a["noise_share"] == a["noise_share"]:
        print(f"  replicate noise: {100 * a['noise_share']:.1f}% of the variance of the point means")
    width = max(len(p) for p in wide.index)
    head = "".join(f"{name + ' [95% interval]':>34s}" for name, _, _ in bars)
    print(f"  {'parameter':{width}s}{head}")
    for param, r in wide.iterrows():
        cells = ""
        for n, _, _ in bars:
            lo, hi = r[("q025", n)], r[("q975", n)]
            cell = f"{r[('value', n)]:.4g}" + (f" [{lo:.3g}, {hi:.3g}]" if lo == lo and hi == hi else "")
            cells += cell.rjust(34)
        print(f"  {param:{width}s}{cells}")


def _cli(args):
    """Run ``sensitivity``: indices.csv, tornado and swing figures per outcome, a printed table."""
    for spec in args.outcome:
        try:
            parse_outcome(spec)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    os.makedirs(args.outdir, exist_ok=True)
    tables, written = [], []
    for spec in args.outcome:
        table = indices(args.file, spec, baseline=args.baseline, n_boot=args.bootstrap)
        tables.append(table)
        written += tornado(table, os.path.join(args.outdir, f"tornado_{_slug(spec)}"))
        written += swing_tornado(swing(args.file, spec, baseline=args.baseline),
                                 os.path.join(args.outdir, f"swing_{_slug(spec)}"))
        _print_table(table)
    path = os.path.join(args.outdir, "indices.csv")
    io.write_output(path, pd.concat(tables, ignore_index=True).to_csv(index=False), overwrite=True)
    written.append(path)
    print(f"\nwrote {len(written)} files to {args.outdir}")
    return 0


def add_cli(subparsers):
    """Add the ``sensitivity`` subcommand to an argparse subparsers object.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers()``; the command
            runs ``args.func(args)``.

    Returns:
        the subcommand's parser.
    """
    p = subparsers.add_parser(
        "sensitivity", help="sensitivity indices of a parameter sweep: table (CSV) and tornado figures",
        description="Estimate how much each swept parameter matters for each outcome (Sobol' indices "
                    "for a saltelli design, Morris mu*/sigma for morris, PRCC/SRC otherwise) and write "
                    "indices.csv, tornado_<outcome> and swing_<outcome> (PNG and SVG) to --outdir.")
    p.add_argument("file", help="results file of a scenario with a sweep: block")
    p.add_argument("--outcome", action="append", required=True, metavar="SPEC",
                   help="outcome: SERIES (a level at the end, a flow over the last year), SERIES@yearY, "
                        "SERIES@all or metric:NAME; repeat for several")
    p.add_argument("--baseline", metavar="FILE",
                   help="the same sweep of a comparison scenario (e.g. without DIALOG): the outcome is "
                        "FILE minus baseline, run by run")
    p.add_argument("--outdir", default="sensitivity_out", help="output directory (default: sensitivity_out)")
    p.add_argument("--bootstrap", type=int, default=N_BOOT, metavar="N",
                   help=f"bootstrap resamples for the intervals (default: {N_BOOT})")
    p.set_defaults(func=_cli)
    return p

"""Figures of therasim results (matplotlib, Agg canvas, saved as PNG and SVG).

Every function writes ``<stem>.png`` and ``<stem>.svg`` (or the ``formats`` it is given, e.g.
``formats=("png",)``) and returns the written paths. Axis labels carry the unit the file gives
for the series; nothing here hard-codes a unit. Where a figure shows a 95% interval over
replicates, a run with one replicate (no interval) is drawn as its line alone and legends and
titles say "one replicate".
"""

from __future__ import annotations

import os
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import compare, io

DAYS_PER_YEAR = io.DAYS_PER_YEAR
COLOURS = {"a": "#1b6ca8", "b": "#c0504d", "diff": "#333333", "usual_care": "#c0504d", "dialog": "#1b6ca8"}
#: Formats :func:`save` writes when it is given none.
FORMATS = ("png", "svg")


def _figure(width, height):
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _wrap(text, width=48):
    return "\n".join(textwrap.wrap(str(text), width)) if text else ""


def _axis_label(label, unit, width=40):
    return _wrap(f"{label} ({unit})" if unit else label, width)


#: Runs of at most this many years are drawn in weeks (a teaching run counts weeks, and its
#: events happen in a week); longer runs in years.
WEEKS_UP_TO_YEARS = 3.0
DAYS_PER_WEEK = 7.0


def time_axis(days):
    """The x values, axis label and x units per year of a figure over time.

    A run of at most :data:`WEEKS_UP_TO_YEARS` years is drawn in weeks since the start, a
    longer one in years, so that a short run's axis reads in the unit its events are told in.

    Args:
        days: days since the start of each step (``/time/day``).

    Returns:
        (x, label, per_year): the steps' positions on the axis, the axis label, and how many
        axis units a year is (to place times given in years, such as training waves).
    """
    days = np.asarray(days, dtype=float)
    horizon = days.max() / DAYS_PER_YEAR if days.size else 0.0
    if horizon <= WEEKS_UP_TO_YEARS + 1e-9:
        return days / DAYS_PER_WEEK, "Weeks since the start", DAYS_PER_YEAR / DAYS_PER_WEEK
    return days / DAYS_PER_YEAR, "Time since the start (years)", 1.0


def save(fig, stem, formats=None):
    """Save a figure as ``<stem>.png`` and ``<stem>.svg`` (or the given formats).

    Args:
        fig: a matplotlib Figure.
        stem: output path without extension; its directory is created if missing.
        formats: file formats (extensions) to write, e.g. ``("png",)``; default :data:`FORMATS`.

    Returns:
        list of the written paths, in the order of ``formats``.

    Raises:
        ValueError: no format given.
    """
    formats = FORMATS if formats is None else (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats:
        raise ValueError("save: no format to write")
    stem = os.fspath(stem)
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    paths = []
    for fmt in formats:
        path = f"{stem}.{fmt}"
        tmp = f"{path}.partial-{os.getpid()}"
        try:
            fig.savefig(tmp, format=fmt)      # a reader never sees half a figure
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        paths.append(path)
    return paths


def _has_band(*pairs):
    """Whether any of the (lo, hi) pairs has width somewhere (one replicate gives lo == hi)."""
    for lo, hi in pairs:
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if np.any(hi[ok] > lo[ok]):
            return True
    return False


def _over(replicates, band):
    """What a band figure shows: "mean and 95% interval over R replicates", or "one replicate"."""
    r = int(replicates)
    if band:
        return f"mean and 95% interval over {r} replicates"
    return f"mean over {r} replicates" if r > 1 else "one replicate"


def _band(ax, x, mean, lo, hi, colour, label, band=None):
    """The mean as a line and, when the interval has width (``band``, default: it has
    somewhere), the 95% interval shaded; legend entries "LABEL: mean" and "LABEL: 95% interval",
    or just "LABEL" without a band."""
    if band is None:
        band = _has_band((lo, hi))
    if band:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.2, linewidth=0, label=f"{label}: 95% interval")
        ax.plot(x, mean, color=colour, linewidth=1.6, label=f"{label}: mean")
    else:
        ax.plot(x, mean, color=colour, linewidth=1.6, label=label)
    return band


def _run_label(letter, name):
    """Legend name of run A or B: "A (with DIALOG)", or just "A" without a name (or when the
    name is the letter itself)."""
    name = "" if name is None else str(name).strip()
    return letter if not name or name == letter else f"{letter} ({name})"


#: Smallest span of a level's y-axis, as a share of its scale (a unit such as "rating (1-7)"):
#: a change of 0.05 on a 1-7 scale should look like one, not fill the panel.
MIN_SCALE_SHARE = 0.2


def _scale_of(unit):
    """(lower, upper) of a bounded scale named in a unit ("rating (1-7)" -> (1, 7)), or None."""
    import re
    m = re.search(r"\((-?\d+(?:\.\d+)?)\s*[-\u2013]\s*(-?\d+(?:\.\d+)?)\)", str(unit or ""))
    return (float(m.group(1)), float(m.group(2))) if m else None


def _honest_ylim(ax, unit):
    """Widen a level's axis to at least MIN_SCALE_SHARE of its scale, within the scale."""
    scale = _scale_of(unit)
    if scale is None:
        return
    lo, hi = ax.get_ylim()
    span = (scale[1] - scale[0]) * MIN_SCALE_SHARE
    if hi - lo >= span:
        return
    mid = (lo + hi) / 2
    lo, hi = max(scale[0], mid - span / 2), min(scale[1], mid + span / 2)
    if hi - lo < span * (1 - 1e-9):          # against an end of the scale: extend the other way
        lo, hi = (scale[0], scale[0] + span) if lo == scale[0] else (scale[1] - span, scale[1])
    ax.set_ylim(lo, hi)


def training_waves(h):
    """Times (years) at which a run's DIALOG training waves start, from its resolved scenario:
    wave k of ``dialog.rollout.n_waves`` starts at ``start_year + duration_years k / n_waves``
    (docs/model.md, section 12); waves no trust falls in are left out. Empty without DIALOG or
    with a cluster-randomised design (no waves)."""
    with io._opened(h) as f:
        text = io.scenario(f)
    get = lambda key, default=None: io.scenario_value(text, key, default)
    if not get("dialog.enabled", False) or get("dialog.rollout.design", "waves") != "waves":
        return []
    n_waves = int(get("dialog.rollout.n_waves", 1))
    start, duration = float(get("dialog.rollout.start_year", 0.0)), float(get("dialog.rollout.duration_years", 0.0))
    regions = get("structure.regions")
    try:
        n_trusts = sum(int(r["n_trusts"]) for r in regions)
    except (TypeError, KeyError, ValueError):
        n_trusts = n_waves                              # unreadable without PyYAML: every wave
    used = sorted({rank * n_waves // n_trusts for rank in range(n_trusts)})
    return [start + duration * k / n_waves for k in used][:24]


def _mark_waves(axes, waves, per_year=1.0):
    """Dotted lines at the training waves (``waves`` in years; ``per_year`` axis units a year)."""
    for ax in axes:
        for k, w in enumerate(waves):
            ax.axvline(w * per_year, color="#7a7a7a", linestyle=":", linewidth=0.9,
                       label="DIALOG training wave" if k == 0 and ax is axes[0] else None)


def rollout_curve(a, b, name, stem, names=None, cumulative=None, formats=None):
    """An outcome over time in runs A and B and their paired difference, with 95% bands.

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B (same seed and replicates).
        name: series name, e.g. ``"mean_qol"``.
        stem: output path without extension.
        names: legend names of A and B, e.g. ``("with DIALOG", "without DIALOG")`` (default:
            none; the legend then says "A" and "B").
        cumulative: draw a flow summed from the start (default: True for flows, which vary
            much from week to week; levels are always drawn as they are).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).
    """
    with io._opened(a) as h:
        kind = io.series_info(h, name)["kind"]
        replicates = io.provenance(h)["replicates"]
    cumulative = (kind == "flow") if cumulative is None else cumulative and kind == "flow"
    d = compare.paired_series(a, b, name, cumulative=cumulative)
    info = dict(d.attrs)
    if cumulative:
        info["label"] = f"{info['label']}, cumulative since the start"
    names = tuple(names) if names is not None else (None, None)
    x, xlabel, per_year = time_axis(d["day"].to_numpy())
    band = _has_band(*((d[f"{p}_q025"], d[f"{p}_q975"]) for p in ("a", "b", "diff")))
    fig = _figure(7.5, 6.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    _band(top, x, d["a_mean"], d["a_q025"], d["a_q975"], COLOURS["a"], _run_label("A", names[0]), band)
    _band(top, x, d["b_mean"], d["b_q025"], d["b_q975"], COLOURS["b"], _run_label("B", names[1]), band)
    top.set_ylabel(_axis_label(info["label"], info["unit"], 34))
    top.set_title(_wrap(f"{info['label']}: A and B ({_over(replicates, band)})", 70), fontsize=10)
    if kind == "level":
        _honest_ylim(top, info["unit"])
    _mark_waves([top, bottom], training_waves(a), per_year)
    top.legend(fontsize=8, loc="best")
    top.grid(alpha=0.3)
    _band(bottom, x, d["diff_mean"], d["diff_q025"], d["diff_q975"], COLOURS["diff"], "A \u2212 B", band)
    bottom.axhline(0, color="grey", linewidth=0.8)
    bottom.set_ylabel(_wrap(f"A \u2212 B ({info['unit']})", 30))
    bottom.set_xlabel(xlabel)
    paired = "same random numbers, replicate by replicate" if int(replicates) > 1 else "same random numbers"
    bottom.set_title(f"Paired difference A \u2212 B ({paired})", fontsize=10)
    if band:                          # without a band the title says all the legend would
        bottom.legend(fontsize=8, loc="best")
    bottom.grid(alpha=0.3)
    return save(fig, stem, formats)


def _by_arm(h, name):
    """[R, T, arm] of a series, regions and severities combined."""
    return compare.collapse(h, name, "arm")


def cascade(f, stem, min_patients=20, formats=None):
    """The cascade by arm over time: shares engaged, adherent and with quality of life improved.

    ``arm`` is DIALOG exposure in each step, so arm sizes change as the rollout proceeds; a
    point is drawn only when the arm holds at least ``min_patients`` patients.

    Args:
        f: path or open results file.
        stem: output path without extension.
        min_patients: smallest arm (patients, mean over replicates) for which a share is drawn.
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).
    """
    with io._opened(f) as h:
        t = io.time_axis(h)
        n, arms = _by_arm(h, "patients")
        panels = []
        for name in ("engaged", "adherent", "share_qol_improved"):
            info = io.series_info(h, name)
            v, _ = _by_arm(h, name)
            if info["denominator"] is None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    v = np.where(n > 0, v / np.where(n > 0, n, 1), np.nan)
                unit = f"share of the arm's {io.series_info(h, 'patients')['unit']}"
            else:
                unit = info["unit"]
            panels.append((info["label"], unit, v))
        title = io.provenance(h)["scenario_name"]
        replicates = io.provenance(h)["replicates"]
        arm_label = io._attr(h["dimensions/arm"], "label", "arm")
    x, xlabel, _ = time_axis(t["day"].to_numpy())
    small = n.mean(axis=0) < min_patients
    curves = []                       # (panel, arm, mean, lo, hi) of the arms drawn
    for i, (_, _, v) in enumerate(panels):
        for k, arm in enumerate(arms):
            m, lo, hi = compare.interval(v[:, :, k])
            m, lo, hi = (np.where(small[:, k], np.nan, s) for s in (m, lo, hi))
            if not np.all(np.isnan(m)):
                curves.append((i, arm, m, lo, hi))
    band = _has_band(*((lo, hi) for *_, lo, hi in curves))
    fig = _figure(11, 4.2)
    axes = fig.subplots(1, 3, sharex=True)
    for i, arm, m, lo, hi in curves:
        _band(axes[i], x, m, lo, hi, COLOURS.get(arm, None), arm.replace("_", " "), band)
    for ax, (label, unit, _) in zip(axes, panels):
        ax.set_title(_wrap(label, 32), fontsize=10)
        ax.set_ylabel(_wrap(unit, 34))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(_wrap(f"{title}: engagement, adherence and change by arm ({arm_label}); "
                       f"{_over(replicates, band)}", 100), fontsize=11)
    return save(fig, stem, formats)


def forest(effects, stem, outcomes=None, period=None, formats=None):
    """Forest plot of paired effects A - B by region and baseline-severity subgroup.

    Args:
        effects: table from :func:`compare.paired_effects` with dimensions national, region
            and severity.
        stem: output path without extension.
        outcomes: up to four series names (default: mean_qol, admissions_involuntary and
            bed_days when present). Counts are shown per 1,000 patients of the group.
        period: period name (default: the whole horizon, e.g. ``"years 1-5"``).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).
    """
    if period is None:
        period = effects["period"].iloc[-1]
    if outcomes is None:
        wanted = ("mean_qol", "admissions_involuntary", "bed_days", "mean_unmet_needs")
        outcomes = [o for o in wanted if o in set(effects["outcome"])][:3] or list(effects["outcome"].unique()[:3])
    outcomes = list(outcomes)[:4]
    d0 = effects[(effects["outcome"] == outcomes[0]) & (effects["period"] == period)]
    order = list(d0[["dimension", "group"]].itertuples(index=False, name=None))
    y = np.arange(len(order))[::-1].astype(float)
    fig = _figure(3.4 * len(outcomes) + 2.6, 0.32 * len(order) + 1.8)
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)[0]
    drawn = []
    for ax, name in zip(axes, outcomes):
        d = effects[(effects["outcome"] == name) & (effects["period"] == period)].set_index(["dimension", "group"])
        d = d.loc[order]
        col = "per_1000" if d["per_1000_mean"].notna().any() else "effect"
        m, lo, hi = (d[f"{col}_{s}"].to_numpy() for s in ("mean", "q025", "q975"))
        drawn.append((lo, hi))
        colours = ["black" if dim == "national" else COLOURS["a"] if dim == "region" else COLOURS["b"]
                   for dim, _ in order]
        ax.hlines(y, lo, hi, colors=colours, linewidth=1.6)
        ax.scatter(m, y, c=colours, s=18, zorder=3)
        ax.axvline(0, color="grey", linewidth=0.8)
        unit = d["unit"].iloc[0] + (" per 1,000 patients" if col == "per_1000" else "")
        ax.set_xlabel(_wrap(f"A \u2212 B ({unit})", 30))
        ax.set_title(_wrap(d["label"].iloc[0], 30), fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    axes[0].set_yticks(y)
    axes[0].set_yticklabels([("All patients" if dim == "national" else
                              f"{'Region' if dim == 'region' else 'Severity'}: {g}") for dim, g in order],
                            fontsize=8)
    replicates = effects.attrs.get("replicates")
    band = _has_band(*drawn)
    over = _over(replicates, band) if replicates else (
        "mean and 95% interval over replicates" if band else "mean over replicates")
    fig.suptitle(_wrap(f"Paired effects A \u2212 B, {period}: {over}", 90), fontsize=11)
    return save(fig, stem, formats)


TEACHING_ATTRIBUTES = ("star_p", "engaged", "adherence", "symptoms")


def _spans(x, flag):
    """(start, end) x-ranges where ``flag`` holds, each step covering half a step either side."""
    flag = np.asarray(flag) > 0.5
    if not flag.any():
        return []
    x = np.asarray(x, dtype=float)
    half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flag.astype(int), [0]))))
    return [(x[i] - half, x[j - 1] + half) for i, j in zip(edges[::2], edges[1::2])]


def _shade(ax, x, flag, colour, alpha):
    """Shade the weeks where ``flag`` holds (full height; the y-limits are left to the data)."""
    for lo, hi in _spans(x, flag):
        ax.axvspan(lo, hi, color=colour, alpha=alpha, linewidth=0)


#: Names of traced attributes in figures (others: the attribute with spaces).
ATTRIBUTE_NAMES = {"qol": "quality of life", "star_latent": "latent relationship"}


def _attribute_name(attr):
    if attr in ATTRIBUTE_NAMES:
        return ATTRIBUTE_NAMES[attr]
    return attr.replace("_", "-").upper() if attr.startswith("star") else attr.replace("_", " ")


def _attribute_label(attr, units):
    return _wrap(f"{_attribute_name(attr)} ({units.get(attr, '0 = no, 1 = yes')})", 18)


def _listed(attributes):
    """ "a, b and c" of the attributes' names."""
    names = [_attribute_name(a) for a in attributes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _trajectory_grid(fig, n_rows, n_cols, legend_height):
    top, bottom = fig.subfigures(2, 1, height_ratios=(1.7 * n_rows + 0.8, legend_height))
    axes = top.subplots(n_rows, n_cols, sharex=True, sharey="row", squeeze=False)
    return axes, bottom


def _dpi(fig, dpi):
    if dpi:
        fig.set_dpi(dpi)
        fig._original_dpi = dpi          # what savefig uses for dpi="figure"


def _label_panel(ax, i, j, attr, units, n_rows, xlabel):
    """Grid, the attribute's label on the first column and the time axis on the last row."""
    ax.grid(alpha=0.3)
    if j == 0:
        ax.set_ylabel(_attribute_label(attr, units), fontsize=9)
    if i == n_rows - 1:
        ax.set_xlabel(xlabel)


def patient_trajectories(f, stem, n=4, attributes=TEACHING_ATTRIBUTES, patients=None, dpi=None, formats=None):
    """A few sampled patients' trajectories for teaching, one column per patient.

    Rows show STAR-P (patient's view of the relationship; with it, dashed, the felt relationship
    that drives behaviour and the run's engagement and adherence thresholds, when the file traces
    ``star_latent``), engagement, adherence and symptoms; weeks with a DIALOG-trained care
    coordinator are shaded blue and admissions grey.

    Args:
        f: path or open results file with ``/trajectories``.
        stem: output path without extension.
        n: number of patients (evenly spread over the sample) when ``patients`` is not given.
        attributes: traced attributes, one row each (units and labels from the file).
        patients: patient rows to show (must be in the sample).
        dpi: resolution (default: that of this module's figures).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).

    Raises:
        ValueError: the file has no trajectories, or a patient is not traced.
    """
    tr = io.trajectories(f)
    if tr.empty:
        raise ValueError("the file has no /trajectories (run with output.trajectories > 0)")
    sample = np.unique(tr["patient"].to_numpy())
    if patients is None:
        patients = sample[np.linspace(0, len(sample) - 1, min(n, len(sample))).round().astype(int)]
    attributes = [a for a in attributes if a in tr.columns]
    felt_weight = None                   # the felt relationship is drawn with STAR-P when it can be
    if "star_p" in attributes and "star_latent" in tr.columns:
        thresholds = cascade_thresholds(f)
        felt_weight = thresholds["relationship.perception_weight"]
    fig = _figure(2.9 * len(patients) + 1.4, 1.7 * len(attributes) + 1.2)
    _dpi(fig, dpi)
    axes, bottom = _trajectory_grid(fig, len(attributes), len(patients), 0.4)
    units = tr.attrs["units"]
    for j, pid in enumerate(patients):
        p = tr[tr["patient"] == pid]
        if p.empty:
            raise ValueError(f"patient {pid} is not traced")
        x, xlabel, _ = time_axis(p["day"].to_numpy())
        for i, attr in enumerate(attributes):
            ax = axes[i, j]
            for flag, colour in (("arm", COLOURS["dialog"]), ("inpatient", "grey")):
                if flag in p.columns:
                    _shade(ax, x, p[flag].to_numpy(), colour, 0.15)
            ax.plot(x, p[attr].to_numpy(), color="black", linewidth=1.2,
                    drawstyle="steps-mid" if attr in ("engaged",) else "default")
            if attr == "star_p" and felt_weight is not None:
                felt = p["star_latent"].to_numpy() + felt_weight * (p["star_p"] - p["star_latent"]).to_numpy()
                ax.plot(x, felt, color="black", linewidth=1.0, linestyle="--")
                for key, colour in (("engagement.threshold", "#2e7d32"), ("adherence.threshold", "#8e44ad")):
                    ax.axhline(thresholds[key], color=colour, linewidth=0.9, linestyle=(0, (6, 3)), gid=key)
            _label_panel(ax, i, j, attr, units, len(attributes), xlabel)
        axes[0, j].set_title(f"Patient {pid}", fontsize=10)
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D
    handles = [Patch(color=COLOURS["dialog"], alpha=0.3, label="care coordinator uses DIALOG"),
               Patch(color="grey", alpha=0.3, label="admitted")]
    if felt_weight is not None:
        handles += [Line2D([], [], color="black", linestyle="--", linewidth=1.0,
                           label="felt relationship (drives behaviour)"),
                    Line2D([], [], color="#2e7d32", linestyle=(0, (6, 3)),
                           label=f"engagement threshold {thresholds['engagement.threshold']:g}"),
                    Line2D([], [], color="#8e44ad", linestyle=(0, (6, 3)),
                           label=f"adherence threshold {thresholds['adherence.threshold']:g}")]
    bottom.legend(handles=handles, loc="center", ncol=len(handles) if len(patients) > 2 else 2, fontsize=8,
                  frameon=False)
    with io._opened(f) as h:
        title = io.provenance(h)["scenario_name"]
    fig.suptitle(_wrap(f"{title}: {_listed(attributes)} of {len(patients)} patient"
                       f"{'s' if len(patients) != 1 else ''}", int(12 * fig.get_figwidth())), fontsize=11)
    return save(fig, stem, formats)


def paired_trajectories(a, b, stem, patients, names=("A", "B"), attributes=TEACHING_ATTRIBUTES, dpi=None,
                        formats=None):
    """The same traced patients in two runs, one column per patient: A's lines over B's.

    Two runs with the same seed and population trace the same patients and share their random
    numbers, so the lines coincide until what differs between the scenarios changes something;
    from then on the figure shows what it changed for that patient. Admissions are shaded (A
    grey, B red); a dotted line marks the first week the patient's care coordinator used DIALOG
    in A.

    Args:
        a, b: paths or open results files with ``/trajectories`` (same seed and population).
        stem: output path without extension.
        patients: patient rows (traced in both).
        names: legend names of A and B.
        attributes: traced attributes, one row each (units and labels from the file).
        dpi: resolution (default: that of this module's figures).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).

    Raises:
        ValueError: a file has no trajectories, or a patient is not traced in both.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    ta, tb = io.trajectories(a), io.trajectories(b)
    if ta.empty or tb.empty:
        raise ValueError("both files need /trajectories (run with output.trajectories > 0)")
    attributes = [x for x in attributes if x in ta.columns and x in tb.columns]
    units = ta.attrs["units"]
    names = tuple(names) if names is not None else (None, None)
    one = len(patients) == 1
    fig = _figure(2.9 * len(patients) + 1.4, 1.7 * len(attributes) + (2.0 if one else 1.4))
    _dpi(fig, dpi)
    axes, bottom = _trajectory_grid(fig, len(attributes), len(patients), 1.1 if one else 0.5)
    for j, pid in enumerate(patients):
        pa, pb = ta[ta["patient"] == pid], tb[tb["patient"] == pid]
        if pa.empty or pb.empty:
            raise ValueError(f"patient {pid} is not traced in both files")
        x, xlabel, _ = time_axis(pa["day"].to_numpy())
        first_dialog = None
        if "arm" in pa.columns and (pa["arm"].to_numpy() > 0.5).any():
            first_dialog = x[np.argmax(pa["arm"].to_numpy() > 0.5)]
        for i, attr in enumerate(attributes):
            ax = axes[i, j]
            for p, colour in ((pa, "grey"), (pb, COLOURS["b"])):
                if "inpatient" in p.columns:
                    _shade(ax, x, p["inpatient"].to_numpy(), colour, 0.18)
            if first_dialog is not None:
                ax.axvline(first_dialog, color=COLOURS["a"], linestyle=":", linewidth=1.2)
            style = "steps-mid" if attr == "engaged" else "default"
            ax.plot(x, pb[attr].to_numpy(), color=COLOURS["b"], linewidth=2.0, drawstyle=style)
            ax.plot(x, pa[attr].to_numpy(), color=COLOURS["a"], linewidth=1.2, drawstyle=style)
            _label_panel(ax, i, j, attr, units, len(attributes), xlabel)
        axes[0, j].set_title(f"Patient {pid}", fontsize=10)
    handles = [Line2D([], [], color=COLOURS["a"], linewidth=1.2, label=_run_label("A", names[0])),
               Line2D([], [], color=COLOURS["b"], linewidth=2.0, label=_run_label("B", names[1])),
               Patch(color="grey", alpha=0.3, label="admitted in A"),
               Patch(color=COLOURS["b"], alpha=0.3, label="admitted in B"),
               Line2D([], [], color=COLOURS["a"], linestyle=":", label="care coordinator starts DIALOG (A)")]
    bottom.legend(handles=handles, loc="center", ncol=1 if one else 3, fontsize=8, frameon=False)
    who = "patient" if one else f"{len(patients)} patients"
    fig.suptitle(_wrap(f"The same {who} in A and B: {_listed(attributes)} (lines coincide until the runs "
                       f"diverge)", int(12 * fig.get_figwidth())), fontsize=11)
    return save(fig, stem, formats)


#: The cascade's thresholds: (scenario key, what it is, the panel it is drawn in, default when an
#: older file's scenario lacks it).
CASCADE_THRESHOLDS = (
    ("engagement.threshold", "engagement threshold", "relationship", 2.2),
    ("adherence.threshold", "adherence threshold", "relationship", 2.6),
    ("adherence.good_threshold", "good adherence", "adherence", 0.8),
)


def cascade_thresholds(f):
    """The thresholds of the cascade in the run's own resolved scenario (not this module's
    defaults): ``{key: value}`` for each key of :data:`CASCADE_THRESHOLDS`, and
    ``relationship.perception_weight`` (the patient's share in the felt relationship)."""
    text = io.scenario(f)
    out = {key: float(io.scenario_value(text, key, default)) for key, _, _, default in CASCADE_THRESHOLDS}
    out["relationship.perception_weight"] = float(io.scenario_value(text, "relationship.perception_weight", 0.25))
    return out


def _felt(f, weight):
    """(mean felt relationship of the traced patients by step, [step, patient] felt, traced
    patients) of replicate 0, or None without trajectories. felt = star_latent + weight x
    (STAR-P - star_latent) (docs/model.md, section 4)."""
    t = io.trajectories(f)
    if t.empty or not {"star_latent", "star_p"} <= set(t.columns):
        return None
    t = t.sort_values(["step", "patient"])
    n_steps, rows = t["step"].nunique(), t["patient"].nunique()
    felt = (t["star_latent"] + weight * (t["star_p"] - t["star_latent"])).to_numpy().reshape(n_steps, rows)
    return felt.mean(axis=1), felt, rows


def cascade_figure(a, b, names=("with DIALOG", "without DIALOG"), dpi=None):
    """The figure of :func:`relationship_cascade` (a matplotlib Figure, not saved).

    Its axes, top to bottom, are the relationship, engagement, adherence, relapses and
    admissions, and quality of life; threshold lines carry their scenario key as ``gid``.
    """
    from matplotlib.lines import Line2D
    info = compare.check_paired(a, b)
    names = tuple(names) if names is not None else (None, None)
    runs = (("a", a, "-", 1.3), ("b", b, "-", 2.4))
    with io._opened(a) as h:
        days = h["time/day"][:]
        title = io.provenance(h)["scenario_name"]
        n_patients = io.n_patients(h)
        units = {name: io.series_info(h, name)["unit"] for name in ("mean_star_p", "mean_qol")}
        good_label = io.series_info(h, "adherent")["label"]
    x, xlabel, per_year = time_axis(days)

    def series(f, name):
        with io._opened(f) as h:
            v = h[f"series/national/{name}"][...].astype(float)       # [replicate, step]
        return np.cumsum(v, axis=1) if name in ("relapses", "admissions_voluntary", "admissions_involuntary") else v

    thresholds = {run: cascade_thresholds(f) for run, f, *_ in runs}
    replicates = int(info["replicates"])
    data = {run: {name: compare.interval(series(f, name)) for name in
                  ("mean_star_p", "engaged", "adherent", "relapses", "admissions_voluntary",
                   "admissions_involuntary", "mean_qol")} for run, f, *_ in runs}
    band = replicates > 1 and _has_band(*((lo, hi) for d in data.values() for _, lo, hi in d.values()))
    felt = {run: _felt(f, thresholds[run]["relationship.perception_weight"]) for run, f, *_ in runs}

    fig = _figure(8.6, 11.5)
    _dpi(fig, dpi)
    axes = fig.subplots(5, 1, sharex=True, height_ratios=(1.7, 1, 1, 1.2, 1))
    rel, eng, adh, events, qol = axes

    def line(ax, run, name, label, style="-"):
        m, lo, hi = data[run][name]
        colour, width = COLOURS[run], dict(a=1.3, b=2.4)[run]
        if band:
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15, linewidth=0)
        ax.plot(x, m, color=colour, linewidth=width, linestyle=style, label=label, zorder=3 if run == "a" else 2)

    labels = {"a": _run_label("A", names[0]), "b": _run_label("B", names[1])}
    # 1. The relationship: each patient's felt relationship (A, faint), the team means, thresholds.
    if felt["a"] is not None and felt["a"][2] <= 60:
        rel.plot(x, felt["a"][1], color="#dadada", linewidth=0.6, antialiased=False, zorder=1)
    for run in ("b", "a"):
        line(rel, run, "mean_star_p", f"{labels[run]}: mean STAR-P")
        if felt[run] is not None:
            rel.plot(x, felt[run][0], color=COLOURS[run], linewidth=dict(a=1.1, b=2.0)[run], linestyle="--",
                     label=f"{labels[run]}: mean felt relationship", zorder=3 if run == "a" else 2)
    drawn = {}
    for key, what, panel, _ in CASCADE_THRESHOLDS:
        for run in ("a", "b"):
            value = thresholds[run][key]
            if (key, value) in drawn:
                continue
            ax = rel if panel == "relationship" else None
            if ax is None:
                continue
            drawn[(key, value)] = ax.axhline(value, color="#2e7d32" if key.startswith("engagement") else "#8e44ad",
                                             linewidth=1.1, linestyle=(0, (6, 3)), gid=key, zorder=4)
            tag = "" if run == "a" and thresholds["b"][key] == value else f" ({'A' if run == 'a' else 'B'})"
            ax.annotate(f"{what} {value:g}{tag}", (1.0, value), xycoords=("axes fraction", "data"),
                        xytext=(-4, 3), textcoords="offset points", ha="right", va="bottom", fontsize=8,
                        color=drawn[(key, value)].get_color(), zorder=5,
                        bbox=dict(boxstyle="square,pad=0.1", facecolor="white", edgecolor="none", alpha=0.85))
    shown = [v for line_ in rel.lines for v in np.asarray(line_.get_ydata(), dtype=float).ravel()
             if np.isfinite(v)]
    rel.set_ylim(max(0.0, min(shown) - 0.25), min(4.0, max(shown) + 0.25))     # the scale is 0-4
    rel.set_ylabel(_wrap(f"1. Relationship ({units['mean_star_p']})", 24))
    traced = felt["a"][2] if felt["a"] is not None else 0
    first = "; replicate 0's traced patients" if replicates > 1 else ""
    rel.set_title(_wrap("1. The relationship: mean STAR-P (solid) and mean felt relationship (dashed"
                        f"{first}), which drives behaviour and meets the thresholds"
                        + (f"; grey: each of the {traced} traced patients' felt relationship in A"
                           if traced and traced <= 60 else ""), 105), fontsize=9)
    # 2. engaged; 3. adherent
    for ax, name, number, what in ((eng, "engaged", 2, "Patients engaged with the service"),
                                   (adh, "adherent", 3, f"{good_label} (adherence at least "
                                                        f"{thresholds['a']['adherence.good_threshold']:g})")):
        for run in ("b", "a"):
            line(ax, run, name, labels[run])
        ax.set_ylabel(_wrap(f"{number}. {name.capitalize()} (patients of {n_patients})", 22))
        ax.set_title(_wrap(f"{number}. {what}", 100), fontsize=9)
    good = thresholds["a"]["adherence.good_threshold"]
    adh.plot([], [], " ", gid="adherence.good_threshold", label=f"good adherence: at least {good:g}")
    # 4. relapses and admissions since the start
    for name, style, what in (("relapses", "-", "relapses"), ("admissions_voluntary", "--", "voluntary admissions"),
                              ("admissions_involuntary", ":", "involuntary admissions")):
        for run in ("b", "a"):
            line(events, run, name, None, style)
    events.set_ylabel(_wrap("4. Events since the start", 22))
    events.set_title("4. Relapses (solid), voluntary (dashed) and involuntary admissions (dotted), "
                     "counted since the start", fontsize=9)
    # 5. quality of life
    for run in ("b", "a"):
        line(qol, run, "mean_qol", labels[run])
    qol.set_ylabel(_wrap(f"5. Quality of life ({units['mean_qol']})", 22))
    qol.set_title("5. Mean quality of life", fontsize=9)
    _honest_ylim(qol, units["mean_qol"])
    waves = training_waves(a)
    _mark_waves(axes, waves, per_year)
    for ax in axes:
        ax.grid(alpha=0.3)
    qol.set_xlabel(xlabel)
    qol.set_xlim(x[0], x[-1])
    handles = [Line2D([], [], color=COLOURS["a"], linewidth=1.3, label=labels["a"]),
               Line2D([], [], color=COLOURS["b"], linewidth=2.4, label=labels["b"])]
    if waves:
        handles.append(Line2D([], [], color="#7a7a7a", linestyle=":", label="DIALOG training (A)"))
    rel.legend(handles=handles, loc="lower left", ncol=len(handles), fontsize=8, framealpha=0.9)
    over = _over(replicates, band)
    fig.suptitle(_wrap(f"{title}: the cascade, relationship \u2192 engagement \u2192 adherence \u2192 relapses "
                       f"and admissions \u2192 quality of life; A and B share their seed ({info['seed']}) and "
                       f"chance ({over}): where only the thick red line shows, A's thin blue line runs "
                       f"inside it and the runs coincide", 95), fontsize=10)
    return fig


def relationship_cascade(a, b, stem, names=("with DIALOG", "without DIALOG"), dpi=None, formats=None):
    """The cascade in linked panels sharing one time axis, runs A and B (same seed) together.

    Top to bottom: the relationship (the team's mean STAR-P and mean felt relationship, each
    traced patient's felt relationship in A faint behind, the engagement and adherence thresholds
    of the run's scenario as lines); patients engaged; patients with good adherence; relapses,
    voluntary and involuntary admissions since the start; mean quality of life. Weeks on the axis
    for a short run (:func:`time_axis`); the training waves dotted. With replicates, means and
    95% bands.

    Args:
        a, b: paths or open results files of runs A and B (same seed, replicates and population),
            e.g. with and without DIALOG.
        stem: output path without extension.
        names: legend names of A and B.
        dpi: resolution (default: that of this module's figures).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).

    Raises:
        compare.PairingError: the runs cannot be paired.
    """
    return save(cascade_figure(a, b, names, dpi), stem, formats)


def series_curve(f, name, stem, label=None, marker_year=None, marker_label="DIALOG first used",
                 size=(7, 4), formats=None):
    """One national series of one run over time: the mean and 95% band over replicates (a run
    with one replicate: its line); flows are summed from the start.

    Args:
        f: path or open results file.
        name: series name, e.g. ``"mean_qol"``.
        stem: output path without extension.
        label: legend name of the run (default: its scenario name).
        marker_year: draw a dashed vertical line at this time (years), e.g. when DIALOG was
            first used; ``None`` for none.
        marker_label: legend text of that line.
        size: figure size (inches).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths (PNG, SVG).
    """
    with io._opened(f) as h:
        info = dict(io.series_info(h, name))
        v = h[f"series/national/{name}"][...].astype(float)      # [replicate, step]
        x, xlabel, per_year = time_axis(h["time/day"][:])
        if label is None:
            label = io.provenance(h)["scenario_name"]
    if info["kind"] == "flow":
        v = np.cumsum(v, axis=1)
        info["label"] = f"{info['label']}, cumulative since the start"
    m, lo, hi = compare.interval(v)
    fig = _figure(*size)
    ax = fig.subplots()
    band = _band(ax, x, m, lo, hi, COLOURS["a"], label)
    if marker_year is not None:
        ax.axvline(marker_year * per_year, color="grey", linestyle="--", linewidth=1, label=marker_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_axis_label(info["label"], info["unit"], 34))
    ax.set_title(_wrap(f"{info['label']} ({_over(v.shape[0], band)})", 70), fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return save(fig, stem, formats)


def file_plots(f, outdir, outcomes=("mean_qol", "engaged", "admissions_involuntary", "bed_days"), formats=None):
    """Every figure of one results file: cascade by arm, outcomes over time, trajectories.

    Args:
        f: path of a results file.
        outdir: directory for the figures (created if missing).
        outcomes: series drawn over time (mean and 95% band over replicates).
        formats: file formats (see :func:`save`).

    Returns:
        list of the written paths.
    """
    paths = cascade(f, os.path.join(outdir, "cascade"), formats=formats)
    with io._opened(f) as h:
        names = io.series_names(h)
        has_traj = "trajectories" in h
        for name in outcomes:
            if name in names:
                paths += series_curve(h, name, os.path.join(outdir, f"series_{name}"), formats=formats)
    if has_traj:
        paths += patient_trajectories(f, os.path.join(outdir, "trajectories"), formats=formats)
    return paths


def net_cost_path(a, b, population=None, discount_rate=compare.DISCOUNT_RATE):
    """Cumulative net cost A − B per replicate and step (all cost series, scaled to ``population``).

    Returns:
        (discounted [R, T], undiscounted [R, T], time axis); each step's net cost is discounted
        by the factor of its year (:func:`compare.discount_factor`), step 0 counts nothing, so
        the last step's value is the horizon's net cost of :func:`compare.net_cost_summary`.
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        compare.check_paired(fa, fb)
        t = io.time_axis(fa)
        n = io.n_patients(fa)
        net = sum(fa[f"series/national/{c}"][...].astype(float) - fb[f"series/national/{c}"][...].astype(float)
                  for c in compare.INTERVENTION_COSTS + compare.SERVICE_COSTS)
    net = net * ((population or n) / n)
    year = t["year"].to_numpy()
    factor = np.where(year > 0, compare.discount_factor(discount_rate, np.maximum(year, 1)), 0.0)
    return np.cumsum(net * factor[None, :], axis=1), np.cumsum(np.where(year[None, :] > 0, net, 0.0), axis=1), t


def net_cost_curve(a, b, stem, population=None, discount_rate=compare.DISCOUNT_RATE, formats=None):
    """The cumulative net cost A − B over time (:func:`net_cost_path`), discounted (mean and 95%
    interval over replicates) and undiscounted (dashed), with the training waves dotted."""
    disc, undisc, t = net_cost_path(a, b, population, discount_rate)
    disc, undisc = disc / 1e6, undisc / 1e6
    with io._opened(a) as fa:
        n = io.n_patients(fa)
        replicates = io.provenance(fa)["replicates"]
    x, xlabel, per_year = time_axis(t["day"].to_numpy())
    m, lo, hi = compare.interval(disc)
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    band = _band(ax, x, m, lo, hi, COLOURS["a"], f"discounted at {discount_rate * 100:g}%")
    ax.plot(x, undisc.mean(axis=0), color=COLOURS["a"], linestyle="--", linewidth=1.1, label="undiscounted")
    ax.axhline(0, color="grey", linewidth=0.8)
    _mark_waves([ax], training_waves(a), per_year)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Cumulative net cost A \u2212 B, GBP m")
    scope = f"{(population or n):,} patients"
    ax.set_title(_wrap(f"Net cost of A over B since the start, {scope} ({_over(replicates, band)}); "
                       f"below zero A has saved more than it cost", 80), fontsize=10)
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return save(fig, stem, formats)


def horizon_chart(findings, stem, formats=None):
    """The horizon totals of :func:`compare.horizon_effects` as one chart: each outcome's change
    A − B relative to B (%), mean and 95% interval, counts and levels alike."""
    d = findings.iloc[::-1]
    rel = 100 * d[["effect_mean", "effect_q025", "effect_q975"]].to_numpy() / np.abs(d[["b_mean"]].to_numpy())
    fig = _figure(7.5, 0.9 + 0.42 * len(d))
    ax = fig.add_subplot()
    y = np.arange(len(d))
    colours = []
    for (_, row), m in zip(d.iterrows(), rel[:, 0]):
        good = {"higher": m > 0, "lower": m < 0}.get(row["better"])
        colours.append("#2e7d32" if good else "#c0504d" if good is False else "#555555")
    ax.errorbar(rel[:, 0], y, xerr=[rel[:, 0] - rel[:, 1], rel[:, 2] - rel[:, 0]], fmt="none", ecolor="#333",
                lw=1, capsize=3)
    ax.scatter(rel[:, 0], y, color=colours, zorder=3, s=36)
    labels = [f"{r['name']}" + (" (at the end)" if r["kind"] == "level" else "") for _, r in d.iterrows()]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel(_wrap("A \u2212 B over the horizon, % of B (mean and 95% interval; green: better for patients, "
                        "red: worse)", 70))
    ax.grid(axis="x", alpha=0.3)
    return save(fig, stem, formats)

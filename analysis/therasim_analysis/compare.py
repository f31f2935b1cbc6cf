"""Paired comparison of two runs (A minus B) for service planners.

Two runs of scenarios that differ only in what is being evaluated (e.g. a DIALOG rollout and
the same services without it), with the same seed and number of replicates, share every random
number the difference does not change (common random numbers). Replicate r of A is paired with
replicate r of B; the effect is the per-replicate difference A - B, summarised over replicates
by its mean and its 2.5% and 97.5% quantiles (the 95% interval).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import io

#: Intervention costs (national series, GBP): what the rollout adds.
INTERVENTION_COSTS = ("cost_training", "cost_devices", "cost_dialog_time")
#: Service costs the rollout may save (GBP): a saving is B minus A.
SERVICE_COSTS = ("cost_bed_days", "cost_contacts")

#: Benefits for cost-effectiveness: name -> (series summed, sign (+1: A - B gained,
#: -1: B - A avoided), what one unit is called). Units come from the file.
BENEFITS = {
    "qol_gained": (("mean_qol",), 1, "point of mean quality of life gained"),
    "unmet_needs_reduced": (("mean_unmet_needs",), -1, "unmet need fewer on average"),
    "admissions_avoided": (("admissions_voluntary", "admissions_involuntary"), -1, "admission avoided"),
    "involuntary_admissions_avoided": (("admissions_involuntary",), -1, "involuntary admission avoided"),
    "bed_days_avoided": (("bed_days",), -1, "bed-day avoided"),
    "relapses_avoided": (("relapses",), -1, "relapse avoided"),
    "disengagements_avoided": (("disengagements",), -1, "disengagement avoided"),
}

DIMENSIONS = ("national", "region", "severity")


class PairingError(ValueError):
    """Two results files that cannot be compared replicate by replicate."""


def check_paired(a, b):
    """Check that two results files can be paired replicate by replicate.

    Args:
        a: path or open results file of run A (e.g. the rollout).
        b: path or open results file of run B (e.g. the comparison).

    Returns:
        dict with ``replicates`` (R), ``seed``, ``n_patients`` (patients) and ``n_years``.

    Raises:
        PairingError: the runs differ in number of replicates, seed, time axis, regions,
            number of patients, or a replicate is missing.
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        pa, pb = io.provenance(fa), io.provenance(fb)
        if pa["replicates"] != pb["replicates"]:
            raise PairingError(f"cannot pair {pa['path']} ({pa['replicates']} replicates) with "
                               f"{pb['path']} ({pb['replicates']} replicates): the numbers of "
                               f"replicates differ; run both with the same --replicates")
        if pa["seed"] != pb["seed"]:
            raise PairingError(f"cannot pair {pa['path']} (seed {pa['seed']}) with {pb['path']} "
                               f"(seed {pb['seed']}): the seeds differ, so the runs do not share "
                               f"their random numbers; run both with the same --seed")
        for p in (pa, pb):
            if not all(p["done"]):
                missing = [r for r, d in enumerate(p["done"]) if not d]
                raise PairingError(f"{p['path']}: replicates {missing} are not in the file")
        ta, tb = io.time_axis(fa), io.time_axis(fb)
        if len(ta) != len(tb) or not np.array_equal(ta["day"].to_numpy(), tb["day"].to_numpy()):
            raise PairingError(f"cannot pair {pa['path']} and {pb['path']}: their time axes differ "
                               f"({len(ta) - 1} and {len(tb) - 1} steps, last day "
                               f"{ta['day'].iloc[-1]:g} and {tb['day'].iloc[-1]:g})")
        da, db = io.dimensions(fa), io.dimensions(fb)
        if da != db:
            raise PairingError(f"cannot pair {pa['path']} and {pb['path']}: their groups differ "
                               f"(regions {da.get('region')} and {db.get('region')})")
        na, nb = io.n_patients(fa), io.n_patients(fb)
        if na != nb:
            raise PairingError(f"cannot pair {pa['path']} ({na} patients) with {pb['path']} "
                               f"({nb} patients): the populations differ")
        return {"replicates": int(pa["replicates"]), "seed": pa["seed"], "n_patients": na,
                "n_years": ta.attrs["n_years"]}


def collapse(h, name, dimension):
    """One series per replicate, step and group of one dimension, other groups combined.

    Sums are added over the other dimensions; means are re-weighted by their denominator
    series (``mean over patients`` -> ``patients``): sum(mean x denominator) / sum(denominator).

    Args:
        h: open results file.
        name: series name.
        dimension: ``"national"`` (all patients), ``"region"``, ``"severity"`` or ``"arm"``.

    Returns:
        (array [R, n_steps + 1, n_groups] in the series' unit, list of group names).
    """
    info = io.series_info(h, name)
    if dimension == "national":
        return h[f"series/national/{name}"][...][:, :, None].astype(float), ["all patients"]
    if not info["grouped"]:
        raise KeyError(f"series {name!r} is national only; it has no {dimension} groups")
    dims = io.dimensions(h)
    order = list(dims)
    if dimension not in order:
        raise KeyError(f"no dimension {dimension!r}; dimensions are {order}")
    other = tuple(2 + i for i, d in enumerate(order) if d != dimension)
    data = h[f"series/grouped/{name}"][...].astype(float)
    if info["denominator"] is None:
        out = data.sum(axis=other)
    else:
        den = h[f"series/grouped/{info['denominator']}"][...].astype(float)
        num = np.where(den > 0, np.nan_to_num(data) * den, 0.0).sum(axis=other)
        tot = den.sum(axis=other)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(tot > 0, num / np.where(tot > 0, tot, 1.0), np.nan)
    return out, list(dims[dimension])


def by_period(values, year, n_years, kind):
    """Aggregate [R, T, G] to [R, n_years + 1, G]: years 1..n, then the whole horizon.

    Args:
        values: array [replicate, step, group] of a series (step 0 = baseline).
        year: year of each step (0 for step 0), from :func:`io.time_axis`.
        n_years: number of years of the horizon.
        kind: ``"flow"`` (summed over the period) or ``"level"`` (value at the period's end).

    Returns:
        array [R, n_years + 1, G]; the last period is the whole horizon (years 1..n).
    """
    year = np.asarray(year)
    r, _, g = values.shape
    out = np.empty((r, n_years + 1, g))
    for y in range(1, n_years + 1):
        steps = np.flatnonzero(year == y)
        out[:, y - 1] = values[:, steps].sum(axis=1) if kind == "flow" else values[:, steps[-1]]
    out[:, n_years] = values[:, 1:].sum(axis=1) if kind == "flow" else values[:, -1]
    return out


def period_names(n_years):
    """Names of the periods of :func:`by_period`: ``year 1`` .. ``year n``, ``years 1-n``."""
    return [f"year {y}" for y in range(1, n_years + 1)] + [f"years 1-{n_years}"]


def interval(x, axis=0):
    """Mean and 95% interval (2.5% and 97.5% quantiles, numpy's linear interpolation).

    Args:
        x: values, replicates along ``axis``.
        axis: the replicate axis.

    Returns:
        (mean, q025, q975) arrays.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN groups give NaN
        return (np.nanmean(x, axis=axis), np.nanquantile(x, 0.025, axis=axis),
                    np.nanquantile(x, 0.975, axis=axis))


def _scale(population, n_run):
    return (population if population is not None else n_run) / n_run


def paired_effects(a, b, outcomes=None, dimensions=DIMENSIONS, population=None):
    """Effects A - B of each outcome, per year and over the whole horizon, with 95% intervals.

    For every replicate r the outcome of run A is aggregated to years (flows summed over the
    year, levels read at its end; the whole horizon sums flows and reads levels at the end) and
    B's is subtracted; the table gives the mean of these paired differences over replicates
    and their 2.5% and 97.5% quantiles. Count (sum) outcomes are also given per 1,000 patients
    of the group (patients at step 0) and as national totals scaled to ``population``.

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B (e.g. no DIALOG), same seed and replicates.
        outcomes: series names (default: the file's headline series).
        dimensions: any of ``"national"``, ``"region"`` (by region) and ``"severity"`` (by
            baseline severity subgroup); groups combine arms (exposure) and the other dimension.
        population: patients to scale national totals to (default: the run's own population,
            e.g. 300,000 for England when a run of 20,000 patients should be scaled up).

    Returns:
        DataFrame, one row per outcome, dimension, group and period, with ``outcome``,
        ``label``, ``unit`` (the series' unit in the file), ``stat``, ``kind``, ``dimension``,
        ``group``, ``period``, ``a_mean``, ``b_mean``, ``effect_mean``, ``effect_q025``,
        ``effect_q975`` (A - B in the run, in ``unit``), ``per_1000_mean/q025/q975`` (``unit``
        per 1,000 patients; sums only), ``national_mean/q025/q975`` (``unit`` scaled to
        ``population`` patients; sums only), ``patients`` (group size at step 0, run A,
        replicate mean), ``replicates``.

    Raises:
        PairingError: see :func:`check_paired`.
    """
    rows = []
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        periods = period_names(n_years)
        if outcomes is None:
            outcomes = [n for n in io.series_names(fa) if io.series_info(fa, n)["headline"]]
        factor = _scale(population, pair["n_patients"])
        for name in outcomes:
            info = io.series_info(fa, name)
            for dim in dimensions:
                if dim != "national" and not info["grouped"]:
                    continue
                va, groups = collapse(fa, name, dim)
                vb, _ = collapse(fb, name, dim)
                pa = by_period(va, t["year"], n_years, info["kind"])
                pb = by_period(vb, t["year"], n_years, info["kind"])
                diff = pa - pb
                n_group = collapse(fa, "patients", dim)[0][:, 0, :]          # [R, G] at step 0
                stats = {"a_mean": np.nanmean(pa, axis=0), "b_mean": np.nanmean(pb, axis=0)}
                stats.update(zip(("effect_mean", "effect_q025", "effect_q975"), interval(diff)))
                if info["denominator"] is None:
                    with np.errstate(invalid="ignore", divide="ignore"):
                        per_1000 = diff / n_group[:, None, :] * 1000.0
                    stats.update(zip(("per_1000_mean", "per_1000_q025", "per_1000_q975"), interval(per_1000)))
                    stats.update(zip(("national_mean", "national_q025", "national_q975"),
                                     interval(diff * factor)))
                for p, period in enumerate(periods):
                    for g, group in enumerate(groups):
                        row = {"outcome": name, "label": info["label"], "unit": info["unit"],
                               "stat": info["stat"], "kind": info["kind"], "dimension": dim,
                               "group": group, "period": period}
                        for key in ("a_mean", "b_mean", "effect_mean", "effect_q025", "effect_q975",
                                    "per_1000_mean", "per_1000_q025", "per_1000_q975",
                                    "national_mean", "national_q025", "national_q975"):
                            row[key] = float(stats[key][p, g]) if key in stats else np.nan
                        row["patients"] = float(n_group[:, g].mean())
                        row["replicates"] = pair["replicates"]
                        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(pair, population=population if population is not None else pair["n_patients"])
    return out


def _national_periods(h, name, t, n_years):
    info = io.series_info(h, name)
    v = h[f"series/national/{name}"][...][:, :, None].astype(float)
    return by_period(v, t["year"], n_years, info["kind"])[:, :, 0], info


def cost_effects(a, b, population=None):
    """Costs of A relative to B: intervention costs, savings and net cost, per period.

    Intervention cost = difference in DIALOG training + devices + extra clinician time in
    sessions; savings = reduction in bed-day and care coordinator meeting costs (B - A);
    net cost = intervention cost - savings (= the difference in all five cost series). Each is
    computed per replicate and summarised by its mean and 95% interval.

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B, same seed and replicates.
        population: patients to scale national totals to (default: the run's population).

    Returns:
        DataFrame with ``item`` (a cost series, ``intervention_cost``, ``savings`` or
        ``net_cost``), ``label``, ``unit`` (from the file, GBP), ``period``, ``effect_mean``,
        ``effect_q025``, ``effect_q975`` (in the run), ``per_1000_*`` (per 1,000 patients) and
        ``national_*`` (scaled to ``population`` patients).
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        factor = _scale(population, pair["n_patients"])
        items, units = {}, set()
        for name in INTERVENTION_COSTS + SERVICE_COSTS:
            pa, info = _national_periods(fa, name, t, n_years)
            pb, _ = _national_periods(fb, name, t, n_years)
            items[name] = (pa - pb, info["label"] + " (A - B)", info["unit"])
            units.add(info["unit"])
        unit = units.pop() if len(units) == 1 else " / ".join(sorted(units))
        items["intervention_cost"] = (sum(items[n][0] for n in INTERVENTION_COSTS),
                                      "Intervention cost: training + devices + DIALOG time (A - B)", unit)
        items["savings"] = (-sum(items[n][0] for n in SERVICE_COSTS),
                            "Savings: bed-days + care coordinator meetings (B - A)", unit)
        items["net_cost"] = (items["intervention_cost"][0] - items["savings"][0],
                             "Net cost: intervention cost - savings", unit)
        rows = []
        periods = period_names(n_years)
        for item, (diff, label, u) in items.items():
            stats = dict(zip(("effect_mean", "effect_q025", "effect_q975"), interval(diff)))
            stats.update(zip(("per_1000_mean", "per_1000_q025", "per_1000_q975"),
                             interval(diff / pair["n_patients"] * 1000.0)))
            stats.update(zip(("national_mean", "national_q025", "national_q975"), interval(diff * factor)))
            for p, period in enumerate(periods):
                rows.append({"item": item, "label": label, "unit": u, "period": period,
                             **{k: float(v[p]) for k, v in stats.items()}})
    out = pd.DataFrame(rows)
    out.attrs.update(pair)
    return out


def cost_effectiveness(a, b, benefits=None):
    """Net cost per unit of benefit over the whole horizon, with its interval across replicates.

    For each replicate r: net cost_r (as in :func:`cost_effects`, GBP) divided by benefit_r.
    A benefit measured as a mean over patients (quality of life, unmet needs) is a change in the
    mean at the horizon's end, and the ratio is the net cost per 1,000 patients per point of
    that mean; a count (admissions, bed-days, relapses, disengagements) is summed over the
    horizon, and the ratio is the net cost per event avoided. ``ratio`` is the ratio of the
    mean net cost to the mean benefit; ``ratio_q025``/``ratio_q975`` are quantiles of the
    per-replicate ratios, meaningful only if the benefit is positive in every replicate
    (``benefit_positive`` counts the replicates where it is; ``note`` says when it is not).

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B, same seed and replicates.
        benefits: names from :data:`BENEFITS` (default: all whose series are in the file).

    Returns:
        DataFrame with ``benefit``, ``benefit_unit`` (from the file), ``benefit_mean``,
        ``benefit_q025``, ``benefit_q975``, ``net_cost_mean`` (GBP, or GBP per 1,000 patients
        for mean benefits), ``ratio``, ``ratio_q025``, ``ratio_q975``, ``ratio_unit``,
        ``benefit_positive``, ``replicates``, ``note``.
    """
    costs = cost_effects(a, b)
    rows = []
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        net = 0.0
        for name in INTERVENTION_COSTS + SERVICE_COSTS:
            net = net + _national_periods(fa, name, t, n_years)[0][:, -1] \
                - _national_periods(fb, name, t, n_years)[0][:, -1]
        cost_unit = costs.loc[costs["item"] == "net_cost", "unit"].iloc[0]
        names = benefits or [k for k, v in BENEFITS.items()
                             if all(s in fa["series/national"] for s in v[0])]
        for key in names:
            series_list, sign, what = BENEFITS[key]
            benefit, info = 0.0, None
            for s in series_list:
                pa, info = _national_periods(fa, s, t, n_years)
                pb, _ = _national_periods(fb, s, t, n_years)
                benefit = benefit + sign * (pa - pb)[:, -1]
            is_mean = info["denominator"] is not None
            cost_r = net / pair["n_patients"] * 1000.0 if is_mean else net
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio_r = cost_r / benefit
            b_mean, b_lo, b_hi = interval(benefit)
            _, r_lo, r_hi = interval(ratio_r)
            positive = int((benefit > 0).sum())
            ratio = float(np.mean(cost_r) / b_mean) if b_mean != 0 else np.nan
            if is_mean:
                ratio_unit = f"{cost_unit} per 1,000 patients per {what} ({info['unit']})"
            else:
                ratio_unit = f"{cost_unit} per {what}"
            note = "" if positive == len(benefit) else (
                f"benefit not positive in {len(benefit) - positive} of {len(benefit)} replicates: "
                f"the ratio's interval is not meaningful")
            rows.append({"benefit": key, "benefit_label": what, "benefit_unit": info["unit"],
                         "benefit_mean": float(b_mean), "benefit_q025": float(b_lo),
                         "benefit_q975": float(b_hi), "net_cost_mean": float(np.mean(cost_r)),
                         "net_cost_unit": f"{cost_unit} per 1,000 patients" if is_mean else cost_unit,
                         "ratio": ratio, "ratio_q025": float(r_lo) if positive == len(benefit) else np.nan,
                         "ratio_q975": float(r_hi) if positive == len(benefit) else np.nan,
                         "ratio_unit": ratio_unit, "benefit_positive": positive,
                         "replicates": len(benefit), "note": note})
    out = pd.DataFrame(rows)
    out.attrs.update(pair)
    return out


def paired_series(a, b, name, dimension="national", cumulative=False):
    """Per-step series of A, B and A - B with mean and 95% interval over replicates.

    Args:
        a: path or open results file of run A.
        b: path or open results file of run B (same seed and replicates).
        name: series name, e.g. ``"mean_qol"``.
        dimension: ``"national"``, ``"region"`` or ``"severity"``.
        cumulative: sum a flow from the start (each replicate first, then the statistics).

    Returns:
        DataFrame with ``step``, ``day``, ``year``, ``group`` and ``a_mean``, ``a_q025``,
        ``a_q975``, ``b_*`` and ``diff_*`` in the series' unit; attrs hold the series' info.
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        check_paired(fa, fb)
        t = io.time_axis(fa)
        info = io.series_info(fa, name)
        va, groups = collapse(fa, name, dimension)
        vb, _ = collapse(fb, name, dimension)
    if cumulative:
        if info["kind"] != "flow":
            raise ValueError(f"{name} is a {info['kind']}; only a flow can be cumulated")
        va, vb = np.cumsum(va, axis=1), np.cumsum(vb, axis=1)
    frames = []
    for g, group in enumerate(groups):
        d = t.copy()
        d["group"] = group
        for prefix, v in (("a", va[:, :, g]), ("b", vb[:, :, g]), ("diff", va[:, :, g] - vb[:, :, g])):
            m, lo, hi = interval(v)
            d[f"{prefix}_mean"], d[f"{prefix}_q025"], d[f"{prefix}_q975"] = m, lo, hi
        frames.append(d)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(info, cumulative=cumulative)
    return out

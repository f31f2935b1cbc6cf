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
#: Service costs the rollout may change (GBP): a fall is a saving.
SERVICE_COSTS = ("cost_bed_days", "cost_contacts")
#: Annual discount rate of costs and outcomes: the NICE reference case (3.5%).
DISCOUNT_RATE = 0.035
#: The perspective of the costs the model counts.
PERSPECTIVE = ("NHS and personal social services: DIALOG training, devices and care coordinators' "
               "time in sessions, inpatient bed-days and care coordinator meetings; no costs to "
               "patients, families or society")

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


def discount_factor(rate, year):
    """Discount factor of year ``year`` (1 = the first year, not discounted): 1 / (1 + rate)^(year - 1).

    The NICE reference case discounts each whole year after the first; ``therasim compare``
    uses the same factors.
    """
    return 1.0 / (1.0 + rate) ** (np.asarray(year, dtype=float) - 1.0)


def by_period(values, year, n_years, kind, discount_rate=0.0):
    """Aggregate [R, T, G] to [R, n_years + 1, G]: years 1..n, then the whole horizon.

    Args:
        values: array [replicate, step, group] of a series (step 0 = baseline).
        year: year of each step (0 for step 0), from :func:`io.time_axis`.
        n_years: number of years of the horizon.
        kind: ``"flow"`` (summed over the period) or ``"level"`` (value at the period's end).
        discount_rate: annual rate a flow's year y is discounted at (:func:`discount_factor`);
            the horizon is then the sum of the discounted years. Levels are not discounted.

    Returns:
        array [R, n_years + 1, G]; the last period is the whole horizon (years 1..n).
    """
    year = np.asarray(year)
    r, _, g = values.shape
    out = np.empty((r, n_years + 1, g))
    for y in range(1, n_years + 1):
        steps = np.flatnonzero(year == y)
        if kind == "flow":
            out[:, y - 1] = values[:, steps].sum(axis=1) * discount_factor(discount_rate, y)
        else:
            out[:, y - 1] = values[:, steps[-1]]
    out[:, n_years] = out[:, :n_years].sum(axis=1) if kind == "flow" else values[:, -1]
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


def _national_periods(h, name, t, n_years, discount_rate=0.0):
    info = io.series_info(h, name)
    v = h[f"series/national/{name}"][...][:, :, None].astype(float)
    return by_period(v, t["year"], n_years, info["kind"], discount_rate)[:, :, 0], info


def _net_cost(fa, fb, t, n_years, discount_rate):
    """Per-replicate net cost A - B (all cost series) per period: array [R, n_years + 1]."""
    return sum(_national_periods(fa, n, t, n_years, discount_rate)[0]
               - _national_periods(fb, n, t, n_years, discount_rate)[0]
               for n in INTERVENTION_COSTS + SERVICE_COSTS)


def cost_effects(a, b, population=None, discount_rate=DISCOUNT_RATE):
    """Costs of A relative to B by category, per period, undiscounted and discounted.

    Every row is a change in cost, A - B: positive when A costs more, negative when A saves.
    The categories are the five cost series (DIALOG training, devices and care coordinators'
    time in sessions; inpatient bed-days and care coordinator meetings), then
    ``intervention_cost`` (the first three), ``service_cost`` (the last two: negative is a
    saving) and ``net_cost`` (all five). Each is computed per replicate and summarised by its
    mean and 95% interval; the costs are those of the :data:`PERSPECTIVE` (NHS and PSS).

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B, same seed and replicates.
        population: patients to scale national totals to (default: the run's population).
        discount_rate: annual rate of the discounted rows (default 3.5%, the NICE reference case).

    Returns:
        DataFrame with ``item``, ``label``, ``unit`` (from the file, GBP), ``discounted`` (bool:
        both are given), ``period``, ``effect_mean``, ``effect_q025``, ``effect_q975`` (in the
        run), ``per_1000_*`` (per 1,000 patients) and ``national_*`` (scaled to ``population``
        patients). ``attrs`` hold the pairing facts, ``discount_rate`` and ``price_year``.
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        factor = _scale(population, pair["n_patients"])
        rows = []
        periods = period_names(n_years)
        for discounted, rate in ((False, 0.0), (True, discount_rate)):
            items, units = {}, set()
            for name in INTERVENTION_COSTS + SERVICE_COSTS:
                pa, info = _national_periods(fa, name, t, n_years, rate)
                pb, _ = _national_periods(fb, name, t, n_years, rate)
                items[name] = (pa - pb, info["label"], info["unit"])
                units.add(info["unit"])
            unit = units.pop() if len(units) == 1 else " / ".join(sorted(units))
            items["intervention_cost"] = (sum(items[n][0] for n in INTERVENTION_COSTS),
                                          "Intervention: training + devices + DIALOG time", unit)
            items["service_cost"] = (sum(items[n][0] for n in SERVICE_COSTS),
                                     "Services: bed-days + care coordinator meetings", unit)
            items["net_cost"] = (items["intervention_cost"][0] + items["service_cost"][0],
                                 "Net cost: intervention + services", unit)
            for item, (diff, label, u) in items.items():
                stats = dict(zip(("effect_mean", "effect_q025", "effect_q975"), interval(diff)))
                stats.update(zip(("per_1000_mean", "per_1000_q025", "per_1000_q975"),
                                 interval(diff / pair["n_patients"] * 1000.0)))
                stats.update(zip(("national_mean", "national_q025", "national_q975"), interval(diff * factor)))
                for p, period in enumerate(periods):
                    rows.append({"item": item, "label": label, "unit": u, "discounted": discounted,
                                 "period": period, **{k: float(v[p]) for k, v in stats.items()}})
        price_year = io.scenario_value(io.scenario(fa), "costs.price_year")
    out = pd.DataFrame(rows)
    out.attrs.update(pair, discount_rate=discount_rate, price_year=price_year)
    return out


def break_even_year(net_by_year):
    """The first year from which the cumulative net cost stays at or below zero, or None.

    Args:
        net_by_year: net cost of each year 1..n (e.g. discounted, mean over replicates).

    Returns:
        int year (1-based) or None when the cumulative net cost is still positive at the end.
    """
    cum = np.cumsum(np.asarray(net_by_year, dtype=float))
    for y in range(len(cum)):
        if np.all(cum[y:] <= 0):
            return y + 1
    return None


def verdict(net_cost, benefit):
    """What a net cost and a benefit (both mean A - B, benefit positive = A better) mean together.

    Returns:
        ``"dominant"`` (A costs no more and gains), ``"dominated"`` (A costs more and loses),
        ``"costs more, gains"`` (the cost per unit of benefit is meaningful), ``"saves, loses"``
        (A saves money and loses benefit: the saving per unit lost is meaningful) or
        ``"no difference"`` (no benefit either way).
    """
    if benefit > 0:
        return "dominant" if net_cost <= 0 else "costs more, gains"
    if benefit < 0:
        return "saves, loses" if net_cost < 0 else "dominated"
    return "no difference"


def cost_effectiveness(a, b, benefits=None, discount_rate=DISCOUNT_RATE):
    """Net cost per unit of benefit over the whole horizon, discounted, without negative ratios.

    For each replicate r: the discounted net cost (as in :func:`cost_effects`) and the benefit:
    a count (admissions, bed-days, relapses, disengagements) is summed over the horizon with
    each year discounted like the costs; a mean over patients (quality of life, unmet needs) is
    the change in the mean at the horizon's end (a level, not discounted), and its net cost is
    per 1,000 patients. ``verdict`` (:func:`verdict`) says what the means mean together; a ratio
    is given only when it has one meaning: net cost per unit gained when A costs more and gains
    (``"costs more, gains"``), saving per unit lost when A saves and loses. A dominant or
    dominated A has no ratio (NaN): a negative ratio would mix up the two. The ratio's interval
    (quantiles of per-replicate ratios) is given only when every replicate is in the same case.

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B, same seed and replicates.
        benefits: names from :data:`BENEFITS` (default: all whose series are in the file).
        discount_rate: annual rate of costs and counted events (default 3.5%).

    Returns:
        DataFrame with ``benefit``, ``benefit_label``, ``benefit_unit`` (from the file),
        ``benefit_mean``, ``benefit_q025``, ``benefit_q975``, ``net_cost_mean``,
        ``net_cost_q025``, ``net_cost_q975``, ``net_cost_unit``, ``verdict``, ``ratio``,
        ``ratio_q025``, ``ratio_q975``, ``ratio_unit``, ``share_dominant`` (replicates where A
        costs no more and gains), ``benefit_positive`` (replicates where A gains),
        ``replicates``, ``note``.
    """
    rows = []
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        net = _net_cost(fa, fb, t, n_years, discount_rate)[:, -1]
        cost_unit = io.series_info(fa, INTERVENTION_COSTS[0])["unit"]
        names = benefits or [k for k, v in BENEFITS.items()
                             if all(s in fa["series/national"] for s in v[0])]
        for key in names:
            series_list, sign, what = BENEFITS[key]
            benefit, info = 0.0, None
            for s in series_list:
                pa, info = _national_periods(fa, s, t, n_years, discount_rate)
                pb, _ = _national_periods(fb, s, t, n_years, discount_rate)
                benefit = benefit + sign * (pa - pb)[:, -1]
            is_mean = info["denominator"] is not None
            cost_r = net / pair["n_patients"] * 1000.0 if is_mean else net
            b_mean, b_lo, b_hi = interval(benefit)
            c_mean, c_lo, c_hi = interval(cost_r)
            v = verdict(c_mean, b_mean)
            per_rep = np.array([verdict(c, g) for c, g in zip(cost_r, benefit)])
            ratio = r_lo = r_hi = np.nan
            if v in ("costs more, gains", "saves, loses"):
                ratio = float(c_mean / b_mean)
                if np.all(per_rep == v):
                    _, r_lo, r_hi = interval(cost_r / benefit)
            if is_mean:
                ratio_unit = f"{cost_unit} per 1,000 patients per {what} ({info['unit']})"
            else:
                ratio_unit = f"{cost_unit} per {what}"
            if v == "saves, loses":
                ratio_unit = ratio_unit.replace(" per ", " saved per ", 1).replace("gained", "lost").replace(
                    "avoided", "more").replace("fewer", "more")
            note = ""
            if np.isfinite(ratio) and not np.all(per_rep == v):
                note = (f"{int((per_rep != v).sum())} of {len(per_rep)} replicates fall in another case: "
                        f"the ratio has no interval")
            rows.append({"benefit": key, "benefit_label": what, "benefit_unit": info["unit"],
                         "benefit_mean": float(b_mean), "benefit_q025": float(b_lo),
                         "benefit_q975": float(b_hi), "net_cost_mean": float(c_mean),
                         "net_cost_q025": float(c_lo), "net_cost_q975": float(c_hi),
                         "net_cost_unit": f"{cost_unit} per 1,000 patients" if is_mean else cost_unit,
                         "verdict": v, "ratio": ratio, "ratio_q025": float(r_lo), "ratio_q975": float(r_hi),
                         "ratio_unit": ratio_unit, "share_dominant": float(np.mean(per_rep == "dominant")),
                         "benefit_positive": int((benefit > 0).sum()), "replicates": len(benefit),
                         "note": note})
    out = pd.DataFrame(rows)
    out.attrs.update(pair, discount_rate=discount_rate)
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


#: What the findings report, in the order a board reads them: (key, series combined, name).
FINDINGS = (
    ("admissions_involuntary", ("admissions_involuntary",), "Involuntary admissions (detentions)"),
    ("admissions", ("admissions_voluntary", "admissions_involuntary"), "All admissions"),
    ("bed_days", ("bed_days",), "Bed-days"),
    ("relapses", ("relapses",), "Relapses"),
    ("disengagements", ("disengagements",), "Disengagements from services"),
    ("mean_qol", ("mean_qol",), "Mean quality of life"),
    ("mean_unmet_needs", ("mean_unmet_needs",), "Mean unmet needs"),
)


def horizon_effects(a, b, population=None, findings=FINDINGS):
    """The findings over the whole horizon: each outcome A - B with its 95% interval.

    A count (a flow) is summed over the horizon and scaled to ``population`` patients (a
    national total); a mean over patients (a level) is its value at the horizon's end. Neither
    is discounted: these are the events and levels a board counts; the cost-effectiveness
    (:func:`cost_effectiveness`) discounts.

    Args:
        a: path or open results file of run A (e.g. the DIALOG rollout).
        b: path or open results file of run B, same seed and replicates.
        population: patients to scale counts to (default: the run's own).
        findings: (key, series, name) triples (default :data:`FINDINGS`; those whose series
            are not all in the file are left out).

    Returns:
        DataFrame with ``key``, ``name``, ``unit``, ``kind`` (``flow``/``level``), ``better``
        (``higher``/``lower``/None), ``a_mean``, ``b_mean`` (national totals or levels),
        ``effect_mean``, ``effect_q025``, ``effect_q975`` (A - B), ``share_better`` (replicates
        in which A is better), ``replicates``; ``attrs`` hold the pairing facts and ``population``.
    """
    rows = []
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        factor = _scale(population, pair["n_patients"])
        present = set(fa["series/national"])
        for key, names, label in findings:
            if not set(names) <= present:
                continue
            va = vb = 0.0
            info = None
            for n in names:
                pa, info = _national_periods(fa, n, t, n_years)
                pb, _ = _national_periods(fb, n, t, n_years)
                va, vb = va + pa[:, -1], vb + pb[:, -1]
            scale = factor if info["kind"] == "flow" else 1.0
            diff = (va - vb) * scale
            m, lo, hi = interval(diff)
            better = info.get("better")
            sign = {"higher": 1.0, "lower": -1.0}.get(better, 0.0)
            rows.append({"key": key, "name": label, "unit": info["unit"], "kind": info["kind"],
                         "better": better, "a_mean": float(np.mean(va) * scale),
                         "b_mean": float(np.mean(vb) * scale), "effect_mean": float(m),
                         "effect_q025": float(lo), "effect_q975": float(hi),
                         "share_better": float(np.mean(sign * diff > 0)) if sign else np.nan,
                         "replicates": len(diff)})
    out = pd.DataFrame(rows)
    out.attrs.update(pair, population=population if population is not None else pair["n_patients"],
                     factor=factor)
    return out


def net_cost_summary(a, b, population=None, discount_rate=DISCOUNT_RATE):
    """Net cost A - B over the horizon, discounted and not, with the break-even year.

    Args:
        a, b: paths or open results files (paired).
        population: patients to scale to (default: the run's own).
        discount_rate: annual discount rate (default 3.5%).

    Returns:
        dict with ``discounted`` and ``undiscounted`` (each (mean, q025, q975), national),
        ``by_year_discounted`` (mean net cost of each year, national), ``break_even_year``
        (:func:`break_even_year` of the discounted means, or None), ``discount_rate``,
        ``price_year`` (from the scenario, or None), ``replicates``.
    """
    with io._opened(a) as fa, io._opened(b) as fb:
        pair = check_paired(fa, fb)
        t = io.time_axis(fa)
        n_years = pair["n_years"]
        factor = _scale(population, pair["n_patients"])
        disc = _net_cost(fa, fb, t, n_years, discount_rate) * factor
        undisc = _net_cost(fa, fb, t, n_years, 0.0) * factor
        price_year = io.scenario_value(io.scenario(fa), "costs.price_year")
    by_year = disc[:, :n_years].mean(axis=0)
    return {"discounted": tuple(float(x) for x in interval(disc[:, -1])),
            "undiscounted": tuple(float(x) for x in interval(undisc[:, -1])),
            "by_year_discounted": by_year.tolist(), "break_even_year": break_even_year(by_year),
            "discount_rate": discount_rate, "price_year": price_year,
            "replicates": pair["replicates"], "n_years": n_years}

"""Probabilistic sensitivity analysis (PSA) of a results file written from a ``psa:`` block.

The file holds, for each of N parameter draws d, the intervention (point 2d, role 0) and its
comparator (point 2d + 1, role 1) run with the same parameter values and the same random numbers
(the same (seed, replicate) keys), R replicates each (``docs/output.md``, ``/sweep``). For each
draw this module computes the incremental net cost and benefits (intervention minus comparator,
replicate r paired with replicate r, then averaged over replicates), and from the N draws:

- the **cost-effectiveness plane** (incremental benefit against incremental cost, one point per draw);
- the **cost-effectiveness acceptability curve** (CEAC): over a range of willingness to pay λ per
  unit of benefit, the share of draws in which the incremental net benefit λ ΔE − ΔC is positive;
- the **expected value of perfect information** (EVPI) per λ: E[max(INB, 0)] − max(E[INB], 0),
  what removing all parameter uncertainty would be worth over the horizon, in GBP for the
  population (Briggs, Claxton & Sculpher 2006, *Decision Modelling for Health Economic
  Evaluation*, ch. 7);
- the **drivers**: Spearman rank correlations of each parameter's draws with the incremental
  net cost, the benefit and the net benefit at a reference λ, with 95% intervals (Fisher's z).

Costs and counted events are discounted as in :mod:`compare` (3.5% a year by default); quality
of life is the change in the mean at the horizon's end (not discounted). National totals scale
the run's patients to ``population``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import compare as cmp
from . import io

#: Benefits of a PSA: key -> (series, sign (+1: more is the benefit, -1: fewer), kind, one unit,
#: many units, the willingness-to-pay grid (GBP per unit), the reference willingness to pay).
#: The references are illustrations for the CEAC, not thresholds anyone has set.
BENEFITS = {
    "detentions": (("admissions_involuntary",), -1, "count", "detention avoided", "detentions avoided",
                   np.linspace(0, 100_000, 101), 20_000.0),
    "admissions": (("admissions_voluntary", "admissions_involuntary"), -1, "count", "admission avoided",
                   "admissions avoided", np.linspace(0, 100_000, 101), 20_000.0),
    "qol": (("mean_qol",), 1, "mean", "patient-point of quality of life gained",
            "patient-points of quality of life gained (1 point on the 1-7 scale for 1 patient)",
            np.linspace(0, 5_000, 101), 1_000.0),
}


class NotAPsa(io.ResultsError):
    """A results file that was not written from a ``psa:`` block."""


@dataclass
class Psa:
    """The per-draw incremental results of a PSA file.

    Attributes:
        draws: DataFrame, one row per draw: ``draw``, each parameter's value (by name),
            ``net_cost`` (discounted, national, GBP), ``net_cost_undiscounted``, and per benefit
            key ``<key>`` (national: events avoided, discounted; quality of life: the change in
            the mean times the population, patient-points).
        parameters: parameter names, in file order.
        distributions: their distributions as the file states them (``gamma(mean 450, sd 135), guess``).
        population: patients national totals are scaled to.
        discount_rate: annual discount rate.
        price_year: the scenario's ``costs.price_year`` (or None).
        replicates: replicates per draw.
    """
    draws: pd.DataFrame
    parameters: list
    distributions: list
    population: int
    discount_rate: float
    price_year: object
    replicates: int
    n_years: int


def _per_run(h, name, t, n_years, rate):
    """Every run's value of one national series over the horizon: a flow summed (each year
    discounted at ``rate``), a level at the end. Returns (array [runs], kind)."""
    info = io.series_info(h, name)
    v = h[f"series/national/{name}"][...][:, :, None].astype(float)
    return cmp.by_period(v, t["year"], n_years, info["kind"], rate)[:, -1, 0], info["kind"]


def read(path, population=None, discount_rate=cmp.DISCOUNT_RATE):
    """Read a PSA file into per-draw incremental results (:class:`Psa`).

    Args:
        path: results file written from a scenario with a ``psa:`` block.
        population: patients to scale national totals to (default: the run's own).
        discount_rate: annual discount rate of costs and counted events (default 3.5%).

    Raises:
        NotAPsa: the file has no ``/sweep`` of design ``psa``.
        io.ResultsError: an unreadable or incomplete file.
    """
    with io.open_results(path) as h:
        if "sweep" not in h or io._attr(h["sweep"], "design") != "psa":
            raise NotAPsa(f"{path}: not a probabilistic sensitivity analysis (no psa: block in its scenario); "
                          f"run a scenario with a psa: block, e.g. scenarios/psa/england_rollout_psa.yaml")
        prov = io.provenance(h)
        if not all(prov["done"]):
            missing = sum(1 for d in prov["done"] if not d)
            raise io.ResultsError(f"{path}: {missing} runs are not in the file (an interrupted run: resume it)")
        g = h["sweep"]
        names = list(g["parameters"].asstr()[:])
        dists = list(g["distribution"].asstr()[:]) if "distribution" in g else [""] * len(names)
        values = np.atleast_2d(g["values"][...].astype(float))
        role, sample = g["role"][:].astype(int), g["sample"][:].astype(int)
        point, replicate = g["point"][:].astype(int), g["replicate"][:].astype(int)
        reps = int(io._attr(g, "replicates_per_point"))
        n_draws = int(io._attr(g, "samples"))
        t = io.time_axis(h)
        n_years = t.attrs["n_years"]
        n_run = io.n_patients(h)
        pop = population if population is not None else n_run
        factor = pop / n_run
        present = set(h["series/national"])
        # runs of each draw and arm, in replicate order (replicate r of one paired with r of the other)
        runs = {}
        for r, (p, rep) in enumerate(zip(point, replicate)):
            runs.setdefault((int(sample[p]), int(role[p])), []).append((rep, r))
        def rows_of(d, arm):
            return np.array([r for _, r in sorted(runs[(d, arm)])])
        out = {"draw": np.arange(n_draws)}
        first = np.array([np.flatnonzero((sample == d) & (role == 0))[0] for d in range(n_draws)])
        for i, name in enumerate(names):
            out[name] = values[first, i]
        # each series once, every run at a time
        cost = {rate: sum(_per_run(h, n, t, n_years, rate)[0] for n in cmp.INTERVENTION_COSTS + cmp.SERVICE_COSTS) * factor
                for rate in (discount_rate, 0.0)}
        benefit = {}
        for key, (series, sign, kind, *_) in BENEFITS.items():
            if set(series) <= present:
                total = 0.0
                for n in series:
                    v, k = _per_run(h, n, t, n_years, discount_rate)
                    total = total + (v * factor if k == "flow" else v)
                benefit[key] = sign * total * (pop if kind == "mean" else 1.0)
        cols = {"net_cost": [], "net_cost_undiscounted": []}
        for key in BENEFITS:
            cols[key] = []
        for d in range(n_draws):
            a, b = rows_of(d, 0), rows_of(d, 1)
            cols["net_cost"].append(float(np.mean(cost[discount_rate][a] - cost[discount_rate][b])))
            cols["net_cost_undiscounted"].append(float(np.mean(cost[0.0][a] - cost[0.0][b])))
            for key in BENEFITS:
                cols[key].append(float(np.mean(benefit[key][a] - benefit[key][b])) if key in benefit else np.nan)
        out.update(cols)
        price_year = io.scenario_value(io.scenario(h), "costs.price_year")
    return Psa(pd.DataFrame(out), names, dists, pop, discount_rate, price_year, reps, n_years)


def ceac(p, benefit, wtp=None):
    """Cost-effectiveness acceptability curve and EVPI over a willingness-to-pay grid.

    Args:
        p: :class:`Psa`.
        benefit: a key of :data:`BENEFITS`.
        wtp: GBP per unit of benefit (default: the benefit's grid).

    Returns:
        DataFrame with ``wtp``, ``p_cost_effective`` (share of draws with λ ΔE − ΔC > 0),
        ``expected_inb`` (mean incremental net benefit, GBP), ``evpi`` (GBP, over the horizon,
        for the population).
    """
    grid = BENEFITS[benefit][5] if wtp is None else np.asarray(wtp, dtype=float)
    e = p.draws[benefit].to_numpy()
    c = p.draws["net_cost"].to_numpy()
    inb = grid[:, None] * e[None, :] - c[None, :]
    expected = inb.mean(axis=1)
    return pd.DataFrame({"wtp": grid, "p_cost_effective": (inb > 0).mean(axis=1), "expected_inb": expected,
                         "evpi": np.maximum(inb, 0).mean(axis=1) - np.maximum(expected, 0)})


def _spearman(x, y):
    rx = pd.Series(x).rank().to_numpy()
    ry = pd.Series(y).rank().to_numpy()
    if np.std(rx) == 0 or np.std(ry) == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def drivers(p, benefit="detentions", wtp=None):
    """Which parameters drive the uncertainty: Spearman rank correlations with 95% intervals.

    Args:
        p: :class:`Psa`.
        benefit: the benefit of the net benefit (a key of :data:`BENEFITS`).
        wtp: willingness to pay of the net benefit (default: the benefit's reference value).

    Returns:
        DataFrame, one row per parameter sorted by |rho| with the net benefit: ``parameter``,
        ``distribution``, ``rho_net_cost``, ``rho_benefit``, ``rho_inb``, ``inb_lo``, ``inb_hi``
        (Fisher-z 95% interval of ``rho_inb``), ``wtp``.
    """
    lam = BENEFITS[benefit][6] if wtp is None else float(wtp)
    d = p.draws
    inb = lam * d[benefit].to_numpy() - d["net_cost"].to_numpy()
    n = len(d)
    rows = []
    for name, dist in zip(p.parameters, p.distributions):
        x = d[name].to_numpy()
        rho = _spearman(x, inb)
        lo = hi = np.nan
        if n > 3 and np.isfinite(rho) and abs(rho) < 1:
            z, se = math.atanh(rho), 1.0 / math.sqrt(n - 3)
            lo, hi = math.tanh(z - 1.96 * se), math.tanh(z + 1.96 * se)
        rows.append({"parameter": name, "distribution": dist, "rho_net_cost": _spearman(x, d["net_cost"].to_numpy()),
                     "rho_benefit": _spearman(x, d[benefit].to_numpy()), "rho_inb": rho, "inb_lo": lo, "inb_hi": hi,
                     "wtp": lam})
    out = pd.DataFrame(rows)
    return out.reindex(out["rho_inb"].abs().sort_values(ascending=False, na_position="last").index).reset_index(drop=True)


def summary(p, benefit="detentions"):
    """Headline numbers of a PSA for one benefit: means and 95% ranges over draws, the share of
    draws in each quadrant of the cost-effectiveness plane, and the reference WTP's CEAC and EVPI."""
    d = p.draws
    c, e = d["net_cost"].to_numpy(), d[benefit].to_numpy()
    lam = BENEFITS[benefit][6]
    at = ceac(p, benefit, [lam]).iloc[0]
    q = lambda x: (float(np.mean(x)), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975)))
    return {"benefit": benefit, "what": BENEFITS[benefit][3], "whats": BENEFITS[benefit][4], "draws": len(d), "net_cost": q(c), "benefit_value": q(e),
            "share_dominant": float(np.mean((c <= 0) & (e > 0))), "share_dominated": float(np.mean((c > 0) & (e <= 0))),
            "share_costs_more_gains": float(np.mean((c > 0) & (e > 0))), "share_saves_loses": float(np.mean((c <= 0) & (e <= 0))),
            "wtp": lam, "p_cost_effective": float(at["p_cost_effective"]), "evpi": float(at["evpi"])}


# ---- figures ---------------------------------------------------------------------------

def ce_plane(p, stem, benefit="detentions", formats=None):
    """The cost-effectiveness plane: one point per draw, the reference WTP as a line."""
    from . import plots
    d = p.draws
    what, whats, lam = BENEFITS[benefit][3], BENEFITS[benefit][4], BENEFITS[benefit][6]
    fig = plots._figure(6.4, 4.6)
    ax = fig.add_subplot()
    e, c = d[benefit].to_numpy(), d["net_cost"].to_numpy() / 1e6
    ax.axhline(0, color="#888", lw=0.8)
    ax.axvline(0, color="#888", lw=0.8)
    ax.scatter(e, c, s=14, color=plots.COLOURS["a"], alpha=0.7, label=f"one parameter draw ({len(d)})")
    ax.scatter([e.mean()], [c.mean()], s=60, marker="D", color="#222", label="mean")
    xs = np.array([min(0, e.min()), max(0, e.max())])
    ax.plot(xs, lam * xs / 1e6, color=plots.COLOURS["b"], lw=1.2,
            label=f"GBP {lam:,.0f} per {what}")
    ax.set_xlabel(plots._wrap(f"{whats[:1].upper()}{whats[1:]}, intervention \u2212 comparator", 60))
    ax.set_ylabel(f"Net cost, GBP m (discounted at {p.discount_rate * 100:g}%)")
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Below the line: cost-effective at that willingness to pay", fontsize=9)
    return plots.save(fig, stem, formats)


def ceac_figure(p, stem, benefit="detentions", formats=None):
    """The cost-effectiveness acceptability curve and, on a second axis, the EVPI."""
    from . import plots
    tab = ceac(p, benefit)
    what = BENEFITS[benefit][3]
    fig = plots._figure(6.4, 4.2)
    ax = fig.add_subplot()
    ax.plot(tab["wtp"] / 1e3, tab["p_cost_effective"], color=plots.COLOURS["a"], lw=1.8, label="probability cost-effective")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(plots._wrap(f"Willingness to pay, GBP thousand per {what}", 60))
    ax.set_ylabel("Probability the intervention is cost-effective")
    ax2 = ax.twinx()
    ax2.plot(tab["wtp"] / 1e3, tab["evpi"] / 1e6, color=plots.COLOURS["b"], lw=1.2, ls="--", label="EVPI (right axis)")
    ax2.set_ylabel("EVPI, GBP m (population, horizon)")
    ax2.set_ylim(bottom=0)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [l.get_label() for l in lines], fontsize=8, loc="center right")
    return plots.save(fig, stem, formats)


def drivers_figure(p, stem, benefit="detentions", n=12, formats=None):
    """Rank correlations of the parameters with the net benefit, largest first, with 95% intervals."""
    from . import plots
    tab = drivers(p, benefit).head(n).iloc[::-1]
    fig = plots._figure(6.4, 0.9 + 0.32 * len(tab))
    ax = fig.add_subplot()
    y = np.arange(len(tab))
    colours = [plots.COLOURS["a"] if r > 0 else plots.COLOURS["b"] for r in tab["rho_inb"].fillna(0)]
    ax.barh(y, tab["rho_inb"].fillna(0), color=colours, height=0.6)
    ax.errorbar(tab["rho_inb"], y, xerr=[tab["rho_inb"] - tab["inb_lo"], tab["inb_hi"] - tab["rho_inb"]],
                fmt="none", ecolor="#333", lw=0.8, capsize=2)
    labels = [f"{name}{' (guess)' if 'guess' in dist else ''}" for name, dist in zip(tab["parameter"], tab["distribution"])]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_xlim(-1, 1)
    lam = tab["wtp"].iloc[0] if len(tab) else 0
    ax.set_xlabel(plots._wrap(f"Spearman correlation with the net benefit at GBP {lam:,.0f} per "
                              f"{BENEFITS[benefit][3]} (95% interval)", 55))
    return plots.save(fig, stem, formats)


def write_all(p, outdir, formats=None):
    """Write ``psa_draws.csv``, ``ceac_<benefit>.csv``, ``drivers_<benefit>.csv`` and the figures."""
    os.makedirs(outdir, exist_ok=True)
    written = []
    path = os.path.join(outdir, "psa_draws.csv")
    io.write_output(path, p.draws.to_csv(index=False), overwrite=True)
    written.append(path)
    for key in BENEFITS:
        if p.draws[key].isna().all():
            continue
        for name, table in ((f"ceac_{key}", ceac(p, key)), (f"drivers_{key}", drivers(p, key))):
            path = os.path.join(outdir, f"{name}.csv")
            io.write_output(path, table.to_csv(index=False), overwrite=True)
            written.append(path)
        written += ce_plane(p, os.path.join(outdir, f"ce_plane_{key}"), key, formats)
        written += ceac_figure(p, os.path.join(outdir, f"ceac_{key}"), key, formats)
        written += drivers_figure(p, os.path.join(outdir, f"drivers_{key}"), key, formats=formats)
    return written


def describe(p, benefit="detentions"):
    """The PSA's findings for one benefit, as lines of text."""
    s = summary(p, benefit)
    m, lo, hi = s["net_cost"]
    em, elo, ehi = s["benefit_value"]
    what = s["what"]
    lines = [f"{s['draws']} parameter draws x {p.replicates} replicate{'s' if p.replicates != 1 else ''}, "
             f"{p.population:,} patients, {p.n_years} years, discounted at {p.discount_rate * 100:g}%"
             + (f", {p.price_year} prices" if p.price_year is not None else ""),
             f"Net cost: GBP {m:,.0f} (95% of draws GBP {lo:,.0f} to {hi:,.0f})",
             f"Benefit: {em:,.1f} {s['whats']} (95% of draws {elo:,.1f} to {ehi:,.1f})",
             f"Draws in which it dominates (saves and gains): {s['share_dominant']:.0%}; costs more and gains: "
             f"{s['share_costs_more_gains']:.0%}; dominated: {s['share_dominated']:.0%}; saves and loses: "
             f"{s['share_saves_loses']:.0%}",
             f"Probability cost-effective at GBP {s['wtp']:,.0f} per {what}: {s['p_cost_effective']:.0%}; "
             f"EVPI GBP {s['evpi']:,.0f} (population, horizon)"]
    top = drivers(p, benefit).head(5)
    lines.append("Parameters that move the answer most (Spearman rho with the net benefit): " + "; ".join(
        f"{r.parameter} {r.rho_inb:+.2f}" for r in top.itertuples() if np.isfinite(r.rho_inb)))
    return lines

"""Command line: ``python3 -m therasim_analysis COMMAND``: compare, plots, info, report,
sensitivity, mediation, story (``--help`` on each)."""

from __future__ import annotations

import argparse
import os
import sys

from . import compare, io, mediation, plots, psa, report, sensitivity, story

ROLLOUT_OUTCOMES = ("mean_qol", "mean_unmet_needs", "admissions_involuntary", "bed_days", "engaged")


def _compare(args):
    a, b = args.a, args.b
    os.makedirs(args.outdir, exist_ok=True)
    effects = compare.paired_effects(a, b, outcomes=args.outcomes, population=args.population)
    costs = compare.cost_effects(a, b, population=args.population, discount_rate=args.discount)
    ce = compare.cost_effectiveness(a, b, discount_rate=args.discount)
    findings = compare.horizon_effects(a, b, population=args.population)
    written = []
    for name, table in (("effects", effects), ("costs", costs), ("cost_effectiveness", ce),
                        ("findings", findings)):
        path = os.path.join(args.outdir, f"{name}.csv")
        io.write_output(path, table.to_csv(index=False), overwrite=True)
        written.append(path)
    names = (io.provenance(a)["scenario_name"], io.provenance(b)["scenario_name"])
    for name in ROLLOUT_OUTCOMES:
        if name in set(effects["outcome"]) or args.outcomes is None:
            written += plots.rollout_curve(a, b, name, os.path.join(args.outdir, f"rollout_{name}"), names)
    written += plots.forest(effects, os.path.join(args.outdir, "forest"))
    written += plots.cascade(a, os.path.join(args.outdir, "cascade_A"))

    pair = effects.attrs
    print(f"A: {names[0]} ({a})\nB: {names[1]} ({b})")
    print(f"{pair['replicates']} paired replicates, seed {pair['seed']}, {pair['n_patients']:,} patients; "
          f"national totals scaled to {pair['population']:,} patients\n")
    for _, row in findings.iterrows():
        print("  " + report.finding_sentence(row, ("A", "B"), pair["n_years"]))
    net = compare.net_cost_summary(a, b, population=args.population, discount_rate=args.discount)
    m, lo, hi = net["discounted"]
    print(f"\n  Net cost A - B, discounted at {args.discount:g} a year: {m:,.0f} GBP "
          f"[{lo:,.0f}, {hi:,.0f}]; undiscounted {net['undiscounted'][0]:,.0f} GBP"
          + (f" ({net['price_year']} prices)" if net["price_year"] is not None else ""))
    for r in ce.set_index("benefit").iterrows():
        print("  " + report._ce_sentence(r[1]))
    print(f"\nwrote {len(written)} files to {args.outdir}")
    return 0


def _plots(args):
    paths = plots.file_plots(args.file, args.outdir)
    print(f"wrote {len(paths)} files to {args.outdir}")
    return 0


def _psa(args):
    p = psa.read(args.file, population=args.population, discount_rate=args.discount)
    written = psa.write_all(p, args.outdir)
    for key in psa.BENEFITS:
        if p.draws[key].isna().all():
            continue
        print(f"Per {psa.BENEFITS[key][3]}:")
        for line in psa.describe(p, key):
            print("  " + line)
    print(f"\nwrote {len(written)} files to {args.outdir}")
    return 0


def _info(args):
    with io.open_results(args.file) as f:
        p = io.provenance(f)
        print(f"{p['scenario_name']}: seed {p['seed']}, {p['replicates']} replicates, "
              f"{io.n_patients(f):,} patients, {len(io.time_axis(f)) - 1} steps, "
              f"therasim {p['therasim_version']} ({p['git_commit']})")
        for name in io.series_names(f):
            i = io.series_info(f, name)
            print(f"  {name:28s} {i['kind']:5s} {i['unit']:14s} {i['label']}")
    return 0


def main(argv=None):
    """Run the command line.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        exit code: 0 on success, 2 for unreadable or unpairable input.
    """
    parser = argparse.ArgumentParser(
        # `therasim report` runs this module; it names itself so that usage lines read as typed.
        prog=os.environ.get("THERASIM_ANALYSIS_PROG") or "python3 -m therasim_analysis",
        description="Analyse therasim results files (HDF5, schema version 2).")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare", help="paired effects A - B: tables (CSV) and figures",
                       description="Pair replicate r of A with replicate r of B (same seed and number of "
                                   "replicates) and write effects.csv, costs.csv, cost_effectiveness.csv "
                                   "and figures (PNG and SVG) to --outdir.")
    c.add_argument("a", help="results file of run A (e.g. the DIALOG rollout)")
    c.add_argument("b", help="results file of run B (e.g. no DIALOG), same seed")
    c.add_argument("--outdir", default="compare_out", help="output directory (default: compare_out)")
    c.add_argument("--outcomes", nargs="+", metavar="SERIES",
                   help="series to compare (default: the file's headline series)")
    report.add_costing_arguments(c)
    c.set_defaults(func=_compare)
    p = sub.add_parser("plots", help="figures of one results file",
                       description="Write the cascade by arm, outcomes over time and (if traced) "
                                   "patients' trajectories as PNG and SVG to --outdir.")
    p.add_argument("file", help="results file")
    p.add_argument("--outdir", default="plots_out", help="output directory (default: plots_out)")
    p.set_defaults(func=_plots)
    i = sub.add_parser("info", help="what a results file holds: provenance and series with units")
    i.add_argument("file", help="results file")
    i.set_defaults(func=_info)
    report.add_cli(sub)
    s = sub.add_parser("psa", help="probabilistic sensitivity analysis: CE plane, CEAC, EVPI, drivers",
                       description="Read a results file written from a scenario with a psa: block (each parameter "
                                   "draw run for the intervention and its comparator) and write psa_draws.csv, "
                                   "ceac_<benefit>.csv, drivers_<benefit>.csv and the figures ce_plane_<benefit>, "
                                   "ceac_<benefit> and drivers_<benefit> (PNG and SVG) for the benefits detentions, "
                                   "admissions and qol.")
    s.add_argument("file", help="results file of a psa: scenario")
    s.add_argument("--outdir", default="psa_out", help="output directory (default: psa_out)")
    report.add_costing_arguments(s)
    s.set_defaults(func=_psa)
    sensitivity.add_cli(sub)
    mediation.add_cli(sub)
    story.add_cli(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (io.ResultsError, io.OutputError, compare.PairingError, FileNotFoundError, KeyError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except OSError as err:                 # the file system refused (full disk, permissions)
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:               # a message, not a traceback; the details on request
        if os.environ.get("THERASIM_DEBUG"):
            raise
        print(f"error: internal error ({type(err).__name__}: {err}); rerun with THERASIM_DEBUG=1 "
              f"for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

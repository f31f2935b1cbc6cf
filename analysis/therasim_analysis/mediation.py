"""How much of the relationship-outcome association is mediated by engagement and adherence.

The research question of the seed paper (Priebe & McCabe): is the patient-clinician relationship
only the *basis* of therapy (it acts through engagement and adherence) or *therapy in itself*
(it also acts directly on symptoms and quality of life)? Per patient of a results file
(replicate 0):

- **exposure** X: the relationship at the start, STAR-P (patient's view) or STAR-C (clinician's
  view) of the baseline dyad, mean item score 0-4. Effects are per STAR point (default) or per
  SD of the baseline rating (``per="sd"``; the SD of the whole sample, held fixed in the
  bootstrap);
- **mediators** M: ``share_engaged`` (fraction of steps 1..n engaged) and ``mean_adherence``
  (mean adherence over steps 1..n), jointly and one at a time;
- **outcomes** Y: change in symptoms (BPRS, end minus start), change in quality of life (rating
  points), relapses and bed-days during the run;
- **covariates** C: the baseline value of the outcome (quality of life for its change) and the
  clinical state at the start (BPRS, its severity band, in relapse, in hospital).

Linear models fitted by least squares (product of coefficients; Baron & Kenny (1986) J Pers Soc
Psychol 51:1173-1182; several mediators: Preacher & Hayes (2008) Behav Res Methods 40:879-891)::

    Y = i1 + c  X            + g1' C     total effect c
    Mj = i2 + aj X            + g2' C     one model per mediator
    Y = i3 + c' X + sum bj Mj + g3' C     direct effect c', mediator effects bj
    indirect through Mj = aj bj,  indirect = sum aj bj,  proportion mediated = indirect / c

With linear models and the same covariates in every equation, c = c' + sum aj bj exactly (the
omitted-variable identity), so "total = direct + indirect" holds to rounding. Under the
assumptions of no unmeasured exposure-outcome, mediator-outcome or exposure-mediator confounding
and no mediator-outcome confounder affected by the exposure, c' and aj bj are the natural direct
and indirect effects (VanderWeele (2015) Explanation in Causal Inference, Oxford University
Press, chapter 2). In the simulation these assumptions do **not** all hold (docs/model.md
sections 4-8 and 13): a relapse at the start raises BPRS and strains the relationship (hence the
relapse and inpatient covariates); admission re-engages the patient and supervises medication,
so the mediators are partly consequences of the outcome; STAR-P also sets the odds that an
admission is involuntary (longer stays), a path outside the mediators; and the mediators are run
averages while relapse and admission respond to engagement and adherence at the time. The direct
effect under the ``basis`` hypothesis is therefore not exactly 0 (clearly not for bed-days):
compare hypotheses run with the same seed rather than test a direct effect against 0.
The exposure is the first relationship: after turnover the direct path acts through a new one,
unrelated to it, which dilutes the direct effect over long runs (``same_dyad=True`` keeps the
patients whose care coordinator did not change).

Intervals: nonparametric bootstrap (resampling patients, or whole clinician posts or teams with
``cluster=``), percentile intervals, a fixed seed. A bootstrap sample is a vector of multiplicity
weights, and every least-squares fit above is a function of the weighted cross-products of
[1, X, M, C, Y], so each draw costs one matrix product (draws x patients) @ (patients x
cross-products) and the regressions are solved from small matrices: 20,000 patients x 1,000
draws take a few seconds.

Command line (wired into ``python3 -m therasim_analysis`` by :func:`add_cli`)::

    mediation FILE [FILE ...] [--exposure star_p|star_c] [--per point|sd] [--outdir DIR]
              [--draws N] [--seed S] [--cluster none|clinician|team] [--same-dyad]
"""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pandas as pd

from . import calibration, io, plots
from .io import _plain_lookup, scenario_value as _scenario_value  # noqa: F401 (used by tests)

DRAWS = 1000
SEED = 20260101
LEVEL = 0.95
CHUNK = 100                     # bootstrap draws per matrix product (memory: CHUNK x patients)
MEDIATORS = ("share_engaged", "mean_adherence")
EXPOSURES = {"star_p": "STAR-P", "star_c": "STAR-C"}
#: Covariates of every outcome model: the clinical state at the start (BPRS, its band, in relapse,
#: in hospital). The relapse and inpatient flags matter: a relapse at the start raises BPRS above
#: the patient's stable level, strains the relationship (lower STAR-P) and then remits, which
#: without them confounds the exposure with the change in symptoms.
COVARIATES = ("symptoms_baseline", "severity_moderate", "severity_high", "relapsed_baseline",
              "inpatient_baseline")
#: Outcomes: column of :func:`patient_table` -> covariates giving its baseline value or state.
OUTCOMES = {
    "change_symptoms": ("symptoms_baseline",),
    "change_qol":      ("qol_baseline",),
    "n_relapses":      ("relapsed_baseline",),
    "bed_days":        ("inpatient_baseline",),
}
#: Changes (final minus baseline) in the patient table, with their labels.
CHANGES = {"symptoms": "symptoms (BPRS)", "qol": "quality of life (mean of the 8 DIALOG domains)",
           "unmet_needs": "unmet needs", "satisfaction": "treatment satisfaction"}
#: Patient attributes paired as baseline/final columns of the patient table.
PAIRED = ("symptoms", "qol", "unmet_needs", "satisfaction", "adherence", "engaged", "relapsed",
          "inpatient", "n_involuntary")
FINAL_ONLY = ("n_relapses", "n_admissions_voluntary", "n_admissions_involuntary", "bed_days",
              "n_disengagements", "n_dyads", "n_contacts", "severity", "clinician", "team", "age",
              "male", "diagnosis", "family", "symptoms_base")
MEDIATOR_HELP = ("the file was written by a therasim older than the mediator attributes; re-run "
                 "the scenario with a current therasim, or with this one and --set "
                 "output.trajectories=N (N >= the number of patients, at most 100,000) so that the "
                 "mediators can be computed from every patient's trajectory")


class MediationError(io.ResultsError):
    """A results file without what a mediation analysis needs (e.g. the mediator attributes)."""


# ---------------------------------------------------------------------------------------------
# The per-patient table
# ---------------------------------------------------------------------------------------------

def _points(unit):
    """Unit of a change or an effect: 'BPRS (18-126)' -> 'BPRS points', 'rating (1-7)' -> 'rating points'."""
    base = re.sub(r"\s*\([^)]*\)\s*$", "", unit or "").strip()
    return f"{base} points" if base in ("BPRS", "rating", "STAR") else (base or "units")


def _mediators_from_trajectories(h, n):
    """share_engaged and mean_adherence over steps 1..n from /trajectories, if every patient is traced."""
    if "trajectories" not in h:
        return None
    g = h["trajectories"]
    rows = g["row"][:].astype(np.int64)
    if len(rows) != n or not np.array_equal(np.sort(rows), np.arange(n)):
        return None
    engaged = np.empty(n)
    adherence = np.empty(n)
    engaged[rows] = g["engaged"][1:].astype(float).mean(axis=0)
    adherence[rows] = g["adherence"][1:].astype(float).mean(axis=0)
    return engaged, adherence


def patient_table(f):
    """One row per patient: exposure, mediators, outcomes and covariates (replicate 0).

    Args:
        f: path or open results file.

    Returns:
        DataFrame indexed by patient row (``id``) with
        ``star_p_baseline``, ``star_c_baseline`` (exposures: the first dyad's STAR, 0-4) and
        ``star_p_final``, ``star_c_final`` (the current dyad at the end; another relationship
        after turnover, ``new_dyad``); the mediators ``share_engaged`` (fraction of steps 1..n
        engaged) and ``mean_adherence`` (mean fraction of treatment taken over steps 1..n);
        ``<attr>_baseline`` and ``<attr>_final`` for symptoms (BPRS), qol (rating 1-7),
        unmet_needs, satisfaction, adherence, engaged, relapsed, inpatient, n_involuntary;
        ``change_symptoms``, ``change_qol``, ``change_unmet_needs``, ``change_satisfaction``
        (final minus baseline); the counts of the run (``n_relapses``, ``n_admissions_*``,
        ``n_admissions``, ``bed_days`` in days, ``n_disengagements``, ``n_dyads``,
        ``n_contacts``); ``severity`` (0 low, 1 moderate, 2 high baseline BPRS band) and its
        dummies ``severity_moderate``, ``severity_high``; ``good_adherence_baseline`` and
        ``_final`` (adherence at or above the run's ``adherence.good_threshold``); ``clinician``
        and ``team`` (for a clustered bootstrap); age, male, diagnosis, family, symptoms_base.
        ``attrs``: ``units`` and ``labels`` by column, ``scenario_name``, ``seed``, ``path``,
        ``years`` (horizon), ``good_threshold``, ``hypothesis`` and ``direct_weight`` (the
        run's ``mechanism.*``), ``mediator_source`` (``attributes`` or ``trajectories``).

    Raises:
        MediationError: the file has neither the mediator attributes
            (``/agents/patient/final/share_engaged``, ``mean_adherence``) nor a trajectory of
            every patient.
    """
    with io._opened(f) as h:
        pb = io.agents(h, "patient", "baseline")
        pf = io.agents(h, "patient", "final")
        db = io.agents(h, "dyad", "baseline")
        dfin = io.agents(h, "dyad", "final")
        n = len(pf)
        if all(m in pf.columns for m in MEDIATORS):
            engaged = pf["share_engaged"].to_numpy(float)
            adherence = pf["mean_adherence"].to_numpy(float)
            source = "attributes"
        else:
            derived = _mediators_from_trajectories(h, n)
            if derived is None:
                missing = [m for m in MEDIATORS if m not in pf.columns]
                raise MediationError(
                    f"{h.filename}: no mediator attribute{'s' if len(missing) > 1 else ''} "
                    f"{', '.join('/agents/patient/final/' + m for m in missing)} and no trajectory "
                    f"of every patient: {MEDIATOR_HELP}")
            engaged, adherence = derived
            source = "trajectories"
        prov = io.provenance(h)
        text = io.scenario(h)
        years = float(h["time"].attrs.get("years", io.time_axis(h).attrs["n_years"]))
    threshold = float(_scenario_value(text, "adherence.good_threshold", calibration.GOOD_ADHERENCE))
    units, labels = {}, {}

    def put(name, values, unit=None, label=None):
        cols[name] = values
        if unit:
            units[name] = unit
        if label:
            labels[name] = label

    cols = {}
    for view in EXPOSURES:
        put(f"{view}_baseline", db[view].to_numpy(float), db.attrs["units"].get(view),
            f"{EXPOSURES[view]} of the relationship at the start")
        put(f"{view}_final", dfin[view].to_numpy(float), dfin.attrs["units"].get(view),
            f"{EXPOSURES[view]} of the current relationship at the end")
    put("share_engaged", engaged, pf.attrs["units"].get("share_engaged", "fraction"),
        "Share of steps 1..n engaged with services")
    put("mean_adherence", adherence, pf.attrs["units"].get("mean_adherence", "fraction"),
        "Mean adherence over steps 1..n")
    for attr in PAIRED:
        if attr not in pf.columns:
            continue
        unit, label = pf.attrs["units"].get(attr), pf.attrs["labels"].get(attr, attr)
        if attr in pb.columns:
            put(f"{attr}_baseline", pb[attr].to_numpy(), unit, f"{label}, at the start")
        put(f"{attr}_final", pf[attr].to_numpy(), unit, f"{label}, at the end")
    for attr, what in CHANGES.items():
        put(f"change_{attr}", cols[f"{attr}_final"].astype(float) - cols[f"{attr}_baseline"],
            _points(units.get(f"{attr}_final")), f"Change in {what}, end minus start")
    for attr in FINAL_ONLY:
        if attr in pf.columns:
            put(attr, pf[attr].to_numpy(), pf.attrs["units"].get(attr), pf.attrs["labels"].get(attr))
    put("n_admissions", cols["n_admissions_voluntary"] + cols["n_admissions_involuntary"],
        "admissions", "Admissions during the run")
    put("severity_moderate", (cols["severity"] == 1).astype(float), None, "Baseline BPRS band: moderate")
    put("severity_high", (cols["severity"] == 2).astype(float), None, "Baseline BPRS band: high")
    put("new_dyad", (cols["n_dyads"] > 1).astype(np.uint8), None,
        "1 if the care coordinator changed during the run (the final dyad is another relationship)")
    for when in ("baseline", "final"):
        put(f"good_adherence_{when}", (cols[f"adherence_{when}"] >= threshold).astype(np.uint8), None,
            f"Adherence at or above {threshold:g}, at the {'start' if when == 'baseline' else 'end'}")
    out = pd.DataFrame(cols)
    out.index.name = "id"
    out.attrs.update(units=units, labels=labels, scenario_name=prov.get("scenario_name"),
                     seed=prov.get("seed"), path=prov.get("path"), years=years,
                     good_threshold=threshold, mediator_source=source,
                     hypothesis=_scenario_value(text, "mechanism.hypothesis"),
                     direct_weight=_scenario_value(text, "mechanism.direct_weight"))
    return out


# ---------------------------------------------------------------------------------------------
# Least squares from (bootstrap-weighted) cross-products
# ---------------------------------------------------------------------------------------------

def _weights(rng, k, n, cluster_codes=None):
    """k bootstrap multiplicity vectors over n rows: patients, or whole clusters, drawn with replacement."""
    if cluster_codes is None:
        idx = rng.integers(0, n, size=(k, n))
        return np.bincount((idx + (np.arange(k) * n)[:, None]).ravel(), minlength=k * n).reshape(k, n)
    g = int(cluster_codes.max()) + 1
    idx = rng.integers(0, g, size=(k, g))
    wc = np.bincount((idx + (np.arange(k) * g)[:, None]).ravel(), minlength=k * g).reshape(k, g)
    return wc[:, cluster_codes]


def _grams(Z, draws, seed, cluster_codes=None):
    """Cross-product matrices Z' W Z: [0] the sample (W = I), [1..draws] bootstrap samples."""
    n, p = Z.shape
    iu, ju = np.triu_indices(p)
    P = Z[:, iu] * Z[:, ju]                                    # n x p(p+1)/2
    G = np.empty((draws + 1, p, p))
    flat = np.empty((draws + 1, len(iu)))
    flat[0] = P.sum(axis=0)
    rng = np.random.default_rng(seed)
    for start in range(0, draws, CHUNK):
        k = min(CHUNK, draws - start)
        W = _weights(rng, k, n, cluster_codes).astype(float)
        flat[1 + start:1 + start + k] = W @ P
    G[:, iu, ju] = flat
    G[:, ju, iu] = flat
    return G


def _ols(G, xs, y):
    """Coefficients of column y on columns xs (batched over G's first axis)."""
    xs = list(xs)
    A = G[:, xs][:, :, xs]
    rhs = G[:, xs, y][..., None]
    try:
        return np.linalg.solve(A, rhs)[..., 0]
    except np.linalg.LinAlgError:                   # a bootstrap sample without some level
        return (np.linalg.pinv(A) @ rhs)[..., 0]


def _effects(G, scale, ix, ims, iy, ics):
    """Total, direct, a, b, indirect and proportion for one outcome, joint and one at a time.

    Columns of the cross-products: 0 is the intercept; ``scale[j]`` converts column j back from
    its standardised form to its own unit.

    Returns:
        dict model -> dict effect -> array [1 + draws] (index 0: the sample).
    """
    base = [0, ix, *ics]
    c = _ols(G, base, iy)[:, 1] * scale[iy] / scale[ix]
    a = [_ols(G, base, m)[:, 1] * scale[m] / scale[ix] for m in ims]
    out = {}
    for model, ms in [("joint", list(range(len(ims))))] + [(None, [j]) for j in range(len(ims))]:
        beta = _ols(G, base + [ims[j] for j in ms], iy)
        direct = beta[:, 1] * scale[iy] / scale[ix]
        eff = {"total": c, "direct": direct}
        indirect = np.zeros_like(c)
        for k, j in enumerate(ms):
            b = beta[:, len(base) + k] * scale[iy] / scale[ims[j]]
            eff[f"a:{j}"] = a[j]
            eff[f"b:{j}"] = b
            eff[f"indirect:{j}"] = a[j] * b
            indirect = indirect + a[j] * b
        eff["indirect"] = indirect
        with np.errstate(divide="ignore", invalid="ignore"):
            eff["proportion_mediated"] = np.where(c != 0, indirect / c, np.nan)
        out[model if model else ms[0]] = eff
    return out


def _design(columns):
    """Standardise columns for numerical stability: returns Z (intercept first) and the scales."""
    Z = [np.ones(len(columns[0]))]
    scale = [1.0]
    for v in columns:
        v = np.asarray(v, dtype=float)
        sd = v.std()
        if not np.isfinite(sd) or sd == 0:
            raise ValueError("a variable of the mediation model is constant or not finite")
        Z.append((v - v.mean()) / sd)
        scale.append(sd)
    return np.column_stack(Z), np.array(scale)


def _interval(draws, level):
    d = draws[np.isfinite(draws)]
    if len(d) == 0:
        return np.nan, np.nan, np.nan
    q = (1 - level) / 2
    return float(np.quantile(d, q)), float(np.quantile(d, 1 - q)), float(d.std(ddof=1))


def _rows(est, level, outcome, mediator_names):
    """Tidy rows from :func:`_effects` output."""
    rows = []
    for model, eff in est.items():
        mname = "joint" if model == "joint" else mediator_names[model]
        for key, v in eff.items():
            effect, _, j = key.partition(":")
            if j:
                effect = f"{effect}_{mediator_names[int(j)]}"
            lo, hi, se = _interval(v[1:], level)
            rows.append(dict(outcome=outcome, model=mname, effect=effect, estimate=float(v[0]),
                             lo=lo, hi=hi, se=se))
    return rows


def mediate(x, mediators, y, covariates=None, *, mediator_names=None, draws=DRAWS, seed=SEED,
            level=LEVEL, cluster=None):
    """Regression-based mediation of one outcome with bootstrap intervals (arrays in, table out).

    Product of coefficients (Baron & Kenny 1986; several mediators as in Preacher & Hayes 2008):
    total effect c from Y ~ X + C, a_j from M_j ~ X + C, direct effect c' and b_j from
    Y ~ X + M + C (jointly, and with each mediator alone), indirect a_j b_j, proportion mediated
    = indirect / c. The estimates are those of linear least squares, so c = c' + sum a_j b_j.

    Args:
        x: exposure, shape [n] (its unit sets the unit of every effect: per unit of x).
        mediators: shape [n] or [n, k].
        y: outcome, shape [n].
        covariates: shape [n] or [n, q], or None.
        mediator_names: k names (default m1..mk).
        draws: bootstrap draws (0: point estimates only, NaN intervals).
        seed: seed of the bootstrap (same seed, same intervals).
        level: coverage of the percentile intervals.
        cluster: integer codes [n] of clusters to resample whole (default: resample rows).

    Returns:
        DataFrame with ``model`` (``joint`` or the mediator alone), ``effect`` (``total``,
        ``direct``, ``a_<m>``, ``b_<m>``, ``indirect_<m>``, ``indirect``,
        ``proportion_mediated``), ``estimate``, ``lo``, ``hi`` (percentile interval) and ``se``
        (bootstrap SD).
    """
    x = np.asarray(x, dtype=float)
    M = np.asarray(mediators, dtype=float)
    M = M[:, None] if M.ndim == 1 else M
    C = np.zeros((len(x), 0)) if covariates is None else np.asarray(covariates, dtype=float)
    C = C[:, None] if C.ndim == 1 else C
    names = list(mediator_names) if mediator_names is not None else [f"m{j + 1}" for j in range(M.shape[1])]
    Z, scale = _design([x, *M.T, *C.T, y])
    codes = None if cluster is None else np.unique(np.asarray(cluster), return_inverse=True)[1]
    G = _grams(Z, draws, seed, codes)
    k, q = M.shape[1], C.shape[1]
    est = _effects(G, scale, 1, list(range(2, 2 + k)), 2 + k + q, list(range(2 + k, 2 + k + q)))
    out = pd.DataFrame(_rows(est, level, "y", names)).drop(columns="outcome")
    out.attrs.update(draws=draws, seed=seed, level=level, n=len(x))
    return out


def _effect_unit(effect, outcome_unit, exposure_unit, mediator_units):
    if effect == "proportion_mediated":
        return "share of the total effect"
    if effect.startswith("a_"):
        return f"{mediator_units[effect[2:]]} per {exposure_unit}"
    if effect.startswith("b_"):
        m = effect[2:]
        return f"{outcome_unit} per unit of {m} ({mediator_units[m]})"
    return f"{outcome_unit} per {exposure_unit}"


def mediation(f, exposure="star_p", per="point", outcomes=None, mediators=MEDIATORS,
              covariates=COVARIATES, draws=DRAWS, seed=SEED, level=LEVEL, cluster=None,
              same_dyad=False, table=None):
    """Mediation of the relationship-outcome association by engagement and adherence, one file.

    For each outcome: total effect c of the baseline relationship, direct effect c' (not through
    the mediators), indirect effects a_j b_j through each mediator and their sum, proportion
    mediated = indirect / c; the mediators jointly (``model = "joint"``) and one at a time
    (``model`` = the mediator's name). See the module docstring for the models and their
    assumptions (Baron & Kenny 1986; Preacher & Hayes 2008; VanderWeele 2015).

    Args:
        f: path or open results file (ignored when ``table`` is given).
        exposure: ``"star_p"`` (patient's view, the rating every rule of the model uses) or
            ``"star_c"`` (clinician's view) of the relationship at the start.
        per: ``"point"``: effects per STAR point (mean item score, 0-4); ``"sd"``: per SD of the
            baseline rating in this sample.
        outcomes: dict outcome column -> its baseline covariates (default :data:`OUTCOMES`:
            change in symptoms (BPRS points), change in quality of life (rating points), relapses,
            bed-days (days)).
        mediators: mediator columns (default ``share_engaged``, ``mean_adherence``, both 0-1).
        covariates: covariates of every model besides each outcome's own baseline value
            (default :data:`COVARIATES`: baseline BPRS, its band, in relapse, in hospital).
        draws: bootstrap draws (default 1,000).
        seed: bootstrap seed.
        level: coverage of the percentile intervals (default 0.95).
        cluster: ``None`` (resample patients), ``"clinician"`` (resample care coordinator posts
            with their caseloads) or ``"team"``.
        same_dyad: only patients whose care coordinator did not change during the run (no
            turnover; ``new_dyad == 0``), so the exposure is the relationship that the whole run
            goes on in. Turnover is drawn per post, independently of the patient, so this subset
            is not selected on the outcome.
        table: a :func:`patient_table` already read (default: read ``f``).

    Returns:
        Long DataFrame, one row per outcome, model and effect: ``scenario``, ``exposure``,
        ``per``, ``outcome``, ``outcome_label``, ``model``, ``effect``, ``estimate``, ``lo``,
        ``hi`` (percentile interval), ``se`` (bootstrap SD), ``unit`` (of the effect),
        ``n``, ``draws``, ``seed``, ``level``, ``cluster``, ``sample`` (``all`` or
        ``same dyad``). ``attrs`` holds the table's attrs.

    Raises:
        MediationError: no mediators in the file (see :func:`patient_table`).
        ValueError: an unknown exposure, scale or cluster, or a constant variable.
    """
    if exposure not in EXPOSURES:
        raise ValueError(f"exposure must be one of {', '.join(EXPOSURES)}, not {exposure!r}")
    if per not in ("point", "sd"):
        raise ValueError(f"per must be 'point' or 'sd', not {per!r}")
    if cluster not in (None, "clinician", "team"):
        raise ValueError(f"cluster must be None, 'clinician' or 'team', not {cluster!r}")
    t = table if table is not None else patient_table(f)
    where = t.attrs.get("path") or t.attrs.get("scenario_name") or "the patient table"
    if same_dyad:
        t = t[t["new_dyad"] == 0]
    outcomes = dict(OUTCOMES if outcomes is None else outcomes)
    units, labels = t.attrs.get("units", {}), t.attrs.get("labels", {})
    xcol = f"{exposure}_baseline"
    x = t[xcol].to_numpy(float)
    sd_x = float(x.std())
    if per == "sd":
        x = x / sd_x
        exposure_unit = f"SD of baseline {EXPOSURES[exposure]} ({sd_x:.3g} STAR points)"
    else:
        exposure_unit = f"{EXPOSURES[exposure]} point"
    covs = list(dict.fromkeys([*covariates, *(c for cs in outcomes.values() for c in cs)]))
    columns = [x] + [t[m].to_numpy(float) for m in mediators] + [t[c].to_numpy(float) for c in covs] \
        + [t[o].to_numpy(float) for o in outcomes]
    names = [xcol, *mediators, *covs, *outcomes]
    for name, v in zip(names, columns):
        if not np.all(np.isfinite(v)):
            raise MediationError(f"{where}: column {name} has values that are not finite")
        if np.std(v) == 0:
            # e.g. a small run in which nobody relapsed or everyone stayed engaged
            raise MediationError(f"{where}: {name} is the same for every patient analysed "
                                 f"({len(v)} patients), so its effects cannot be estimated; "
                                 "run more patients or a longer horizon")
    Z, scale = _design(columns)
    codes = None if cluster is None else np.unique(t[cluster].to_numpy(), return_inverse=True)[1]
    G = _grams(Z, draws, seed, codes)
    ims = list(range(2, 2 + len(mediators)))
    cov_index = {c: 2 + len(mediators) + i for i, c in enumerate(covs)}
    rows = []
    mediator_units = {m: units.get(m, "fraction") for m in mediators}
    for k, (outcome, own) in enumerate(outcomes.items()):
        iy = 2 + len(mediators) + len(covs) + k
        ics = [cov_index[c] for c in dict.fromkeys([*covariates, *own])]
        est = _effects(G, scale, 1, ims, iy, ics)
        ounit = units.get(outcome, "")
        for r in _rows(est, level, outcome, list(mediators)):
            r.update(outcome_label=labels.get(outcome, outcome),
                     unit=_effect_unit(r["effect"], ounit, exposure_unit, mediator_units))
            rows.append(r)
    out = pd.DataFrame(rows)
    out.insert(0, "scenario", t.attrs.get("scenario_name"))
    out.insert(1, "exposure", exposure)
    out.insert(2, "per", per)
    out = out[["scenario", "exposure", "per", "outcome", "outcome_label", "model", "effect",
               "estimate", "lo", "hi", "se", "unit"]]
    out = out.assign(n=len(t), draws=draws, seed=seed, level=level, cluster=cluster or "patient",
                     sample="same dyad" if same_dyad else "all")
    out.attrs.update({k: v for k, v in t.attrs.items() if k not in ("units", "labels")})
    out.attrs.update(exposure_sd=sd_x)
    return out


# ---------------------------------------------------------------------------------------------
# Published targets a per-patient file can check (values from calibration.TARGETS)
# ---------------------------------------------------------------------------------------------

def target_checks(f=None, table=None):
    """The published figures a per-patient file can check, computed as their sources did.

    - Odds ratios of good adherence (adherence at or above ``adherence.good_threshold``) per STAR
      point, clinician- and patient-rated, each adjusted for the other rating and symptoms
      (McCabe et al. (2012) PLoS ONE 7(4):e36080: 1.66 [1.35, 2.05] and 1.21 [1.04, 1.40]),
      by the logistic regression of :func:`calibration.logistic_regression`, at the start (as
      ``calibration.national_quantities``) and at the end of the run (the current dyads; this is
      where hypotheses can differ).
    - Alliance-outcome correlation: Pearson r between STAR-P at the start and the change in
      quality of life over the run (psychotherapy meta-analyses: 0.22, range 0.15-0.30; the
      calibration computes it over 1 year).

    Args:
        f: path or open results file (or give ``table``).
        table: a :func:`patient_table`.

    Returns:
        DataFrame: ``key``, ``label``, ``simulated``, ``sim_lo``, ``sim_hi`` (Wald 95% interval of
        the odds ratios; NaN for r), ``target``, ``target_lo``, ``target_hi``,
        ``interval_kind``, ``inside`` (the simulated value lies in the published interval),
        ``source``.
    """
    t = table if table is not None else patient_table(f)
    rows = []
    for when, word in (("baseline", "at the start"), ("final", "at the end")):
        X = np.column_stack([t[f"star_c_{when}"], t[f"star_p_{when}"], t[f"symptoms_{when}"]])
        lr = calibration.logistic_regression(t[f"good_adherence_{when}"].to_numpy(float), X,
                                             names=["star_c", "star_p", "symptoms"])
        for view in ("star_c", "star_p"):
            tg = calibration.target(f"or_{view}")
            rows.append(dict(key=f"or_{view}_{when}",
                             label=f"OR good adherence per {EXPOSURES[view]} point (adjusted), {word}",
                             simulated=lr["odds_ratio"][view], sim_lo=lr["or_lo"][view],
                             sim_hi=lr["or_hi"][view], target=tg))
    r = float(np.corrcoef(t["star_p_baseline"], t["change_qol"])[0, 1])
    years = t.attrs.get("years", float("nan"))
    rows.append(dict(key="alliance_outcome_r",
                     label=f"r(STAR-P at start, change in quality of life over {years:g} years)",
                     simulated=r, sim_lo=np.nan, sim_hi=np.nan,
                     target=calibration.target("alliance_outcome_r")))
    for row in rows:
        tg = row.pop("target")
        lo, hi = tg["interval"] if tg["interval"] is not None else (np.nan, np.nan)
        row.update(target=tg["value"], target_lo=lo, target_hi=hi, interval_kind=tg["interval_kind"],
                   inside=bool(lo <= row["simulated"] <= hi), source=tg["source"])
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Hypotheses side by side
# ---------------------------------------------------------------------------------------------

def _fmt(x, digits=3):
    if x is None or not np.isfinite(x):
        return "NA"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    decimals = max(0, digits - 1 - mag)
    return f"{x:.{decimals}f}"


def _cell(r, pct=False):
    if not np.isfinite(r.estimate):
        return "NA"
    if pct:
        return f"{100 * r.estimate:.0f}% [{100 * r.lo:.0f}, {100 * r.hi:.0f}]"
    return f"{_fmt(r.estimate)} [{_fmt(r.lo)}, {_fmt(r.hi)}]"


def persistence(total, direct):
    """Does the relationship-outcome association persist after adjusting for the mediators?

    Args:
        total, direct: rows (or objects) with ``estimate``, ``lo`` and ``hi`` of the total and the
            direct effect.

    Returns:
        ``"yes"`` if the direct effect's interval excludes 0 and the direct effect has the sign of
        the total effect; ``"reversed"`` if it excludes 0 with the opposite sign (the mediators
        account for more than the whole association: a sign of mediators that are partly
        consequences of the outcome, or of a suppressing path); ``"no"`` if it includes 0.
    """
    if direct.lo <= 0 <= direct.hi:
        return "no"
    return "yes" if np.sign(direct.estimate) == np.sign(total.estimate) else "reversed"


def _column_names(names):
    seen, out = {}, []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def hypothesis_table(paths=None, exposure="star_p", per="point", draws=DRAWS, seed=SEED,
                     level=LEVEL, cluster=None, same_dyad=False, results=None):
    """Hypotheses side by side: mediation and published targets, one column per results file.

    Args:
        paths: results files (e.g. the three ``scenarios/mechanism_*.yaml`` runs with one seed).
        exposure, per, draws, seed, level, cluster, same_dyad: as for :func:`mediation`.
        results: instead of ``paths``, a list of ``(mediation table, target_checks table)`` pairs
            already computed (what the command line does).

    Returns:
        DataFrame with ``section``, ``quantity``, one column per file (named by its scenario
        name; repeated names get a number) holding "estimate [lo, hi]" text, then ``target``
        and ``source`` for the published figures. Per outcome: the total, direct and indirect
        effects (joint model) with their unit, the proportion mediated (jointly and by each
        mediator alone), and whether the association persists after adjusting for engagement and
        adherence (:func:`persistence`: ``yes``, ``no`` or ``reversed``). Target rows give the simulated
        value, its interval and whether it lies inside the published interval.
    """
    if results is None:
        results = []
        for p in paths:
            t = patient_table(p)
            results.append((mediation(None, exposure, per, draws=draws, seed=seed, level=level,
                                      cluster=cluster, same_dyad=same_dyad, table=t),
                            target_checks(table=t)))
    names = _column_names([m["scenario"].iloc[0] or f"file {i + 1}" for i, (m, _) in enumerate(results)])
    rows = {}          # (section, quantity) -> {column: text}
    extra = {}         # (section, quantity) -> (target, source)

    def put(section, quantity, col, text, target="", source=""):
        rows.setdefault((section, quantity), {})[col] = text
        extra[(section, quantity)] = (target, source)

    for col, (m, checks) in zip(names, results):
        a = m.attrs
        hyp = a.get("hypothesis")
        if hyp == "mixture":
            hyp = f"mixture (weight {a.get('direct_weight')})"
        put("run", "mechanism.hypothesis", col, str(hyp))
        sample = " (kept their coordinator)" if m["sample"].iloc[0] == "same dyad" else ""
        put("run", "patients analysed; horizon (years); seed", col,
            f"{int(m['n'].iloc[0]):,}{sample}; {a.get('years', float('nan')):g}; {a.get('seed')}")
        put("run", "exposure (at the start); bootstrap", col,
            f"{EXPOSURES[m['exposure'].iloc[0]]} per {'point' if m['per'].iloc[0] == 'point' else 'SD'}; "
            f"{int(m['draws'].iloc[0])} draws by {m['cluster'].iloc[0]}")
        for outcome in dict.fromkeys(m["outcome"]):
            d = m[m["outcome"] == outcome]
            joint = d[d["model"] == "joint"].set_index("effect")
            label = d["outcome_label"].iloc[0]
            unit = joint.loc["total", "unit"]
            sec = f"{label} ({unit})"
            put(sec, "total effect c", col, _cell(joint.loc["total"]))
            put(sec, "direct effect c' (not through engagement or adherence)", col,
                _cell(joint.loc["direct"]))
            for med in (e[len("indirect_"):] for e in joint.index if e.startswith("indirect_")):
                put(sec, f"indirect through {med} (a*b)", col, _cell(joint.loc[f"indirect_{med}"]))
            put(sec, "indirect, total", col, _cell(joint.loc["indirect"]))
            tot = joint.loc["total"]
            pm = _cell(joint.loc["proportion_mediated"], pct=True)
            if tot.lo <= 0 <= tot.hi:
                pm += " (total effect not distinct from 0)"
            put(sec, "proportion mediated (joint)", col, pm)
            for med in d.loc[d["model"] != "joint", "model"].unique():
                one = d[(d["model"] == med) & (d["effect"] == "proportion_mediated")].iloc[0]
                put(sec, f"proportion mediated by {med} alone", col, _cell(one, pct=True))
            dr = joint.loc["direct"]
            put(sec, "association persists after adjustment (direct "
                     f"{int(round(100 * m['level'].iloc[0]))}% interval excludes 0)", col,
                persistence(tot, dr))
        for r in checks.itertuples():
            text = f"{_fmt(r.simulated)}"
            if np.isfinite(r.sim_lo):
                text += f" [{_fmt(r.sim_lo)}, {_fmt(r.sim_hi)}]"
            text += ": inside" if r.inside else ": outside"
            target = f"{r.target:g}" + (f" [{r.target_lo:g}, {r.target_hi:g}] ({r.interval_kind})"
                                        if np.isfinite(r.target_lo) else "")
            put("published targets", r.label, col, text, target, r.source)
    out = pd.DataFrame([dict(section=s, quantity=q, **v) for (s, q), v in rows.items()])
    out["target"] = [extra[k][0] for k in rows]
    out["source"] = [extra[k][1] for k in rows]
    return out[["section", "quantity", *names, "target", "source"]].fillna("")


def format_table(table, width=34):
    """The side-by-side table as text (sections as headings, one column per hypothesis)."""
    cols = [c for c in table.columns if c not in ("section", "quantity", "target", "source")]
    qw = min(72, max(len(q) for q in table["quantity"]))
    cw = [max(width, len(c), *(len(str(v)) for v in table[c])) for c in cols]
    lines = [" " * qw + "  " + "  ".join(c.ljust(w) for c, w in zip(cols, cw))]
    section = None
    for row in table.to_dict("records"):
        if row["section"] != section:
            section = row["section"]
            lines.append(f"\n{section}")
        q = row["quantity"]
        q = q if len(q) <= qw else q[:qw - 3] + "..."
        line = q.ljust(qw) + "  " + "  ".join(str(row[c]).ljust(w) for c, w in zip(cols, cw))
        if row["target"]:
            line += f"  target {row['target']}, {row['source']}"
        lines.append(line.rstrip())
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Figure
# ---------------------------------------------------------------------------------------------

PLOT_EFFECTS = (("total", "total effect", "#e69f00"),
                ("direct", "direct (not through engagement or adherence)", "#333333"),
                ("indirect_share_engaged", "indirect through engagement", "#1b6ca8"),
                ("indirect_mean_adherence", "indirect through adherence", "#c0504d"))
#: total = direct + indirect through engagement + indirect through adherence (linear models)


def mediation_plot(table, stem, model="joint"):
    """Direct and indirect effects per hypothesis, one panel per outcome, with intervals.

    Args:
        table: long table of :func:`mediation` for one or more files (concatenated).
        stem: output path without extension (writes PNG and SVG with :func:`plots.save`).
        model: ``"joint"`` (both mediators in one model; default).

    Returns:
        list of the written paths.
    """
    d = table[table["model"] == model]
    scenarios = list(dict.fromkeys(d["scenario"]))
    outcomes = list(dict.fromkeys(d["outcome"]))
    ncol = 2 if len(outcomes) > 1 else 1
    nrow = math.ceil(len(outcomes) / ncol)
    fig = plots._figure(5.2 * ncol, 3.3 * nrow + 1.3)
    top, bottom = fig.subfigures(2, 1, height_ratios=(3.3 * nrow + 0.6, 0.5))
    axes = np.atleast_1d(top.subplots(nrow, ncol, squeeze=False).ravel())
    width = 0.8 / len(PLOT_EFFECTS)
    xs = np.arange(len(scenarios))
    for ax, outcome in zip(axes, outcomes):
        o = d[d["outcome"] == outcome]
        for k, (effect, label, colour) in enumerate(PLOT_EFFECTS):
            e = o[o["effect"] == effect].set_index("scenario").reindex(scenarios)
            if e["estimate"].isna().all():
                continue
            pos = xs + (k - (len(PLOT_EFFECTS) - 1) / 2) * width
            err = np.vstack([e["estimate"] - e["lo"], e["hi"] - e["estimate"]])
            total = effect == "total"
            ax.bar(pos, e["estimate"], width * 0.92, color=colour, label=label,
                   hatch="//" if total else None, edgecolor="white" if total else None)
            ax.errorbar(pos, e["estimate"], yerr=err, fmt="none", ecolor="black", elinewidth=1,
                        capsize=2.5)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(xs)
        ax.set_xticklabels([plots._wrap(s, 16) for s in scenarios], fontsize=8)
        ax.set_title(plots._wrap(o["outcome_label"].iloc[0], 48), fontsize=10)
        ax.set_ylabel(plots._wrap(f"Effect ({o['unit'].iloc[0]})", 34), fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    for ax in axes[len(outcomes):]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    bottom.legend(handles, labels, loc="center", ncol=2, fontsize=8, frameon=False)
    exposure = EXPOSURES.get(d["exposure"].iloc[0], d["exposure"].iloc[0])
    level = int(round(100 * d["level"].iloc[0]))
    fig.suptitle(plots._wrap(f"Effect of the relationship at the start (baseline {exposure}) on outcomes: "
                             f"total, direct and through engagement and adherence (bars: estimates, "
                             f"whiskers: {level}% bootstrap intervals)", 110), fontsize=10)
    return plots.save(fig, stem)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def add_cli(subparsers):
    """Add ``mediation`` to the subcommands of ``python3 -m therasim_analysis``.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    Returns:
        the new subparser (its ``func`` default is :func:`_cli`).
    """
    m = subparsers.add_parser(
        "mediation", help="how much of the relationship-outcome association engagement and "
                          "adherence mediate; hypotheses side by side",
        description="Regression-based mediation (product of coefficients, bootstrap percentile "
                    "intervals) of the effect of the relationship at the start on symptom change, "
                    "quality-of-life change, relapses and bed-days through engagement "
                    "(share_engaged) and adherence (mean_adherence), per results file, and the "
                    "published targets a per-patient file can check. Writes mediation.csv, "
                    "hypotheses.csv and mediation.png/.svg to --outdir and prints the table.")
    m.add_argument("files", nargs="+", metavar="FILE",
                   help="results files, e.g. runs of scenarios/mechanism_*.yaml with one seed")
    m.add_argument("--exposure", choices=list(EXPOSURES), default="star_p",
                   help="relationship rating at the start (default star_p: the view every rule uses)")
    m.add_argument("--per", choices=("point", "sd"), default="point",
                   help="effects per STAR point (default) or per SD of the rating")
    m.add_argument("--outdir", default="mediation_out", help="output directory (default: mediation_out)")
    m.add_argument("--draws", type=int, default=DRAWS, help=f"bootstrap draws (default {DRAWS})")
    m.add_argument("--seed", type=int, default=SEED, help=f"bootstrap seed (default {SEED})")
    m.add_argument("--cluster", choices=("none", "clinician", "team"), default="none",
                   help="resample patients (default) or whole care coordinator posts or teams")
    m.add_argument("--same-dyad", action="store_true",
                   help="only patients whose care coordinator did not change during the run "
                        "(published targets still use every patient)")
    m.set_defaults(func=_cli)
    return m


def _cli(args):
    cluster = None if args.cluster == "none" else args.cluster
    results = []
    for path in args.files:
        t = patient_table(path)
        results.append((mediation(None, args.exposure, args.per, draws=args.draws, seed=args.seed,
                                  cluster=cluster, same_dyad=args.same_dyad, table=t),
                        target_checks(table=t)))
    os.makedirs(args.outdir, exist_ok=True)
    long = pd.concat([m for m, _ in results], ignore_index=True)
    wide = hypothesis_table(results=results)
    written = [os.path.join(args.outdir, "mediation.csv"), os.path.join(args.outdir, "hypotheses.csv")]
    io.write_output(written[0], long.to_csv(index=False), overwrite=True)
    io.write_output(written[1], wide.to_csv(index=False), overwrite=True)
    written += mediation_plot(long, os.path.join(args.outdir, "mediation"))
    for path, (m, _) in zip(args.files, results):
        print(f"{m['scenario'].iloc[0]}: {path} (mediators from {m.attrs.get('mediator_source')})")
    print()
    print(format_table(wide))
    print(f"\nwrote {len(written)} files to {args.outdir}")
    return 0

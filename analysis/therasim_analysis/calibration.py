"""Calibration and validation of therasim against published figures.

The targets are those of ``calibration-targets.yaml`` (published figures; the values are copied
into :data:`TARGETS` with their source). Each is computed from simulated data the way its source
computed it:

- DIALOG (2007) trial effects: each replicate of ``scenarios/trials/dialog_2007.yaml`` is one
  simulated trial analysed as the trial was (baseline-adjusted standardised effect with
  clinician-clustered intervals, computed by the binary into ``/metrics``); a target is compared
  with the mean over replicates and the 95% range of trial results.
- National quantities (STAR agreement, adherence, odds ratios, involuntary share, disengagement,
  relapse, expressed emotion, ...) from the per-patient and per-dyad baseline and final datasets
  of a 1-year run of ``scenarios/england_no_dialog.yaml``. Agent datasets exist for replicate 0
  only, so replicates of these quantities are runs with different seeds.
- Odds ratios of good adherence per STAR point (McCabe et al. 2012): logistic regression of good
  adherence (``adherence >= 0.8``) on STAR-C, STAR-P and symptoms (maximum likelihood by Newton's
  method, :func:`logistic_regression`).
- Alliance-outcome correlation: Pearson correlation between the early relationship (STAR-P at
  the start) and the later change in quality of life (end minus start), as psychotherapy
  meta-analyses correlate early alliance with outcome.

Calibration (:func:`fit_trial`) minimises a weighted sum of squares of (simulated mean -
published) / published standard error with ``scipy.optimize.minimize`` (Nelder-Mead with
bounds), running the binary with the same seed and replicates for every evaluation (common
random numbers). Command line: ``python3 -m therasim_analysis.calibration {fit-trial, fit-star,
validate} ...`` (``tools/calibrate.sh``, ``tools/validate.sh``).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from scipy import optimize, stats

from . import io

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRIAL_SCENARIO = "scenarios/trials/dialog_2007.yaml"
TRIAL_PLUS_SCENARIO = "scenarios/trials/dialog_plus_2015.yaml"
TEMPO_SCENARIO = "scenarios/trials/tempo_2016.yaml"
NATIONAL_SCENARIO = "scenarios/england_no_dialog.yaml"
GOOD_ADHERENCE = 0.8   # adherence.good_threshold (default)
Z975 = stats.norm.ppf(0.975)

# ---------------------------------------------------------------------------------------------
# Targets (copied from /work/shared/targets/calibration-targets.yaml)
# ---------------------------------------------------------------------------------------------

#: Each target: key (the computed quantity), label, published value, interval (lo, hi) or None,
#: interval kind, source, and a note on how it is computed or why it is special.
TARGETS = [
    # DIALOG 2007 trial (Priebe et al. 2007 Br J Psychiatry 191:420-426)
    dict(key="trial_qol_d", label="DIALOG 2007: quality of life (MANSA), d at 12 months",
         value=0.20, interval=(0.01, 0.39), interval_kind="95% CI",
         source="Priebe et al. (2007)"),
    dict(key="trial_satisfaction_d", label="DIALOG 2007: treatment satisfaction (CSQ), d",
         value=0.27, interval=(0.06, 0.47), interval_kind="95% CI",
         source="Priebe et al. (2007)"),
    dict(key="trial_unmet_needs_d", label="DIALOG 2007: unmet needs (CAN), d",
         value=-0.20, interval=(-0.30, 0.0), interval_kind="our reading",
         source="Priebe et al. (2007): 'fewer unmet needs; significant in only 2 of 6 centres'",
         note="no effect size published; read as a small reduction (d about -0.2, between -0.3 "
              "and 0): a reduction of d = -0.65 would be significant in most centres of ~75 "
              "patients"),
    dict(key="trial_problematic_qol_d",
         label="DIALOG 2007: quality of life, problematic baseline, d (unscored)",
         value=0.5, interval=None, interval_kind="unscored: the seed paper's summary",
         source="Priebe et al. (2007); van den Brink et al. (2011)", scored=False,
         note="the trial reported no individual-level subgroup effect size; 'medium effect in "
              "patients with more problematic baseline scores' is the seed paper's summary "
              "(targets file), so it is listed, not scored"),
    # DIALOG 2007's centres (van den Brink et al. 2011)
    dict(key="trial_centres_qol_positive",
         label="DIALOG 2007: centres with a quality-of-life effect in DIALOG's favour (of 6)",
         value=6.0, interval=None, interval_kind="the trial's count against the simulated 95% range",
         source="van den Brink et al. (2011) Soc Psychiatry Psychiatr Epidemiol 46:685-693", scoring="range",
         note="a count from one trial: scored by whether it lies inside the range of counts of 200 "
              "simulated trials (the scenario's six centres differ in capacity, need rates and "
              "symptoms; docs/model.md)"),
    dict(key="trial_centres_needs_significant",
         label="DIALOG 2007: centres with a significant reduction of unmet needs (of 6)",
         value=2.0, interval=None, interval_kind="the trial's count against the simulated 95% range",
         source="van den Brink et al. (2011)", scoring="range"),
    dict(key="trial_centres_needs_qol_r",
         label="DIALOG 2007: r across centres of the QoL effect with baseline unmet needs (unscored)",
         value=0.0, interval=None, interval_kind="unscored: 'most effective in settings with many unmet needs'",
         source="van den Brink et al. (2011)", scored=False,
         note="the published finding is a direction (positive), not a figure"),
    dict(key="trial_sessions_per_patient",
         label="DIALOG 2007: sessions delivered per patient in 12 months",
         value=4.0, interval=(3.5, 4.5), interval_kind="'about 4' (+-0.5)",
         source="Priebe et al. (2007) (design: 6 planned, about 4 delivered)"),
    dict(key="plus_sessions_per_patient",
         label="DIALOG+ 2015: sessions delivered per patient in 6 months",
         value=2.9, interval=(2.4, 3.4), interval_kind="1.8 + 1.1 (+-0.5)",
         source="Priebe et al. (2015) Psychother Psychosom 84:304-313 (design)"),
    # communication-skills training (TEMPO: McCabe et al. 2016 Br J Psychiatry 209:517-524)
    dict(key="tempo_star_p_diff",
         label="TEMPO 2016: STAR-P after communication training, adjusted difference at 5 months",
         value=0.21, interval=(0.01, 0.41), interval_kind="95% CI",
         source="McCabe et al. (2016)",
         note="each replicate is one simulated trial of `scenarios/trials/tempo_2016.yaml` (21 "
              "clinicians randomised to training, 97 patients, 64 followed up); the baseline-"
              "adjusted difference between arms in mean item score (0-4), as published"),
    dict(key="tempo_star_c_diff",
         label="TEMPO 2016: STAR-C after communication training, adjusted difference at 5 months",
         value=0.20, interval=(0.03, 0.37), interval_kind="95% CI",
         source="McCabe et al. (2016)"),
    # relationship
    dict(key="star_spearman_1y", label="Spearman STAR-P vs STAR-C (after 1 year)",
         value=0.13, interval=(0.043, 0.214), interval_kind="95% CI from n = 507 (Fisher z)",
         source="McCabe et al. (2012) PLoS ONE 7(4):e36080",
         note="the published figure is a point; its interval here is the sampling interval of a "
              "Spearman correlation in 507 patients. Measured in established relationships, so "
              "compared with the model after 1 year (the start is an initialised, not a settled, "
              "state)"),
    dict(key="star_spearman_start", label="Spearman STAR-P vs STAR-C (at the start)",
         value=0.13, interval=(0.043, 0.214), interval_kind="95% CI from n = 507 (Fisher z)",
         source="McCabe et al. (2012)"),
    dict(key="alliance_outcome_r",
         label="Alliance-outcome: r(STAR-P at start, change in quality of life over 1 year)",
         value=0.22, interval=(0.15, 0.30), interval_kind="range (psychotherapy)",
         source="Martin et al. (2000); Horvath et al. (2011); Flueckiger et al. (2018)",
         note="psychotherapy meta-analyses; an upper reference for community psychiatry, not a "
              "point to hit"),
    # adherence
    dict(key="mean_adherence", label="Mean fraction of antipsychotic taken",
         value=0.58, interval=(0.24, 0.90), interval_kind="range of 24 reports",
         source="Cramer & Rosenheck (1998)"),
    dict(key="share_good_adherence", label="Share with good adherence (>= 0.8), at the start",
         value=0.59, interval=(0.50, 0.60), interval_kind="1 - non-adherence 0.40-0.50",
         source="Lacro et al. (2002) (verified: false); non-adherence 0.41 (0.40-0.50)"),
    dict(key="or_star_c", label="OR good adherence per STAR-C point (adjusted), at the start",
         value=1.66, interval=(1.35, 2.05), interval_kind="95% CI",
         source="McCabe et al. (2012)"),
    dict(key="or_star_p", label="OR good adherence per STAR-P point (adjusted), at the start",
         value=1.21, interval=(1.04, 1.40), interval_kind="95% CI",
         source="McCabe et al. (2012)"),
    # relapse
    dict(key="withdrawal_on", label="Withdrawal comparison: one-year relapse, held at full adherence",
         value=0.27, interval=None, interval_kind="point", source="Leucht et al. (2012) Lancet 379:2063-2071",
         note="as Leucht measured it: patients with schizophrenia not in relapse at the start, "
              "adherence held at 1 (adherence.held_at) for a year; share with a relapse"),
    dict(key="withdrawal_off", label="Withdrawal comparison: one-year relapse, held at no adherence",
         value=0.64, interval=None, interval_kind="point", source="Leucht et al. (2012)"),
    dict(key="relapse_risk_ratio",
         label="Naturalistic: relapse risk ratio, adherence >= 0.8 vs < 0.2 at start (unscored)",
         value=0.40, interval=None, interval_kind="unscored: not Leucht's design",
         source="Leucht et al. (2012)", scored=False,
         note="naturalistic groups drift in adherence during the year, unlike Leucht's kept-on "
              "and taken-off groups (targets file, design_note); listed as a check of the "
              "model's own dynamics, not scored"),
    dict(key="relapse_on", label="Naturalistic: one-year relapse, adherence >= 0.8 at start (unscored)",
         value=0.27, interval=None, interval_kind="unscored", source="Leucht et al. (2012)", scored=False),
    dict(key="relapse_off", label="Naturalistic: one-year relapse, adherence < 0.2 at start (unscored)",
         value=0.64, interval=None, interval_kind="unscored", source="Leucht et al. (2012)", scored=False),
    # quality of life and settling
    dict(key="qol_per_unmet_need", label="Quality of life per unmet need (cross-sectional slope, start)",
         value=-0.23, interval=(-0.29, -0.17), interval_kind="95% CI",
         source="Slade et al. (2005) Br J Psychiatry 187:256-261"),
    dict(key="drift_qol_26w", label="Warm-up drift: mean quality of life, week 26 / week 0 - 1",
         value=0.0, interval=(-0.005, 0.005), interval_kind="+-0.5% (a settled start)",
         source="issue criterion: time 0 is a settled state (burn-in)"),
    dict(key="drift_engaged_26w", label="Warm-up drift: patients engaged, week 26 / week 0 - 1",
         value=0.0, interval=(-0.005, 0.005), interval_kind="+-0.5% (a settled start)",
         source="issue criterion: time 0 is a settled state (burn-in)"),
    dict(key="satisfaction_star_p_r", label="r(treatment satisfaction, STAR-P) at the start (unscored)",
         value=0.0, interval=None, interval_kind="unscored: no published figure", scored=False,
         source="a check that satisfaction is not a copy of the patient's rating of the relationship"),
    # family
    dict(key="share_high_ee", label="Share of families with high expressed emotion (start)",
         value=0.5, interval=None, interval_kind="point ('over half')",
         source="Raune, Kuipers & Bebbington (2004)"),
    dict(key="relapse_high_ee", label="One-year relapse, high-EE family",
         value=0.50, interval=None, interval_kind="point (verified: false)",
         source="Butzlaff & Hooley (1998)"),
    dict(key="relapse_low_ee", label="One-year relapse, low-EE family",
         value=0.21, interval=None, interval_kind="point (verified: false)",
         source="Butzlaff & Hooley (1998)"),
    # engagement and services
    dict(key="share_disengaging", label="Share of patients disengaging within a year",
         value=0.33, interval=(0.04, 0.46), interval_kind="range of definitions",
         source="Kreyenbuhl et al. (2009); O'Brien et al. (2009)"),
    dict(key="involuntary_share", label="Share of admissions under the Mental Health Act",
         value=0.40, interval=None, interval_kind="point", source="NHS Benchmarking 2018/19"),
    dict(key="bed_days_per_admission", label="Bed-days per admission (acute length of stay)",
         value=33.0, interval=None, interval_kind="point", source="NHS Benchmarking 2018/19",
         note="bed-days in the year / admissions in the year (stays running at the start and end "
              "are cut), as in docs/model.md section 17"),
    dict(key="mean_caseload", label="Mean care coordinator caseload",
         value=35.0, interval=(25.0, 40.0), interval_kind="range (verified: false)",
         source="NHS benchmarking (from memory)"),
]

#: Targets without a simulated counterpart and why (reported in docs/validation.md).
NOT_SIMULATED = [
    ("CPA patients in England", "300,000 (263,935 in 2010/11; 335,727 in 2014/15)",
     "an input, not an output: runs simulate a sample (20,000 patients) and scale national "
     "totals with --population"),
    ("STAR structure (12 items, 0-4, 3 factors per version)", "as published",
     "by construction (section 4 of docs/model.md), not an emergent quantity"),
    ("DIALOG+ 2015 results", "not in the targets file",
     "withheld on purpose: the scenario predicts them"),
]

#: Discussion written into docs/validation.md (findings from the calibration runs).
NOTES = [
    "## Calibration method",
    "",
    "Fitted to DIALOG 2007 and the cross-sectional targets only; the DIALOG+ 2015 trial is a",
    "prediction (its results are not in the targets file and no parameter was set by looking at",
    "them). Each hypothesis is calibrated to the same trial, so that they differ in what else they",
    "predict, not in the effect they were fitted to:",
    "",
    "- `dialog.session_gain` (the sessions path) was set with `mechanism.hypothesis=basis` so that",
    "  100 simulated DIALOG 2007 trials give quality of life d = 0.20 (0.042 gives 0.199);",
    "- `mechanism.qol_effect` (the direct path) with `therapy_in_itself` (3.0 gives 0.192);",
    "- `wellbeing.sat_dialog` with the shipped `mixture` so that satisfaction d is about 0.27 (0.5);",
    "- `wellbeing.need_qol_effect` is no longer fitted: 1.84 = 8 x 0.23, Slade et al. (2005)'s",
    "  quality of life per unmet need, and `dialog.action_probability` keeps its earlier fit (0.072).",
    "",
    "- `clinicians.skills_training.star_gain` (what communication training adds to the",
    "  collaboration and clinician-input targets of a trained clinician's relationships) so that",
    "  200 simulated TEMPO-like trials (`scenarios/trials/tempo_2016.yaml`) give the published",
    "  STAR changes (+0.21 patient-rated, +0.20 clinician-rated): 0.3 gives 0.209 and 0.202",
    "  (`python3 -m therasim_analysis.calibration fit-tempo`). The trial's dyads are the model's",
    "  patient-clinician dyads at the model's meeting frequency; TEMPO's psychiatrists may see",
    "  outpatients less often, which the fit absorbs.",
    "",
    "Every evaluation runs the same trials (the scenario's seed 2007: common random numbers).",
    "`tools/calibrate.sh` refits `dialog.session_gain`, `dialog.action_probability` and",
    "`wellbeing.sat_dialog` under the scenario's hypothesis with Nelder-Mead (scipy).",
    "",
    "Fixed beforehand, with their reasons (docs/model.md): `relationship.perception_weight` 0.25",
    "(the patient's offset is mostly measurement); `adherence.slope` 0.9, `adherence_in_clinician_view`",
    "0.4, `adherence.floor` 0.12 and `ceiling` 0.92 (two adherence classes: mean about 0.58 with more",
    "than half at 0.8 or more); `adherence.class_hysteresis` 0.5; `dialog.domains_discussed` 3 (DIALOG+",
    "protocol); `dialog.spillover` 0.2; `dialog.alliance_moderation` 1 (Goldsmith et al. 2015's",
    "direction); `time.burn_in_weeks` 52 (the slowest fast states settle within a year).",
    "",
    "## What the model does not meet, and why",
    "",
    "- **The shipped mixture's quality-of-life effect** (about 0.17) is below both pure hypotheses'",
    "  (about 0.20 and 0.19): at half weight each path gives less than half, because the sessions",
    "  path's moderation and the direct path's ratings saturate differently. It is inside the",
    "  published interval; the mixture was not refitted separately.",
    "- **Alliance-outcome correlation** (r of baseline STAR-P with later change in quality of life):",
    "  close to 0. The model starts from a settled state (burn-in), in which the relationship's",
    "  effect is already in the baseline, so it does not predict later change; the psychotherapy",
    "  figure comes from treatments that start at baseline. A structural miss, not a parameter.",
    "- **Centre-level effects** (van den Brink et al. 2011): the trial scenario's six centres differ",
    "  in capacity and in their patients (need rates +-30%, symptoms +-4 BPRS, a guess fixed before",
    "  any result was seen). The counts of centres are met as single-trial results, but the",
    "  model's quality-of-life effect hardly depends on a centre's baseline needs (r across",
    "  centres about 0.06), where the trial found DIALOG most effective in centres with many",
    "  needs: the sessions path gains by the room in the lowest-rated domains, which needs",
    "  lower only a little (Slade's 0.23 per need), and capacity is not aligned with needs.",
    "",
]

#: The fitted quantities: (target key, weight). The unmet-needs effect enters softly: there is
#: no published effect size.
TRIAL_FIT = [("trial_qol_d", 1.0), ("trial_satisfaction_d", 1.0), ("trial_unmet_needs_d", 1.0)]
#: need_qol_effect is bounded at 1 rating point (of the 1-7 scale) per need: the trial's quality
#: of life effect is reached only at about 3-4 points per need (docs/validation.md), which would
#: make every need that arises or is met move a life domain by half the scale.
TRIAL_PARAMS = [  # (path, default, lower, upper)
    ("dialog.session_gain", 0.05, 0.0, 0.5),
    ("dialog.action_probability", 0.072, 0.0, 1.0),
    ("wellbeing.sat_dialog", 0.4, 0.0, 6.0),
]
STAR_PARAMS = [("relationship.bias_patient_sd", 0.8), ("relationship.bias_clinician_sd", 0.7)]
STAR_FIT = ["star_spearman_1y"]


def target(key):
    """The entry of :data:`TARGETS` with this key."""
    for t in TARGETS:
        if t["key"] == key:
            return t
    raise KeyError(key)


def target_scale(t):
    """Standard error implied by a target's 95% interval (half-width / 1.96), for weighting."""
    lo, hi = t["interval"]
    return (hi - lo) / (2 * Z975)


# ---------------------------------------------------------------------------------------------
# Statistics, as the sources computed them
# ---------------------------------------------------------------------------------------------

def logistic_regression(y, X, names=None, max_iter=100, tol=1e-10):
    """Maximum-likelihood logistic regression by Newton-Raphson (iteratively reweighted LS).

    Args:
        y: outcome, 0/1, shape [n].
        X: covariates, shape [n, k], without the intercept (one is added first).
        names: covariate names (default x1..xk).

    Returns:
        dict with ``coef`` (intercept first), ``se`` (from the inverse observed information),
        ``odds_ratio``, ``or_lo``, ``or_hi`` (Wald 95%) for the covariates (dicts by name), and
        ``converged``.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n, k = X.shape
    names = list(names) if names is not None else [f"x{i + 1}" for i in range(k)]
    Z = np.column_stack([np.ones(n), X])
    beta = np.zeros(k + 1)
    converged = False
    for _ in range(max_iter):
        eta = Z @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        info = Z.T @ (Z * w[:, None])
        step = np.linalg.solve(info, Z.T @ (y - p))
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    p = 1.0 / (1.0 + np.exp(-(Z @ beta)))
    info = Z.T @ (Z * (p * (1.0 - p))[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    out = dict(coef=dict(zip(["intercept"] + names, beta)), se=dict(zip(["intercept"] + names, se)),
               converged=converged)
    out["odds_ratio"] = {nm: math.exp(beta[i + 1]) for i, nm in enumerate(names)}
    out["or_lo"] = {nm: math.exp(beta[i + 1] - Z975 * se[i + 1]) for i, nm in enumerate(names)}
    out["or_hi"] = {nm: math.exp(beta[i + 1] + Z975 * se[i + 1]) for i, nm in enumerate(names)}
    return out


def spearman(a, b):
    """Spearman rank correlation (ties get average ranks), as McCabe et al. (2012) report."""
    return float(stats.spearmanr(a, b).statistic)


def spearman_interval(r, n):
    """95% interval of a correlation r from n pairs (Fisher z, SE 1/sqrt(n - 3))."""
    z = math.atanh(r)
    h = Z975 / math.sqrt(n - 3)
    return math.tanh(z - h), math.tanh(z + h)


def national_quantities(path):
    """Every national target computed from one run's agent datasets (replicate 0).

    Args:
        path: results file of a 1-year run of the national scenario (e.g.
            ``england_no_dialog.yaml`` with ``time.years=1``); event counts are then per year.

    Returns:
        dict key -> value for the national keys of :data:`TARGETS`.
    """
    with io.open_results(path) as f:
        pb = io.agents(f, "patient", "baseline")
        pf = io.agents(f, "patient", "final")
        db = io.agents(f, "dyad", "baseline")
        dfin = io.agents(f, "dyad", "final")
        fb = io.agents(f, "family", "baseline")
        ff = io.agents(f, "family", "final")
        cf = io.agents(f, "clinician", "final")
    q = {}
    q["star_spearman_start"] = spearman(db["star_p"], db["star_c"])
    q["star_spearman_1y"] = spearman(dfin["star_p"], dfin["star_c"])
    relapsed = (pf["n_relapses"].to_numpy() > 0).astype(float)
    q["alliance_outcome_r"] = float(np.corrcoef(db["star_p"], pf["qol"] - pb["qol"])[0, 1])
    adh = pb["adherence"].to_numpy()
    good = (adh >= GOOD_ADHERENCE).astype(float)
    q["mean_adherence"] = float(adh.mean())
    q["share_good_adherence"] = float(good.mean())
    lr = logistic_regression(good, np.column_stack([db["star_c"], db["star_p"], pb["symptoms"]]),
                             names=["star_c", "star_p", "symptoms"])
    q["or_star_c"] = lr["odds_ratio"]["star_c"]
    q["or_star_p"] = lr["odds_ratio"]["star_p"]
    q["qol_per_unmet_need"] = float(np.polyfit(pb["unmet_needs"].to_numpy(float), pb["qol"].to_numpy(float), 1)[0])
    q["satisfaction_star_p_r"] = float(np.corrcoef(pb["satisfaction"], db["star_p"])[0, 1])
    with io.open_results(path) as f:
        nat = f["series/national"]
        for key, name in (("drift_qol_26w", "mean_qol"), ("drift_engaged_26w", "engaged")):
            v = nat[name][0]
            q[key] = float(v[26] / v[0] - 1.0) if len(v) > 26 else float("nan")
    on, off = adh >= GOOD_ADHERENCE, adh < 0.2
    q["relapse_on"] = float(relapsed[on].mean())
    q["relapse_off"] = float(relapsed[off].mean())
    q["relapse_risk_ratio"] = q["relapse_on"] / q["relapse_off"]
    high = fb["high_ee"].to_numpy() > 0
    fam_relapsed = relapsed[ff["patient"].to_numpy()]
    q["share_high_ee"] = float(high.mean())
    q["relapse_high_ee"] = float(fam_relapsed[high].mean())
    q["relapse_low_ee"] = float(fam_relapsed[~high].mean())
    q["share_disengaging"] = float((pf["n_disengagements"] > 0).mean())
    invol = pf["n_admissions_involuntary"].sum()
    adm = invol + pf["n_admissions_voluntary"].sum()
    q["involuntary_share"] = float(invol / adm) if adm else float("nan")
    q["bed_days_per_admission"] = float(pf["bed_days"].sum() / adm) if adm else float("nan")
    q["mean_caseload"] = float(cf["caseload"].mean())
    return q


def trial_metrics(path, names=None):
    """Per-replicate trial metrics of a results file: dict name -> array [R] (NaN dropped)."""
    with io.open_results(path) as f:
        g = f["metrics"]
        names = names or list(g)
        return {n: np.asarray(g[n][...], dtype=float) for n in names}


# ---------------------------------------------------------------------------------------------
# Running the binary
# ---------------------------------------------------------------------------------------------

def _sets(params):
    out = []
    for k, v in (params or {}).items():
        out += ["--set", f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"]
    return out


def run(binary, scenario, out, params=None, extra=(), replicates=None, seed=None):
    """Run ``therasim run`` quietly; returns the output path. Raises RuntimeError on failure."""
    cmd = [binary, "run", os.path.join(REPO, scenario) if not os.path.isabs(scenario) else scenario,
           "-o", out, "--quiet", *_sets(params), *extra]
    if replicates is not None:
        cmd += ["--replicates", str(replicates)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    return out


def trial_results(binary, params=None, replicates=100, workdir=None, scenario=TRIAL_SCENARIO,
                  extra=()):
    """Run the trial scenario (its own seed: common random numbers) and return its metrics."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        out = run(binary, scenario, os.path.join(tmp, "trial.h5"), params, extra, replicates)
        return trial_metrics(out)


SCHIZOPHRENIA_ONLY = {"population.diagnosis.schizophrenia_spectrum": 1, "population.diagnosis.bipolar": 0,
                      "population.diagnosis.severe_depression": 0, "population.diagnosis.personality_disorder": 0,
                      "population.diagnosis.other": 0}


def withdrawal_results(binary, params=None, seed=20260101, n_patients=20000, workdir=None):
    """Leucht's design: schizophrenia, adherence held at 1 and at 0 for a year; among patients
    not in relapse at the start, the share with a relapse. dict withdrawal_on/off -> [1]."""
    out = {}
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for key, held in (("withdrawal_on", 1), ("withdrawal_off", 0)):
            p = {**(params or {}), **SCHIZOPHRENIA_ONLY, "adherence.held_at": held}
            path = run(binary, NATIONAL_SCENARIO, os.path.join(tmp, f"{key}.h5"), p,
                       ["--set", f"population.n_patients={n_patients}", "--set", "time.years=1"], seed=seed)
            with io.open_results(path) as f:
                pb = io.agents(f, "patient", "baseline")
                pf = io.agents(f, "patient", "final")
            at_risk = pb["relapsed"].to_numpy() == 0
            out[key] = np.array([float((pf["n_relapses"].to_numpy()[at_risk] > 0).mean())])
    return out


def national_results(binary, params=None, seeds=(20260101,), n_patients=20000, workdir=None):
    """Run the national scenario for 1 year once per seed; dict key -> array [len(seeds)]."""
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for s in seeds:
            out = run(binary, NATIONAL_SCENARIO, os.path.join(tmp, f"nat_{s}.h5"), params,
                      ["--set", f"population.n_patients={n_patients}", "--set", "time.years=1"],
                      seed=s)
            rows.append(national_quantities(out))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


# ---------------------------------------------------------------------------------------------
# Objectives and fits
# ---------------------------------------------------------------------------------------------

def objective_terms(means, fit=TRIAL_FIT):
    """Weighted squared standardised misses: sum of w * ((mean - value) / scale)^2."""
    total = 0.0
    for key, w in fit:
        t = target(key)
        total += w * ((means[key] - t["value"]) / target_scale(t)) ** 2
    return total


def trial_objective(binary, params, replicates=100, workdir=None):
    """Objective of the trial fit for parameter values ``params`` (dict path -> value).

    Returns (objective, means) with the mean over replicates of each fitted metric.
    """
    m = trial_results(binary, params, replicates, workdir)
    means = {k: float(np.nanmean(m[k])) for k, _ in TRIAL_FIT}
    return objective_terms(means), means


def fit_trial(binary, replicates=100, x0=None, maxfev=60, log=print):
    """Fit :data:`TRIAL_PARAMS` to :data:`TRIAL_FIT` with Nelder-Mead (bounded) and CRN.

    Nelder-Mead because the objective, though smoothed by common random numbers, is still a
    step function at fine scale (a changed probability flips individual Bernoulli draws), so
    finite-difference gradients are unreliable; with three parameters a simplex is cheap.
    """
    names = [p[0] for p in TRIAL_PARAMS]
    bounds = [(p[2], p[3]) for p in TRIAL_PARAMS]
    x0 = np.array(x0 if x0 is not None else [p[1] for p in TRIAL_PARAMS], dtype=float)
    cache = {}

    def fun(x):
        key = tuple(np.round(x, 6))
        if key not in cache:
            params = dict(zip(names, (float(v) for v in np.clip(x, *zip(*bounds)))))
            val, means = trial_objective(binary, params, replicates)
            cache[key] = (val, means)
            log(f"  eval {len(cache):3d}: " + " ".join(f"{n.split('.')[-1]}={v:.4f}"
                for n, v in params.items()) + f"  -> objective {val:.4f}  "
                + " ".join(f"{k}={v:+.3f}" for k, v in means.items()))
        return cache[key][0]

    start_val = fun(x0)
    start_means = cache[tuple(np.round(x0, 6))][1]
    res = optimize.minimize(fun, x0, method="Nelder-Mead", bounds=bounds,
                            options=dict(maxfev=maxfev, xatol=0.005, fatol=0.005,
                                         initial_simplex=_simplex(x0, bounds)))
    best = min(cache.items(), key=lambda kv: kv[1][0])
    xbest = np.array(best[0])
    return dict(names=names, x0=x0, x=xbest, before=start_val, after=best[1][0],
                means_before=start_means, means_after=best[1][1], evaluations=len(cache),
                message=res.message)


TEMPO_FIT = ["tempo_star_p_diff", "tempo_star_c_diff"]
TEMPO_PARAM = ("clinicians.skills_training.star_gain", 0.0, 2.0)


def fit_tempo(binary, params=None, replicates=200, tol=0.002, log=print):
    """Fit ``clinicians.skills_training.star_gain`` so that the mean of the simulated TEMPO
    trials' two STAR differences equals the mean of the published ones (bisection: the
    differences rise with the gain). Returns dict with the value and the simulated means."""
    want = np.mean([target(k)["value"] for k in TEMPO_FIT])

    def means(gain):
        m = trial_results(binary, {**(params or {}), TEMPO_PARAM[0]: gain}, replicates,
                          scenario=TEMPO_SCENARIO)
        out = {"tempo_star_p_diff": float(np.nanmean(m["trial_star_p_diff"])),
               "tempo_star_c_diff": float(np.nanmean(m["trial_star_c_diff"]))}
        log(f"  star_gain {gain:.4f}: STAR-P {out['tempo_star_p_diff']:+.3f}, "
            f"STAR-C {out['tempo_star_c_diff']:+.3f}")
        return out

    lo, hi = TEMPO_PARAM[1], TEMPO_PARAM[2]
    m = means(hi)
    if np.mean(list(m.values())) < want:
        raise RuntimeError(f"{TEMPO_PARAM[0]} = {hi} gives less than the published change")
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        m = means(mid)
        if np.mean(list(m.values())) < want:
            lo = mid
        else:
            hi = mid
    gain = 0.5 * (lo + hi)
    return {"value": gain, "means": means(gain)}


def _simplex(x0, bounds, rel=0.6):
    """Initial simplex: each coordinate moved by 60% of its value (inside its bounds)."""
    pts = [x0]
    for i in range(len(x0)):
        x = x0.copy()
        step = rel * (x0[i] if x0[i] != 0 else bounds[i][1])
        x[i] = x0[i] + step if x0[i] + step <= bounds[i][1] else x0[i] - step
        pts.append(x)
    return np.array(pts)


def fit_star(binary, params=None, seed=20260101, n_patients=20000, log=print):
    """Scale both view-specific bias SDs by one factor so that Spearman STAR-P vs STAR-C after
    1 year is 0.13 (one target, so one free direction; the ratio of the two SDs is kept).
    Brent's method on the scale with a fixed seed (common random numbers)."""
    base = dict(params or {})

    def quantities(s):
        p = dict(base)
        for path, default in STAR_PARAMS:
            p[path] = default * s
        return {k: float(v[0]) for k, v in national_results(binary, p, (seed,), n_patients).items()}

    cache = {}

    def fun(s):
        if s not in cache:
            cache[s] = quantities(s)
            log(f"  scale {s:.4f}: rs 1y {cache[s]['star_spearman_1y']:.4f}, "
                f"start {cache[s]['star_spearman_start']:.4f}")
        return cache[s]["star_spearman_1y"] - target("star_spearman_1y")["value"]

    before = fun(1.0)
    res = optimize.minimize_scalar(lambda s: fun(s) ** 2, bounds=(0.8, 2.5), method="bounded",
                                   options=dict(xatol=0.01, maxiter=20))
    s = float(res.x)
    fun(s)
    return dict(scale=s, values={p: d * s for p, d in STAR_PARAMS}, before=cache[1.0],
                after=cache[s], objective_before=before ** 2, objective_after=fun(s) ** 2)


# ---------------------------------------------------------------------------------------------
# Validation report
# ---------------------------------------------------------------------------------------------

def _interval(x):
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    return float(x.mean()), float(np.quantile(x, 0.025)), float(np.quantile(x, 0.975))


def simulate_all(binary, params=None, trial_replicates=200, seeds=tuple(range(1, 11)),
                 n_patients=20000):
    """Every target's simulated replicates: dict key -> array."""
    m = trial_results(binary, params, trial_replicates)
    mp = trial_results(binary, params, trial_replicates, scenario=TRIAL_PLUS_SCENARIO)
    sims = {k: m[k] for k in ("trial_qol_d", "trial_satisfaction_d", "trial_unmet_needs_d",
                              "trial_problematic_qol_d", "trial_sessions_per_patient",
                              "trial_centres_qol_positive", "trial_centres_needs_significant",
                              "trial_centres_needs_qol_r", "trial_star_p_d")}
    sims["plus_sessions_per_patient"] = mp["trial_sessions_per_patient"]
    mt = trial_results(binary, params, trial_replicates, scenario=TEMPO_SCENARIO)
    sims["tempo_star_p_diff"] = mt["trial_star_p_diff"]
    sims["tempo_star_c_diff"] = mt["trial_star_c_diff"]
    sims["_power_qol"] = m["trial_qol_significant"]
    sims["_power_sat"] = m["trial_satisfaction_significant"]
    sims.update(national_results(binary, params, seeds, n_patients))
    sims.update(withdrawal_results(binary, params, n_patients=n_patients))
    return sims


def _status(t, mean, lo=None, hi=None):
    """inside / outside (of the published interval), within / outside 10% (a point), or, for a
    target scored by ``range``, whether the published value lies inside the simulated 95% range
    (lo, hi): a single trial's result against what the model predicts for such a trial."""
    if not t.get("scored", True):
        return "unscored"
    if t.get("scoring") == "range":
        return "inside range" if lo <= t["value"] <= hi else "outside range"
    if t["interval"] is not None:
        lo, hi = t["interval"]
        return "inside" if lo <= mean <= hi else "outside"
    return "within 10%" if abs(mean - t["value"]) <= 0.1 * abs(t["value"]) else "outside 10%"


#: Statuses that count as meeting a target.
INSIDE = ("inside", "within 10%", "inside range")


def _fmt(x, key):
    return f"{x:.1f}" if key in ("bed_days_per_admission", "mean_caseload") else f"{x:.3f}"


def report(runs, fit_keys, commands, notes=()):
    """Markdown of docs/validation.md. ``runs``: list of (title, params, sims)."""
    lines = ["# Validation against published figures", "",
             "Generated by `tools/validate.sh` (do not edit by hand). Every target of",
             "`calibration-targets.yaml` with its published value, the simulated mean and the 95%",
             "range across replicates, and whether the simulated mean lies inside the published",
             "interval. *fit*: used by `tools/calibrate.sh`; *check*: not fitted. Trial targets:",
             "each replicate is one simulated trial of `scenarios/trials/dialog_2007.yaml` (200",
             "replicates, seed 2007), so the range is that of trial results. National targets: the",
             "agent datasets of 1-year runs of `scenarios/england_no_dialog.yaml` with 20,000",
             "patients, one run per seed (seeds 1-10; agent datasets exist for replicate 0 only).",
             "A point target without interval is marked within or outside 10%.", "",
             "Commands:", "", "```", *commands, "```", ""]
    for title, params, sims in runs:
        lines += [f"## {title}", ""]
        if params:
            lines += ["Parameters: " + ", ".join(f"`{k}` = {v:.4g}" for k, v in params.items()), ""]
        lines += ["| Target | Use | Published | Interval | Simulated mean [95% range] | Status |",
                  "|---|---|---|---|---|---|"]
        n_in = n_tot = 0
        for t in TARGETS:
            mean, lo, hi = _interval(sims[t["key"]])
            st = _status(t, mean, lo, hi)
            n_tot += st != "unscored"
            n_in += st in INSIDE
            use = "fit" if t["key"] in fit_keys else "check"
            iv = (f"{t['interval'][0]:g} to {t['interval'][1]:g} ({t['interval_kind']})"
                  if t["interval"] else t["interval_kind"])
            lines.append(f"| {t['label']} | {use} | {t['value']:g} | {iv} | "
                         f"{_fmt(mean, t['key'])} [{_fmt(lo, t['key'])}, {_fmt(hi, t['key'])}] | "
                         f"{st} |")
        lines += ["", f"{n_in} of {n_tot} scored targets inside (or within 10%). Power of the simulated "
                  f"DIALOG trial: quality of life {np.mean(sims['_power_qol']):.2f}, satisfaction "
                  f"{np.mean(sims['_power_sat']):.2f} (the published trial found both "
                  "significant).", ""]
    lines += ["## Targets without a simulated counterpart", "",
              "| Target | Published | Why not simulated |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in NOT_SIMULATED]
    lines += ["", "## Notes on targets", ""]
    lines += [f"- **{t['label']}** ({t['source']}): {t['note']}." for t in TARGETS if t.get("note")]
    lines += ["", *notes]
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def hypotheses(binary):
    """The declared mechanism hypotheses, in declaration order (read from ``therasim params``)."""
    res = subprocess.run([binary, "params", "--section", "mechanism"], capture_output=True, text=True, check=True)
    for line in res.stdout.splitlines():
        if line.startswith("| `mechanism.hypothesis`"):
            return [h.strip() for h in line.split("|")[4].split(",")]
    raise RuntimeError("therasim params does not list mechanism.hypothesis")


def verdict(runs):
    """Markdown: every scored target's published value against each hypothesis's simulated mean
    with its status, then the quantities on which the hypotheses differ most (in units of the
    largest 95% range half-width). ``runs``: list of (hypothesis, sims)."""
    names = [h for h, _ in runs]
    lines = ["## Hypotheses side by side", "",
             "Each declared hypothesis with the calibrated defaults, the same seeds (common random",
             "numbers): simulated mean and status per target. Counts are of scored targets.", "",
             "| Target | Published | " + " | ".join(f"`{h}`" for h in names) + " |",
             "|---|---|" + "---|" * len(names)]
    inside = {h: 0 for h in names}
    n = 0
    for t in TARGETS:
        if not t.get("scored", True):
            continue
        n += 1
        cells = []
        for h, sims in runs:
            mean, lo, hi = _interval(sims[t["key"]])
            st = _status(t, mean, lo, hi)
            inside[h] += st in INSIDE
            cells.append(f"{_fmt(mean, t['key'])} ({st})")
        lines.append(f"| {t['label']} | {t['value']:g} | " + " | ".join(cells) + " |")
    lines.append("| **Targets inside** | | " + " | ".join(f"**{inside[h]} of {n}**" for h in names) + " |")
    keys = [k for k in runs[0][1] if not k.startswith("_") and all(k in sims for _, sims in runs)]
    spread = []
    for k in keys:
        if min(len(sims[k]) for _, sims in runs) < 2:
            continue  # one run: no range to compare with
        stats_ = [_interval(sims[k]) for _, sims in runs]
        width = max(max(hi - lo for _, lo, hi in stats_) / 2, 1e-12)
        means = [m for m, _, _ in stats_]
        spread.append(((max(means) - min(means)) / width, k, means))
    spread.sort(reverse=True)
    lines += ["", "Where the hypotheses differ most (difference of means over the largest 95% range",
              "half-width; above 1, a set of simulated trials or runs like these tells them apart):", "",
              "| Quantity | " + " | ".join(f"`{h}`" for h in names) + " | Separation |",
              "|---|" + "---|" * len(names) + "---|"]
    for sep, k, means in spread[:8]:
        lines.append(f"| `{k}` | " + " | ".join(f"{m:.3f}" for m in means) + f" | {sep:.2f} |")
    return lines + [""]


#: The parameters set by a fit (tools/calibrate.sh and the notes of docs/validation.md); run's
#: calibration status says when a run changes one, and that its figures are out of date when a
#: default has changed since they were computed.
FITTED_PARAMS = ([p for p, *_ in TRIAL_PARAMS] + [p for p, _ in STAR_PARAMS] + [TEMPO_PARAM[0]] +
                 ["mechanism.qol_effect"])
STATUS_HEADER = os.path.join(REPO, "models", "calibration_status.hpp")


def parameter_defaults(binary):
    """Every parameter's default as ``therasim params`` prints it: dict path -> YAML text."""
    res = subprocess.run([binary, "params"], capture_output=True, text=True, check=True)
    out = {}
    for line in res.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`") and cells[1].endswith("`"):
            out[cells[1].strip("`")] = cells[2]
    return out


def scored_inside(sims):
    """(targets inside or within 10%, scored targets) of one parameter set's simulations."""
    inside = n = 0
    for t in TARGETS:
        st = _status(t, *_interval(sims[t["key"]]))
        n += st != "unscored"
        inside += st in INSIDE
    return inside, n


def status_header(per_hypothesis, defaults):
    """C++ text of models/calibration_status.hpp: per hypothesis (name, sims) the scored
    targets inside and the trial's quality-of-life d; the fitted parameters' defaults."""
    def cstr(x):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    rows = []
    for h, sims in per_hypothesis:
        inside, n = scored_inside(sims)
        rows.append(f"    {{{cstr(h)}, {inside}, {n}, {_interval(sims['trial_qol_d'])[0]:.6g}}},")
    fitted = [f"    {{{cstr(p)}, {cstr(defaults[p])}}}," for p in FITTED_PARAMS]
    return "\n".join([
        "#pragma once",
        "// Generated by tools/validate.sh (therasim_analysis.calibration) with docs/validation.md: do not edit.",
        "// How the calibrated defaults meet the scored targets, per hypothesis, and the fitted parameters'",
        "// defaults the figures were computed with.",
        "",
        "#include <array>",
        "#include <string_view>",
        "",
        "namespace models::calibration {",
        "",
        "struct Hypothesis {",
        "    std::string_view name;",
        "    int inside, scored;",
        "    double trial_qol_d;",
        "};",
        f"inline constexpr double TRIAL_QOL_D_PUBLISHED = {target('trial_qol_d')['value']:g};",
        f"inline constexpr std::array<Hypothesis, {len(rows)}> HYPOTHESES = {{{{",
        *rows,
        "}};",
        "struct Fitted {",
        "    std::string_view path, value;",
        "};",
        f"inline constexpr std::array<Fitted, {len(fitted)}> FITTED_DEFAULTS = {{{{",
        *fitted,
        "}};",
        "",
        "}  // namespace models::calibration",
        ""])


def _parse_sets(items):
    out = {}
    for it in items or []:
        k, v = it.split("=", 1)
        out[k] = float(v)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m therasim_analysis.calibration")
    ap.add_argument("--therasim", default=os.path.join(REPO, "build", "therasim"))
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("fit-trial", help="fit the DIALOG 2007 trial targets")
    a.add_argument("--replicates", type=int, default=100)
    a.add_argument("--maxfev", type=int, default=45)
    b = sub.add_parser("fit-star", help="fit the STAR agreement by scaling the bias SDs")
    b.add_argument("--set", action="append", help="other parameters (e.g. the trial fit)")
    t = sub.add_parser("fit-tempo", help="fit the communication-training effect to TEMPO's STAR changes")
    t.add_argument("--set", action="append", help="other parameters")
    t.add_argument("--replicates", type=int, default=200)
    c = sub.add_parser("validate", help="write docs/validation.md")
    c.add_argument("--set", action="append", help="calibrated values path=value")
    c.add_argument("--out", default=os.path.join(REPO, "docs", "validation.md"))
    c.add_argument("--trial-replicates", type=int, default=200)
    c.add_argument("--seeds", type=int, default=10)
    c.add_argument("--note", action="append", default=[])
    c.add_argument("--no-hypotheses", action="store_true", help="skip the side-by-side run of every hypothesis")
    c.add_argument("--status-out", default=STATUS_HEADER,
                   help="where to write the calibration status run prints (C++ header; '' for none)")
    args = ap.parse_args(argv)
    t0 = time.time()
    if args.cmd == "fit-trial":
        print(f"Fitting {', '.join(p[0] for p in TRIAL_PARAMS)} to "
              f"{', '.join(k for k, _ in TRIAL_FIT)} ({args.replicates} simulated trials, seed "
              "2007 for every evaluation)")
        r = fit_trial(args.therasim, args.replicates, maxfev=args.maxfev)
        print(f"\n{r['evaluations']} evaluations, {time.time() - t0:.0f} s ({r['message']})")
        print("\nParameter                      default   fitted")
        for n, a0, a1 in zip(r["names"], r["x0"], r["x"]):
            print(f"{n:30s} {a0:8.4f} {a1:8.4f}")
        print("\nTarget                   published   before    after")
        for k, _ in TRIAL_FIT:
            print(f"{k:24s} {target(k)['value']:9.3f} {r['means_before'][k]:+8.3f} "
                  f"{r['means_after'][k]:+8.3f}")
        print(f"{'objective':24s} {'':9s} {r['before']:8.3f} {r['after']:8.3f}")
        print("\nsets: " + " ".join(f"--set {n}={v:.4g}" for n, v in zip(r["names"], r["x"])))
    elif args.cmd == "fit-star":
        print("Fitting a common scale of relationship.bias_patient_sd and bias_clinician_sd to "
              "Spearman STAR-P vs STAR-C = 0.13 after 1 year (20,000 patients, seed 20260101)")
        r = fit_star(args.therasim, _parse_sets(args.set))
        print(f"\nscale {r['scale']:.4f} ({time.time() - t0:.0f} s)")
        for p, d in STAR_PARAMS:
            print(f"{p:32s} {d:8.4f} {r['values'][p]:8.4f}")
        for k in ("star_spearman_1y", "star_spearman_start", "or_star_c", "or_star_p"):
            print(f"{k:24s} {target(k)['value']:9.3f} {r['before'][k]:8.3f} {r['after'][k]:8.3f}")
        print(f"{'objective':24s} {'':9s} {r['objective_before']:8.4f} {r['objective_after']:8.4f}")
        print("\nsets: " + " ".join(f"--set {p}={v:.4g}" for p, v in r["values"].items()))
    elif args.cmd == "fit-tempo":
        print(f"Fitting {TEMPO_PARAM[0]} to TEMPO's STAR changes ({args.replicates} simulated "
              "trials, seed 2016 for every evaluation)")
        r = fit_tempo(args.therasim, _parse_sets(args.set), args.replicates)
        for k in TEMPO_FIT:
            print(f"{k:24s} {target(k)['value']:9.3f} {r['means'][k]:+8.3f}")
        print(f"\nsets: --set {TEMPO_PARAM[0]}={r['value']:.3g}  ({time.time() - t0:.0f} s)")
    else:
        params = _parse_sets(args.set)
        seeds = tuple(range(1, args.seeds + 1))
        runs = [("Current defaults", {}, simulate_all(args.therasim, None, args.trial_replicates,
                                                      seeds))]
        if params:
            runs.append(("Calibrated values", params,
                         simulate_all(args.therasim, params, args.trial_replicates, seeds)))
        fit_keys = {k for k, _ in TRIAL_FIT} | set(TEMPO_FIT) | set(STAR_FIT if any(
            p in params for p, _ in STAR_PARAMS) else [])
        cmd = "tools/validate.sh" + "".join(f" --set {k}={v:g}" for k, v in params.items())
        side = []
        if not args.no_hypotheses:
            per = [(h, simulate_all(args.therasim, {**params, "mechanism.hypothesis": h}, args.trial_replicates, seeds))
                   for h in hypotheses(args.therasim)]
            side = verdict(per)
            print("\n".join(side))
        text = report(runs, fit_keys, [cmd], side + NOTES + args.note)
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {args.out} ({time.time() - t0:.0f} s)")
        if not params and args.status_out:
            # The record run's summary quotes: the defaults, per hypothesis where they were run.
            defaults = parameter_defaults(args.therasim)
            per_status = per if not args.no_hypotheses else [(defaults["mechanism.hypothesis"], runs[0][2])]
            with open(args.status_out, "w", encoding="utf-8") as fh:
                fh.write(status_header(per_status, defaults))
            print(f"wrote {args.status_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One self-contained HTML report of a results file, or of a paired comparison of two.

``build_report("rollout.h5", compare="no_dialog.h5", out="report.html")`` writes a single HTML
file that needs nothing else: figures are PNGs embedded as ``data:`` URIs, the style sheet is
inline, there is no script and no external reference, so it opens offline and survives being
e-mailed. Every string taken from a results file is HTML-escaped.

The report is a list of sections (:data:`SECTIONS`). A section is a :class:`Section`: a key, a
title and a function ``build(report) -> str | None`` that returns the section's HTML body (or
``None`` to leave the section out). It reads the files through the :class:`Report` it is given
(open files, provenance, cached paired tables) and uses its helpers (:meth:`Report.figure`,
:meth:`Report.table`, :func:`fmt`, :func:`fmt_interval`, :func:`esc`). Adding a section is one
function::

    def mediation(rep):
        if not rep.is_compare:
            return None
        return "<p>...</p>" + rep.figure(lambda stem: plots.something(rep.a, stem, formats=report.PNG), "Caption")

    report.add_section(report.Section("mediation", "Mediation", mediation), before="scenario")

or, for one report only, ``build_report(..., extra_sections=[Section(...)])`` (inserted before
the appendix: the scenario and the caveats).

Numbers in tables carry their full value in a ``data-value`` attribute (``repr`` of the float),
so the report can be checked or scraped without parsing rounded text.
"""

from __future__ import annotations

import base64
import datetime as _dt
import difflib
import html
import math
import os
import re
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from . import compare as cmp
from . import io, plots
from . import psa as psa_mod

DAYS_PER_YEAR = io.DAYS_PER_YEAR
#: Outcomes drawn over time (when present), in this order.
FIGURE_OUTCOMES = ("mean_qol", "mean_unmet_needs", "engaged", "admissions_involuntary", "bed_days")
#: Outcomes of the subgroup table and forest plot (when present).
SUBGROUP_OUTCOMES = ("mean_qol", "admissions_involuntary", "bed_days", "mean_unmet_needs")
#: Where the model's caveats are read from, relative to this package (analysis/../docs/model.md).
MODEL_DOC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                          "docs", "model.md"))
CAVEATS_HEADING = "Known simplifications"
#: What figures are written as: the report embeds PNGs (pass ``formats=PNG`` to :mod:`plots`).
PNG = ("png",)
DASH = "\u2013"


# --------------------------------------------------------------------------------------------
# Formatting helpers (usable by any section)
# --------------------------------------------------------------------------------------------

def esc(value):
    """HTML-escape any value (quotes included), after turning it into text."""
    return html.escape("" if value is None else str(value), quote=True)


def _finite(x):
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _decimals(magnitude, sig):
    """Decimals that show ``sig`` significant figures of a number of this magnitude."""
    if magnitude == 0 or not math.isfinite(magnitude):
        return 0
    return max(0, sig - 1 - int(math.floor(math.log10(magnitude))))


def fmt(x, sig=3, decimals=None):
    """A number for a table: ``sig`` significant figures, thousands separators, no exponent.

    Integral values are shown without decimals; values of 10**sig and more are rounded to
    integers (``113,944``); very small values use an exponent (``4.77e-11``); NaN is a dash.

    Args:
        x: number.
        sig: significant figures.
        decimals: force this many decimals (used to align an interval with its mean).

    Returns:
        str (plain text; escape it if it could contain anything else).
    """
    if x is None:
        return DASH
    x = float(x)
    if math.isnan(x):
        return DASH
    if math.isinf(x):
        return "\u221e" if x > 0 else "\u2212\u221e"
    if decimals is None:
        if x == int(x) and abs(x) < 1e15:
            decimals = 0
        elif abs(x) < 10 ** -(sig + 1):
            return f"{x:.{sig - 1}e}".replace("-", "\u2212")
        else:
            decimals = _decimals(abs(x), sig)
    text = f"{x:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":          # rounded to zero: drop the sign
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def fmt_interval(mean, lo, hi, sig=3):
    """``mean [lo, hi]`` with the same decimals for all three (``sig`` figures of the largest)."""
    values = [float(v) for v in (mean, lo, hi) if _finite(v)]
    if not values:
        return DASH
    if all(float(v) == int(float(v)) for v in values) and max(abs(v) for v in values) < 1e15:
        d = 0
    else:
        d = _decimals(max(abs(v) for v in values), sig)
        d = min(d, 8)
    m = fmt(mean, sig, d)
    if not (_finite(lo) and _finite(hi)):
        return m
    return f"{m} [{fmt(lo, sig, d)}, {fmt(hi, sig, d)}]"


def _fmt_seconds(s):
    if not _finite(s):
        return DASH
    s = float(s)
    if s < 60:
        return f"{fmt(s)} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{int(m)} min {sec:.0f} s ({fmt(s)} s)"
    h, m = divmod(m, 60)
    return f"{int(h)} h {int(m)} min ({fmt(s)} s)"


@dataclass
class Cell:
    """A table cell: ``text`` shown (escaped), ``value`` kept in ``data-value``, numeric or not."""
    text: str
    value: Optional[float] = None
    numeric: bool = True
    col: Optional[str] = None
    html_text: Optional[str] = None     # pre-built HTML instead of ``text``
    lo: Optional[float] = None          # an interval's limits, kept in data-lo / data-hi
    hi: Optional[float] = None

    def render(self):
        attrs = []
        if self.col:
            attrs.append(f'data-col="{esc(self.col)}"')
        for name, v in (("value", self.value), ("lo", self.lo), ("hi", self.hi)):
            if v is not None and _finite(v):
                attrs.append(f'data-{name}="{float(v)!r}"')
        if self.numeric:
            attrs.append('class="n"')
        body = self.html_text if self.html_text is not None else esc(self.text)
        return f"<td {' '.join(attrs)}>{body}</td>" if attrs else f"<td>{body}</td>"


def num(x, col=None, sig=3):
    """A numeric :class:`Cell` showing ``x`` with ``sig`` figures and keeping its full value."""
    return Cell(fmt(x, sig), x if _finite(x) else None, True, col)


def interval_cell(mean, lo, hi, col=None, sig=3, replicates=None, stacked=False):
    """A :class:`Cell` ``mean [lo, hi]``: ``data-value`` is the mean, ``data-lo``/``data-hi`` the
    limits. With one replicate (``replicates == 1``) only the mean is shown. ``stacked`` puts
    the interval on a second, smaller line (for tables with many columns: they then fit a
    page)."""
    m = mean if _finite(mean) else None
    if replicates == 1:
        return Cell(fmt(mean, sig), m, True, col)
    lo_, hi_ = (lo if _finite(lo) else None), (hi if _finite(hi) else None)
    text_ = fmt_interval(mean, lo, hi, sig)
    if stacked and "[" in text_:
        head, tail = text_.split(" [", 1)
        return Cell(text_, m, True, col, html_text=f'{esc(head)}<br><span class="ci">[{esc(tail)}</span>',
                    lo=lo_, hi=hi_)
    return Cell(text_, m, True, col, lo=lo_, hi=hi_)


def fmt_money(x):
    """An amount of money for a table: 3 significant figures with k or m (``2.77m``, ``\u2212450k``, ``980``)."""
    if not _finite(x):
        return DASH
    x = float(x)
    a = abs(x)
    body = (f"{a / 1e6:,.3g}m" if a < 1e9 else f"{a / 1e6:,.0f}m") if a >= 1e6 else \
        f"{a / 1e3:.3g}k" if a >= 1e3 else f"{a:,.0f}"
    return ("\u2212" if x < 0 and body.strip("0.km") else "") + body


def money_cell(mean, lo, hi, col=None, replicates=None):
    """A stacked interval :class:`Cell` of money (:func:`fmt_money`), full values in its data attributes."""
    m = mean if _finite(mean) else None
    if replicates == 1 or not (_finite(lo) and _finite(hi)):
        return Cell(fmt_money(mean), m, True, col)
    tail = f"[{fmt_money(lo)}, {fmt_money(hi)}]"
    return Cell(f"{fmt_money(mean)} {tail}", m, True, col,
                html_text=f'{esc(fmt_money(mean))}<br><span class="ci">{esc(tail)}</span>', lo=lo, hi=hi)


def text(s, col=None):
    """A text :class:`Cell` (escaped)."""
    return Cell("" if s is None else str(s), None, False, col)


def raw(html_text, col=None, numeric=False, value=None):
    """A :class:`Cell` with HTML built by the caller (escape what goes into it); ``value`` (a
    number) is kept in ``data-value``."""
    return Cell("", value if _finite(value) else None, numeric, col, html_text)


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------

@dataclass
class Section:
    """One section of the report.

    Attributes:
        key: HTML id of the section (letters, digits, ``-``, ``_``).
        title: heading (plain text).
        build: ``build(report) -> str | None``: the section's body as HTML, or ``None`` to
            leave the section out (e.g. a comparison-only section for a single file).
        compare_only: leave the section out unless the report compares two files.
    """
    key: str
    title: str
    build: Callable[["Report"], Optional[str]]
    compare_only: bool = False


class Report:
    """What a section builder gets: the open files, their provenance and helpers.

    Attributes:
        a, b: open results files (``b`` is ``None`` without ``--compare``).
        path_a, path_b: their paths.
        prov_a, prov_b: their provenance (:func:`io.provenance`).
        population: patients national totals are scaled to (``None``: the run's own).
        discount_rate: annual discount rate of the net cost and the cost-effectiveness.
        psa: the probabilistic sensitivity analysis given with ``--psa`` (:class:`psa.Psa`), or None.
        is_compare: True when two files are compared (A = the run, B = ``compare``).
        names: short names of A and B for legends (their scenario names).
        errors: sections that failed, as (key, message).
    """

    def __init__(self, a, b, path_a, path_b, population, tmpdir, model_doc, discount_rate=cmp.DISCOUNT_RATE,
                 psa=None):
        self.a, self.b = a, b
        self.discount_rate = discount_rate
        self.psa = psa
        self.path_a, self.path_b = os.fspath(path_a), (os.fspath(path_b) if path_b is not None else None)
        self.prov_a = io.provenance(a)
        self.prov_b = io.provenance(b) if b is not None else None
        self.population = population
        self.is_compare = b is not None
        self.tmpdir = tmpdir
        self.model_doc = model_doc
        self.errors = []
        self._n_figure = 0
        self._n_table = 0
        self._cache = {}
        self.names = (self.prov_a.get("scenario_name") or "A",
                      (self.prov_b.get("scenario_name") or "B") if self.prov_b else None)
        if self.is_compare and self.names[0] == self.names[1]:
            # the same scenario run twice (e.g. with --set): tell them apart by their file names
            stems = tuple(os.path.splitext(os.path.basename(p))[0] for p in (self.path_a, self.path_b))
            self.names = stems if stems[0] != stems[1] else ("A", "B")

    # cached tables ----------------------------------------------------------------------
    def cached(self, key, make):
        """Compute ``make()`` once per report (shared by sections)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def headline(self):
        """Headline series of A (``headline = 1``), in file order."""
        return self.cached("headline", lambda: [n for n in io.series_names(self.a)
                                                if io.series_info(self.a, n)["headline"]])

    @property
    def effects(self):
        """:func:`compare.paired_effects` of the headline series (all dimensions)."""
        return self.cached("effects", lambda: cmp.paired_effects(self.a, self.b, outcomes=self.headline,
                                                                 population=self.population))

    @property
    def costs(self):
        """:func:`compare.cost_effects`."""
        return self.cached("costs", lambda: cmp.cost_effects(self.a, self.b, population=self.population,
                                                             discount_rate=self.discount_rate))

    @property
    def cost_effectiveness(self):
        """:func:`compare.cost_effectiveness`."""
        return self.cached("ce", lambda: cmp.cost_effectiveness(self.a, self.b, discount_rate=self.discount_rate))

    @property
    def n_patients(self):
        return self.cached("n", lambda: io.n_patients(self.a))

    @property
    def time(self):
        return self.cached("time", lambda: io.time_axis(self.a))

    @property
    def n_years(self):
        return self.time.attrs["n_years"]

    @property
    def replicates(self):
        return int(self.prov_a["replicates"])

    # building blocks --------------------------------------------------------------------
    def figure(self, draw, caption, alt=None, caption_html=None):
        """Draw a figure and embed it as a PNG data URI.

        Args:
            draw: ``draw(stem) -> list of paths`` (any :mod:`plots` function with its other
                arguments bound, best with ``formats=PNG``: other formats are not used); the
                PNG is embedded.
            caption: caption (plain text, escaped).
            alt: alternative text (default: the caption).
            caption_html: caption as HTML built by the caller (instead of ``caption``).

        Returns:
            ``<figure>`` HTML, numbered.
        """
        self._n_figure += 1
        n = self._n_figure
        stem = os.path.join(self.tmpdir, f"figure{n}")
        paths = draw(stem)
        png = [p for p in paths if str(p).endswith(".png")][0]
        with open(png, "rb") as fh:
            data = base64.b64encode(fh.read()).decode("ascii")
        cap = caption_html if caption_html is not None else esc(caption)
        return (f'<figure id="figure-{n}"><img src="data:image/png;base64,{data}" '
                f'alt="{esc(alt or caption or "")}">'
                f'<figcaption><b>Figure {n}.</b> {cap}</figcaption></figure>')

    def table(self, columns, rows, caption=None, table_id=None, caption_html=None, notes=None):
        """An HTML table.

        Args:
            columns: header texts (plain text, escaped); a header ending in ``#`` is right-aligned.
            rows: list of ``(key, [Cell, ...])``; ``key`` goes to ``data-key`` (may be None).
            caption: caption (plain text), numbered "Table N.".
            table_id: HTML id.
            caption_html: caption as HTML (instead of ``caption``).
            notes: a paragraph under the table (plain text).

        Returns:
            HTML.
        """
        self._n_table += 1
        n = self._n_table
        head = "".join(f'<th class="n">{esc(c[:-1])}</th>' if c.endswith("#") else f"<th>{esc(c)}</th>"
                       for c in columns)
        body = []
        for key, cells in rows:
            k = f' data-key="{esc(key)}"' if key is not None else ""
            body.append(f"<tr{k}>" + "".join(c.render() for c in cells) + "</tr>")
        cap = caption_html if caption_html is not None else esc(caption) if caption else ""
        cap = f"<caption><b>Table {n}.</b> {cap}</caption>" if cap else ""
        tid = f' id="{esc(table_id)}"' if table_id else ""
        out = (f'<div class="tablewrap"><table{tid}>{cap}<thead><tr>{head}</tr></thead>'
               f'<tbody>{"".join(body)}</tbody></table></div>')
        if notes:
            out += f'<p class="note">{esc(notes)}</p>'
        return out


_SECTION_ERROR = "This section could not be built"


class ReportWarning(UserWarning):
    """A section of the report could not be built (the report says so in its place)."""


# ---- summary ------------------------------------------------------------------------------

def _run_facts(h):
    """Facts of one run for the summary, read from the file."""
    prov = io.provenance(h)
    t = io.time_axis(h)
    dims = io.dimensions(h)
    n = io.n_patients(h)
    n_clin = int(io._attr(h["agents/clinician"], "count", 0)) if "agents/clinician" in h else None
    facts = {"name": prov.get("scenario_name"), "description": (prov.get("scenario_description") or "").strip(),
             "patients": n, "clinicians": n_clin, "regions": dims.get("region", []),
             "n_years": t.attrs["n_years"], "step_days": t.attrs["step_days"], "steps": len(t) - 1,
             "replicates": prov.get("replicates"), "seed": prov.get("seed")}
    names = io.series_names(h)
    if "clinicians_dialog_trained" in names:
        trained = h["series/national/clinicians_dialog_trained"][...]
        facts["dialog_max"] = float(np.mean(trained.max(axis=1)))
        first = np.argmax(trained > 0, axis=1).astype(float)
        first[~(trained > 0).any(axis=1)] = np.nan
        facts["dialog_first_year"] = (float(np.nanmean(t["day"].to_numpy()[first[~np.isnan(first)].astype(int)]))
                                      / DAYS_PER_YEAR if np.isfinite(first).any() else None)
    if "dialog_sessions" in names:
        facts["dialog_sessions"] = float(h["series/national/dialog_sessions"][...][:, 1:].sum(axis=1).mean())
    return facts


def _run_sentence(f):
    regions = f["regions"]
    reg = (f"{len(regions)} region{'s' if len(regions) != 1 else ''} ({', '.join(regions)})"
           if len(regions) <= 8 else f"{len(regions)} regions")
    years = f["n_years"]
    step = f["step_days"]
    step_text = "weekly steps" if abs(step - 7) < 1e-9 else f"steps of {fmt(step)} days"
    clin = f" and {f['clinicians']:,} care coordinator posts" if f.get("clinicians") else ""
    s = (f"{f['patients']:,} patients{clin} in {reg}, over {fmt(years)} year{'s' if years != 1 else ''} "
         f"in {step_text} ({f['steps']} steps), {f['replicates']} replicate{'s' if f['replicates'] != 1 else ''} "
         f"from seed {f['seed']}.")
    if f.get("dialog_max") is not None:
        if f["dialog_max"] > 0:
            first = f.get("dialog_first_year")
            when = f" from year {fmt(first, 2)}" if first is not None else ""
            s += (f" DIALOG: up to {fmt(f['dialog_max'])} care coordinators used it{when}"
                  + (f", delivering {fmt(f.get('dialog_sessions'))} sessions"
                     f"{' (mean over replicates)' if f['replicates'] != 1 else ''}" if f.get("dialog_sessions") else "")
                  + ".")
        else:
            s += " No care coordinator used DIALOG."
    return s


def section_summary(rep):
    fa = rep.cached("facts_a", lambda: _run_facts(rep.a))
    parts = [f"<p><b>{esc(fa['name'])}</b> ({esc(os.path.basename(rep.path_a))}). {esc(fa['description'])}</p>"]
    para = f"The run simulated {esc(_run_sentence(fa))}"
    if rep.is_compare:
        fb = rep.cached("facts_b", lambda: _run_facts(rep.b))
        para += (f" It is compared with <b>{esc(fb['name'])}</b> ({esc(os.path.basename(rep.path_b))}): "
                 f"{esc(_run_sentence(fb))} Both runs share their seed, so replicate r of one is paired "
                 f"with replicate r of the other; because the runs share every random number that what "
                 f"differs between them does not change (common random numbers), the paired differences "
                 f"A \u2212 B are the effect of that difference, not noise. Effects are given as the mean "
                 f"of the paired differences over replicates and their 95% interval (2.5% and 97.5% "
                 f"quantiles).")
    elif fa["replicates"] and fa["replicates"] > 1:
        para += " Values are means over replicates with 95% intervals (2.5% and 97.5% quantiles)."
    else:
        para += " With one replicate there are no intervals: every value is one simulated history."
    parts.append(f"<p>{para}</p>")
    if not rep.is_compare:
        parts.append('<p class="note">Add <code>--compare OTHER.h5</code> (a run of the comparison '
                     'scenario with the same seed) for effects, subgroups and costs.</p>')
    return "".join(parts)


# ---- findings -----------------------------------------------------------------------------

#: Fewer replicates than this get a warning: their 95% limits are little more than the extremes.
MIN_REPLICATES = 10


def money(x):
    """An amount of money for a sentence: ``GBP 1.23m``, ``GBP 456k``, ``GBP 789`` (3 figures, no sign)."""
    return f"GBP {fmt_money(abs(float(x)))}"


def _amount(x, kind):
    """A count (integer, separators) or a level's change (3 significant figures), no sign."""
    x = abs(float(x))
    return f"{x:,.0f}" if kind == "flow" else fmt(x)


def _direction(x, kind):
    if kind == "flow":
        return "more" if x > 0 else "fewer"
    return "higher" if x > 0 else "lower"


def _signed_words(x, kind):
    """``1,234 fewer`` / ``0.05 higher`` / ``no change``."""
    if float(x) == 0 or fmt(abs(x)) == "0":
        return "no change"
    return f"{_amount(x, kind)} {_direction(x, kind)}"


def _interval_words(lo, hi, kind, replicates):
    if replicates == 1:
        return "one run: no interval"
    if (lo > 0) == (hi > 0) and lo != 0 and hi != 0:
        # both limits on one side: "12 to 30 fewer"
        a, b = sorted((abs(lo), abs(hi)))
        return f"95% interval {_amount(a, kind)} to {_amount(b, kind)} {_direction(hi, kind)}"
    return f"95% interval {_signed_words(lo, kind)} to {_signed_words(hi, kind)}"


def finding_sentence(row, names, n_years):
    """One finding in words, e.g. ``Involuntary admissions (detentions): 1,234 fewer over 5 years
    (95% interval 1,000 to 1,400 fewer), 3.2% of the 38,100 without the change.``"""
    kind = row["kind"]
    what = f"over {fmt(n_years)} year{'s' if n_years != 1 else ''}" if kind == "flow" else \
        f"at the end of year {fmt(n_years)}"
    name = row["name"] if kind == "flow" else f"{row['name']} ({row['unit']})"
    words = _signed_words(row["effect_mean"], kind)
    s = f"{name}: {words} {what} " \
        f"({_interval_words(row['effect_q025'], row['effect_q975'], kind, row['replicates'])})"
    if kind == "flow" and row["b_mean"] > 0 and words != "no change":
        s += (f", {fmt(abs(row['effect_mean']) / row['b_mean'] * 100, 2)}% of the "
              f"{row['b_mean']:,.0f} in {names[1]}")
    elif kind == "level":
        s += f"; {fmt(row['a_mean'])} against {fmt(row['b_mean'])}"
    return s + "."


def _validation_status(path):
    """(summary sentence, DIALOG 2007 quality-of-life row) from docs/validation.md, or Nones."""
    try:
        with open(path, encoding="utf-8") as fh:
            text_ = fh.read()
    except OSError:
        return None, None
    summary = re.search(r"^(\d+) of (\d+) scored targets inside[^.\n]*", text_, re.M)
    qol = None
    for line in text_.splitlines():
        if line.startswith("| DIALOG 2007: quality of life (MANSA), d"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 6:
                qol = {"published": cells[2], "interval": cells[3], "simulated": cells[4], "status": cells[5]}
            break
    return (summary.group(0) if summary else None), qol


def _parameter_sources(path):
    """(parameters with a source, guesses among them, cost parameters that are guesses) from
    docs/parameters.md, or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    sourced, guesses, cost_guesses = 0, 0, []
    for line in lines:
        m = re.match(r"^\| `([^`]+)` \|", line)
        if not m:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        source = cells[5] if len(cells) > 5 else ""
        if not source:
            continue          # a setting (seed, output, ...), not a model parameter
        sourced += 1
        if "guess" in source.lower():
            guesses += 1
            if m.group(1).startswith("costs.") or ".cost" in m.group(1):
                cost_guesses.append(m.group(1))
    return sourced, guesses, cost_guesses


def _rests_on(rep, ce_rate):
    """The box "What these numbers rest on": uncertainty included, calibration, guesses, costs."""
    r = rep.replicates
    items = []
    if r == 1:
        items.append("<b>Uncertainty:</b> one run, so no intervals: every number is one simulated history. "
                     "Rerun both scenarios with <code>--replicates 40</code> (the same seed) for intervals.")
    else:
        items.append(f"<b>Uncertainty included:</b> the 95% intervals are the 2.5% and 97.5% quantiles of "
                     f"{r} paired replicates, so they include the simulation's chance variation only. They do "
                     f"<b>not</b> include the uncertainty in the model's parameters, which is larger.")
    if rep.psa is not None:
        top = psa_mod.drivers(rep.psa, "detentions").head(3)
        s = psa_mod.summary(rep.psa, "detentions")
        items.append(f"<b>Parameters that move the answer most</b> (probabilistic sensitivity analysis, "
                     f"{s['draws']} draws; rank correlation with the net benefit at GBP {s['wtp']:,.0f} per "
                     f"detention avoided): "
                     + "; ".join(f"<code>{esc(r.parameter)}</code> {fmt(r.rho_inb, 2)}"
                                 + (" (a guess)" if "guess" in r.distribution else "") for r in top.itertuples())
                     + f". Over the parameters' uncertainty the rollout is dominant in {s['share_dominant']:.0%} of "
                       f"the draws (section Parameter uncertainty).")
    else:
        items.append("<b>Parameters that move the answer most:</b> not assessed in this report (no "
                     "probabilistic sensitivity analysis was given: run scenarios/psa/england_rollout_psa.yaml "
                     "and pass it with <code>--psa</code>).")
    docs = os.path.dirname(rep.model_doc)          # validation.md and parameters.md sit beside model.md
    summary, qol = _validation_status(os.path.join(docs, "validation.md"))
    if summary:
        k, total = re.match(r"(\d+) of (\d+)", summary).groups()
        cal = (f"<b>Calibration:</b> the model reproduces {k} of the {total} published figures it is checked "
               f"against (inside their interval, or within 10% of a point value; docs/validation.md).")
        if qol:
            cal += (f" The simulated DIALOG 2007 trial's effect on quality of life: d = {esc(qol['simulated'])} "
                    f"against the published {esc(qol['published'])} ({esc(qol['interval'])}).")
        items.append(cal)
    else:
        items.append("<b>Calibration:</b> unknown here (docs/validation.md could not be read).")
    src = _parameter_sources(os.path.join(docs, "parameters.md"))
    if src:
        sourced, guesses, costs = src
        items.append(f"<b>Guesses:</b> {guesses} of the model's {sourced} parameters are guesses in whole or "
                     f"in part (docs/parameters.md), among them {len(costs)} unit cost"
                     f"{'s' if len(costs) != 1 else ''} ({', '.join(f'<code>{esc(c)}</code>' for c in costs)}).")
    price_year = io.scenario_value(io.scenario(rep.a), "costs.price_year")
    items.append(f"<b>Costs:</b> perspective of the {esc(cmp.PERSPECTIVE)}; "
                 + (f"{esc(price_year)} prices; " if price_year is not None else "price year not stated; ")
                 + f"costs and counted events discounted at {ce_rate * 100:g}% a year in the net cost and the "
                 f"cost-effectiveness (the NICE reference case), undiscounted figures beside them.")
    pop, n, scaled = _national_note(rep)
    items.append(f"<b>Scale:</b> national totals scale the run's {n:,} patients to {pop:,}." if scaled else
                 f"<b>Scale:</b> totals are those of the run's {n:,} patients (pass <code>--population</code> "
                 f"to scale them to a national total).")
    out = '<div class="rests"><h3>What these numbers rest on</h3><ul>' + "".join(
        f"<li>{i}</li>" for i in items) + "</ul></div>"
    if 1 < r < MIN_REPLICATES:
        out = (f'<p class="warning"><b>Only {r} replicates.</b> With fewer than {MIN_REPLICATES} the 95% '
               f'limits are little more than the most extreme runs; rerun both scenarios with '
               f'<code>--replicates 40</code> for limits that hold still.</p>') + out
    return out


def section_findings(rep):
    h = rep.cached("horizon", lambda: cmp.horizon_effects(rep.a, rep.b, population=rep.population))
    net = rep.cached("net", lambda: cmp.net_cost_summary(rep.a, rep.b, population=rep.population,
                                                         discount_rate=rep.discount_rate))
    n_years = rep.n_years
    a_name, b_name = rep.names
    pop, n, scaled = _national_note(rep)
    where = "nationally" if scaled else "in the run"
    lead = (f"<p class=\"lead\">{esc(a_name)} compared with {esc(b_name)}, over {fmt(n_years)} years, "
            f"{where} ({pop:,} patients):</p>")
    items = [f"<li>{esc(finding_sentence(row, rep.names, n_years))}</li>" for _, row in h.iterrows()]
    m, lo, hi = net["discounted"]
    um = net["undiscounted"][0]
    r = rep.replicates
    cost = (f"Net cost to the NHS and social services: {money(m)} {'more' if m > 0 else 'less'} over "
            f"{fmt(n_years)} years, discounted at {net['discount_rate'] * 100:g}% a year ("
            + ("one run: no interval" if r == 1 else
               f"95% interval {money(lo)} {'more' if lo > 0 else 'less'} to {money(hi)} {'more' if hi > 0 else 'less'}")
            + f"); {money(um)} {'more' if um > 0 else 'less'} undiscounted"
            + (f"; {net['price_year']} prices" if net["price_year"] is not None else "") + ".")
    items.append(f"<li><b>{esc(cost)}</b></li>")
    be = net["break_even_year"]
    items.append("<li>" + esc(f"It pays for itself from year {be}: from then on the cumulative discounted "
                              f"net cost is at or below zero." if be is not None else
                              f"It does not pay for itself within the {fmt(n_years)} years: the cumulative "
                              f"discounted net cost is above zero at the end.") + "</li>")
    ce = rep.cost_effectiveness.set_index("benefit")
    for key in ("involuntary_admissions_avoided", "admissions_avoided", "qol_gained"):
        if key in ce.index:
            items.append(f"<li>{esc(_ce_sentence(ce.loc[key]))}</li>")
    return lead + "<ul class=\"findings\">" + "".join(items) + "</ul>" + _rests_on(rep, rep.discount_rate)


def _ce_sentence(x):
    """Cost-effectiveness in words, never as a negative ratio."""
    what = x["benefit_label"]
    if x["verdict"] == "dominant":
        return (f"Per {what}: dominant, it saves money and gains (discounted), in "
                f"{fmt(x['share_dominant'] * 100, 2)}% of the replicates.")
    if x["verdict"] == "dominated":
        return f"Per {what}: dominated, it costs more and does worse (discounted)."
    if x["verdict"] == "no difference":
        return f"Per {what}: no difference in benefit."
    if x["verdict"] == "saves, loses":
        return (f"Per {what}: it saves {money(x['ratio'])} for each one lost ({x['ratio_unit']}, discounted).")
    ratio = f"{money(x['ratio'])}"
    iv = (f" (95% interval {money(x['ratio_q025'])} to {money(x['ratio_q975'])})"
          if _finite(x["ratio_q025"]) and x["replicates"] > 1 else "")
    return f"It costs {ratio}{iv} per {what} ({x['ratio_unit']}, discounted costs and events)."


# ---- provenance ---------------------------------------------------------------------------

PROVENANCE_FIELDS = (
    ("Scenario", "scenario_name"), ("Description", "scenario_description"),
    ("Scenario file", "scenario_file"), ("Files read (base first)", "scenario_chain"),
    ("Seed", "seed"), ("Replicates", "replicates"), ("Threads", "threads"),
    ("therasim version", "therasim_version"), ("Source commit", "git_commit"),
    ("Start time (UTC)", "start_time"), ("Wall time", "wall_time_s"), ("Results file", "path"),
)


def _prov_value(p, key):
    v = p.get(key)
    if key == "wall_time_s":
        return esc(_fmt_seconds(v))
    if key == "replicates":
        done = p.get("done") or []
        extra = "" if all(done) else f" ({sum(done)} complete)"
        return esc(f"{v}{extra}")
    if key == "scenario_description":
        return esc((v or "").strip())
    return f"<code>{esc(v)}</code>" if key in ("scenario_file", "scenario_chain", "git_commit", "path") else esc(v)


def section_provenance(rep):
    provs = [rep.prov_a] + ([rep.prov_b] if rep.is_compare else [])
    cols = ["", "A (the run)", "B (compared with)"] if rep.is_compare else ["", "Value"]
    rows = []
    for label, key in PROVENANCE_FIELDS:
        cells = [text(label)] + [raw(_prov_value(p, key), col=key,
                                     value=p.get(key) if key in ("replicates", "threads", "wall_time_s")
                                     else None) for p in provs]
        rows.append((key, cells))
    out = rep.table(cols, rows, caption="What was run: enough to reproduce it (the scenario file "
                    "chain, the seed and the program's version; the fully resolved scenario is in the "
                    "appendix).", table_id="provenance")
    dirty = [p["git_commit"] for p in provs if str(p.get("git_commit", "")).endswith("-dirty")]
    if dirty:
        out += (f'<p class="note">The program was built from a source tree with uncommitted changes '
                f'(<code>{esc(dirty[0])}</code>): the commit alone does not reproduce it.</p>')
    return out


# ---- headline outcomes --------------------------------------------------------------------

def final_year_values(h, name):
    """Per-replicate value of a national series in the final year: a flow summed over the year's
    steps, a level at its last step.

    Args:
        h: open results file.
        name: series name.

    Returns:
        (array [R], series info).
    """
    info = io.series_info(h, name)
    t = io.time_axis(h)
    v = h[f"series/national/{name}"][...][:, :, None].astype(float)
    per = cmp.by_period(v, t["year"], t.attrs["n_years"], info["kind"])
    return per[:, t.attrs["n_years"] - 1, 0], info


def section_headline(rep):
    files = [("A", rep.a)] + ([("B", rep.b)] if rep.is_compare else [])
    n_years = rep.n_years
    t = rep.time
    last = t[t["year"] == n_years]
    day0, day1 = float(last["day"].iloc[0]) - t.attrs["step_days"], float(last["day"].iloc[-1])
    r = rep.replicates
    cols = ["Outcome", "Unit", "Over the year"]
    for tag, _ in files:
        name = rep.names[0 if tag == "A" else 1]
        cols += [f"{name}: start#", f"{name}: year {n_years}" + ("#" if r == 1 else
                 " mean [95% interval]#")]
    rows = []
    for name in rep.headline:
        info = io.series_info(rep.a, name)
        cells = [text(info["label"]), text(info["unit"]),
                 text("sum" if info["kind"] == "flow" else "at the end")]
        for tag, h in files:
            vals, _ = final_year_values(h, name)
            start = h[f"series/national/{name}"][:, 0].astype(float)
            cells.append(num(np.mean(start), col=f"{tag}_start") if info["kind"] == "level"
                         else text(DASH, col=f"{tag}_start"))
            m, lo, hi = cmp.interval(vals)
            cells.append(interval_cell(m, lo, hi, col=f"{tag}_final", replicates=r))
        rows.append((name, cells))
    cap = (f"Headline outcomes in year {n_years} (days {fmt(day0)}{DASH}{fmt(day1)}), all patients: a "
           f"count or cost (a flow) is summed over the year's steps, a level is its value at the year's "
           f"end; 'start' is the level at step 0. ")
    cap += ("One replicate: one simulated history, no interval." if r == 1 else
            f"Mean over {r} replicates and the 2.5% and 97.5% quantiles of the replicates' values.")
    return rep.table(cols, rows, caption=cap, table_id="headline")


# ---- paired effects -----------------------------------------------------------------------

def _national_note(rep):
    e = rep.effects
    pop, n = e.attrs["population"], e.attrs["n_patients"]
    return pop, n, pop != n


def _outcomes(rep):
    """Headline series that are outcomes (costs are in their own section)."""
    return [n for n in rep.headline if not str(io.series_info(rep.a, n)["unit"]).startswith("GBP")]


def section_effects(rep):
    e = rep.effects
    pop, n, scaled = _national_note(rep)
    periods = cmp.period_names(rep.n_years)
    horizon = periods[-1]
    nat = e[e["dimension"] == "national"]
    a_name, b_name = rep.names
    r = rep.replicates
    # the whole horizon
    cols = ["Outcome (unit)", f"{a_name}#", f"{b_name}#", "A \u2212 B#", "A \u2212 B per 1,000 patients#"]
    if scaled:
        cols.append(f"A \u2212 B, national ({pop:,} patients)#")
    rows = []
    for name in _outcomes(rep):
        d = nat[(nat["outcome"] == name) & (nat["period"] == horizon)]
        if d.empty:
            continue
        x = d.iloc[0]
        cells = [text(f"{x['label']} ({x['unit']})"), num(x["a_mean"], "a_mean"), num(x["b_mean"], "b_mean"),
                 interval_cell(x["effect_mean"], x["effect_q025"], x["effect_q975"], "effect_mean",
                               replicates=r, stacked=True),
                 interval_cell(x["per_1000_mean"], x["per_1000_q025"], x["per_1000_q975"], "per_1000_mean",
                               replicates=r, stacked=True)]
        if scaled:
            cells.append(interval_cell(x["national_mean"], x["national_q025"], x["national_q975"],
                                       "national_mean", replicates=r, stacked=True))
        rows.append((name, cells))
    note = (f"National totals scale the run's {n:,} patients to {pop:,}." if scaled else
            f"Totals are those of the run ({n:,} patients); pass --population to scale them to a national "
            f"total.")
    h = rep.cached("horizon", lambda: cmp.horizon_effects(rep.a, rep.b, population=rep.population))
    chart = rep.figure(lambda stem: plots.horizon_chart(h, stem, formats=PNG),
                       f"The findings over {horizon} as changes relative to {b_name}: counts summed over the "
                       f"horizon, levels at its end; mean of the paired differences and "
                       + ("their 95% interval. " if r > 1 else "one run (no interval). ")
                       + "Green: better for patients, red: worse.")
    out = chart + rep.table(cols, rows, table_id="effects-horizon",
                    caption=f"Paired effects A \u2212 B over {horizon}, all patients ({r} paired replicates): "
                            f"counts summed over the horizon, levels at its end; A and B are means over "
                            f"replicates, A \u2212 B the mean of the paired differences"
                            + ("" if r == 1 else " and, under it, their 95% interval")
                            + f". Counts are also given per 1,000 patients (patients at the start). {note}")
    # by year: one row per outcome, the periods as columns, intervals under the means
    measure = "national" if scaled else "effect"
    cols = ["Outcome (unit)"] + [f"{p}#" for p in periods]
    rows = []
    for name in _outcomes(rep):
        d = nat[nat["outcome"] == name].set_index("period")
        if d.empty:
            continue
        x0 = d.iloc[0]
        prefix = measure if x0["stat"] == "sum" or np.isfinite(d["per_1000_mean"]).any() else "effect"
        cells = [text(f"{x0['label']} ({x0['unit']})")]
        for p in periods:
            cells.append(interval_cell(d.loc[p, f"{prefix}_mean"], d.loc[p, f"{prefix}_q025"],
                                       d.loc[p, f"{prefix}_q975"], col=f"{prefix}:{p}", replicates=r,
                                       stacked=True))
        rows.append((name, cells))
    out += rep.table(cols, rows, table_id="effects-by-year",
                     caption=f"Paired effects A \u2212 B by year and over the whole horizon ({horizon}): a "
                             f"count is summed over the year"
                             + (f" and scaled to {pop:,} patients" if scaled else "")
                             + f", a level is its value at the year's end; mean over replicates"
                             + ("." if r == 1 else " and, under it, the 95% interval."))
    return out


def section_subgroups(rep):
    e = rep.effects
    outcomes = [o for o in SUBGROUP_OUTCOMES if o in set(e["outcome"])]
    if not outcomes:
        return None
    horizon = cmp.period_names(rep.n_years)[-1]
    fig = rep.figure(lambda stem: plots.forest(e, stem, outcomes=outcomes[:3], period=horizon, formats=PNG),
                     f"Paired effects A \u2212 B over {horizon} by region and baseline severity subgroup: "
                     + ("mean (dot) and 95% interval over replicates (line). " if rep.replicates > 1 else
                        "one replicate. ")
                     + "Counts are per 1,000 patients "
                     "of the subgroup; means are in their own unit. All patients in black, regions in "
                     "blue, severity subgroups in red.")
    sub = e[(e["period"] == horizon) & e["outcome"].isin(outcomes)]
    cols = ["Outcome", "Subgroup", "Patients#", "A \u2212 B mean [95% interval]#", "Per 1,000 patients#"]
    rows = []
    for name in outcomes:
        d = sub[sub["outcome"] == name]
        for k, x in enumerate(d.itertuples()):
            group = ("All patients" if x.dimension == "national" else
                     f"{'Region' if x.dimension == 'region' else 'Severity'}: {x.group}")
            rows.append((f"{name}:{x.dimension}:{x.group}",
                         [text(f"{x.label} ({x.unit})" if k == 0 else ""), text(group), num(x.patients, "patients"),
                          interval_cell(x.effect_mean, x.effect_q025, x.effect_q975, "effect_mean"),
                          interval_cell(x.per_1000_mean, x.per_1000_q025, x.per_1000_q975, "per_1000_mean")]))
    tab = rep.table(cols, rows, table_id="subgroups",
                    caption=f"Effects by subgroup over {horizon}. Regions and baseline severity bands "
                            f"combine both arms (DIALOG exposure is not randomised); subgroups are small "
                            f"in small runs, so read their intervals before their means.")
    return fig + tab


def section_costs(rep):
    c = rep.costs
    pop, n, scaled = _national_note(rep)
    periods = cmp.period_names(rep.n_years)
    horizon = periods[-1]
    r = rep.replicates
    prefix = "national" if scaled else "effect"
    price_year = c.attrs.get("price_year")
    rate = c.attrs["discount_rate"]
    und, dis = c[~c["discounted"]], c[c["discounted"]]
    cols = [f"Change in cost, A \u2212 B ({und.iloc[0]['unit']})"] + [f"{p}#" for p in periods] + \
        [f"{horizon}, discounted at {fmt(rate * 100)}%#"]
    rows = []
    for item in und["item"].unique():
        d = und[und["item"] == item].set_index("period")
        dd = dis[dis["item"] == item].set_index("period")
        label = d.iloc[0]["label"]
        cells = [raw(f"<b>{esc(label)}</b>") if item in ("net_cost", "intervention_cost", "service_cost")
                 else raw(f"&nbsp;&nbsp;{esc(label)}")]
        for p in periods:
            cells.append(money_cell(d.loc[p, f"{prefix}_mean"], d.loc[p, f"{prefix}_q025"],
                                    d.loc[p, f"{prefix}_q975"], col=f"{prefix}:{p}", replicates=r))
        cells.append(money_cell(dd.loc[horizon, f"{prefix}_mean"], dd.loc[horizon, f"{prefix}_q025"],
                                dd.loc[horizon, f"{prefix}_q975"], col=f"{prefix}:discounted", replicates=r))
        rows.append((item, cells))
    unit = und.iloc[0]["unit"]
    out = rep.table(cols, rows, table_id="costs",
                    caption=f"Costs of A relative to B by category, {unit}"
                            + (f" at {price_year} prices" if price_year is not None else "")
                            + (f", national ({pop:,} patients)" if scaled else f", in the run ({n:,} patients)")
                            + f", from the perspective of the {cmp.PERSPECTIVE}. Every row is A \u2212 B: "
                              f"positive when A costs more, negative when it saves. Years undiscounted; the last "
                              f"column discounts year y by 1/(1 + {rate:g})^(y \u2212 1). Mean over replicates"
                            + ("." if r == 1 else " and, under it, the 95% interval."))
    out += rep.figure(lambda stem: plots.net_cost_curve(rep.a, rep.b, stem, population=rep.population,
                                                        discount_rate=rate, formats=PNG),
                      f"Cumulative net cost of A over B since the start ({pop:,} patients): discounted at "
                      f"{rate * 100:g}% a year (mean" + (" and 95% interval" if r > 1 else "") + ") and undiscounted "
                      f"(dashed); dotted lines mark DIALOG's training waves. Where the curve stays below zero, A has "
                      f"paid for itself.")
    ce = rep.cost_effectiveness
    cols = ["Benefit of A over B", "Benefit [95% interval]#", "Net cost (discounted)#", "Verdict",
            "Cost per unit of benefit#"]
    rows = []
    for x in ce.itertuples():
        verdict = {"dominant": "dominant: saves money and gains", "dominated": "dominated: costs more, does worse",
                   "costs more, gains": "costs more and gains", "saves, loses": "saves money and loses",
                   "no difference": "no difference"}[x.verdict]
        ratio = (raw(esc(f"{money(x.ratio)} {x.ratio_unit[len('GBP '):] if x.ratio_unit.startswith('GBP ') else x.ratio_unit}"),
                     col="ratio", numeric=True, value=x.ratio)
                 if _finite(x.ratio) else text(DASH, col="ratio"))
        rows.append((x.benefit, [text(f"{x.benefit_label[:1].upper()}{x.benefit_label[1:]} ({x.benefit_unit})"),
                                 interval_cell(x.benefit_mean, x.benefit_q025, x.benefit_q975, "benefit_mean",
                                               replicates=r, stacked=True),
                                 Cell(f"{fmt_money(x.net_cost_mean)} {x.net_cost_unit}", x.net_cost_mean, True,
                                      "net_cost_mean"),
                                 text(verdict + (f" ({x.note})" if x.note else ""), col="verdict"), ratio]))
    out += rep.table(cols, rows, table_id="cost-effectiveness",
                     caption=f"Cost-effectiveness over {horizon}, in the run ({n:,} patients): the discounted net "
                             f"cost against each benefit. A count is summed over the horizon, each year "
                             f"discounted like the costs; a mean (quality of life, unmet needs) is the change at "
                             f"the end, against the net cost per 1,000 patients. A cost per unit of benefit is "
                             f"given only when A costs more and gains (or saves and loses); a dominant A (saves "
                             f"and gains) needs no ratio.")
    return out


def section_uncertainty(rep):
    p = rep.psa
    if p is None:
        return None
    parts = []
    lead = (f"<p>A probabilistic sensitivity analysis: {len(p.draws)} draws of {len(p.parameters)} uncertain "
            f"parameters from their distributions (docs/parameters.md, column Uncertainty (PSA)), each draw run "
            f"for the intervention and its comparator on the same random numbers ({p.replicates} replicate"
            f"{'s' if p.replicates != 1 else ''} each), {p.population:,} patients, costs and counted events "
            f"discounted at {p.discount_rate * 100:g}% a year"
            + (f", {esc(p.price_year)} prices" if p.price_year is not None else "") + ". "
            f"{sum('guess' in d for d in p.distributions)} of the {len(p.parameters)} distributions are guesses.</p>")
    parts.append(lead)
    rows = []
    for key in psa_mod.BENEFITS:
        if p.draws[key].isna().all():
            continue
        s = psa_mod.summary(p, key)
        m, lo, hi = s["net_cost"]
        em, elo, ehi = s["benefit_value"]
        rows.append((key, [text(s["whats"][:1].upper() + s["whats"][1:]),
                           Cell(f"{fmt_money(m)} [{fmt_money(lo)}, {fmt_money(hi)}]", m, True, "net_cost", lo=lo, hi=hi),
                           Cell(fmt_interval(em, elo, ehi), em, True, "benefit", lo=elo, hi=ehi),
                           num(s["share_dominant"] * 100, "share_dominant", 2),
                           text(f"GBP {s['wtp']:,.0f}", "wtp"),
                           num(s["p_cost_effective"] * 100, "p_cost_effective", 2),
                           Cell(fmt_money(s["evpi"]), s["evpi"], True, "evpi")]))
    parts.append(rep.table(["Benefit", "Net cost, GBP (95% of draws)#", "Benefit (95% of draws)#",
                            "Draws dominant, %#", "Willingness to pay per unit", "Probability cost-effective, %#",
                            "EVPI, GBP#"], rows, table_id="psa",
                           caption="Over the parameters' uncertainty: the net cost and the benefit of the intervention "
                                   "over its comparator (mean over draws and the 2.5% and 97.5% quantiles of the "
                                   "draws), the share of draws in which it saves money and gains, and at one "
                                   "willingness to pay per unit of benefit (an illustration, not a threshold) the "
                                   "probability that it is cost-effective and the expected value of perfect "
                                   "information over the horizon for the population."))
    parts.append(rep.figure(lambda stem: psa_mod.ce_plane(p, stem, "detentions", formats=PNG),
                            "The cost-effectiveness plane: one point per parameter draw (intervention \u2212 "
                            "comparator, national, discounted). Left of zero the rollout avoids no detentions; "
                            "below zero it saves money; below the line it costs less than the willingness to pay."))
    parts.append(rep.figure(lambda stem: psa_mod.ceac_figure(p, stem, "detentions", formats=PNG),
                            "Cost-effectiveness acceptability curve per detention avoided (left axis) and the expected "
                            "value of perfect information (right axis): what resolving all parameter uncertainty would "
                            "be worth at each willingness to pay."))
    d = psa_mod.drivers(p, "detentions").head(10)
    rows = [(r.parameter, [raw(f"<code>{esc(r.parameter)}</code>"), text(r.distribution),
                           Cell(fmt_interval(r.rho_inb, r.inb_lo, r.inb_hi, 2), r.rho_inb, True, "rho_inb",
                                lo=r.inb_lo, hi=r.inb_hi),
                           num(r.rho_net_cost, "rho_net_cost", 2), num(r.rho_benefit, "rho_benefit", 2)])
            for r in d.itertuples()]
    parts.append(rep.table(["Parameter", "Distribution", "With the net benefit [95% interval]#", "With the net cost#",
                            "With the detentions avoided#"], rows, table_id="psa-drivers",
                           caption=f"What drives the uncertainty: Spearman rank correlations of each parameter's draws "
                                   f"with the incremental net benefit at GBP {d['wtp'].iloc[0]:,.0f} per detention "
                                   f"avoided (95% interval from Fisher's z), with the net cost and with the detentions "
                                   f"avoided; the ten largest. A guess among them is where better evidence would "
                                   f"change the answer most."))
    return "".join(parts)


# ---- figures ------------------------------------------------------------------------------

def _has_dialog_arm(h):
    n, arms = cmp.collapse(h, "patients", "arm")
    return "dialog" in arms and float(n[:, :, arms.index("dialog")].max()) > 0


def section_figures(rep):
    parts = []
    names = io.series_names(rep.a)
    outcomes = [o for o in FIGURE_OUTCOMES if o in names]
    r = rep.replicates
    if rep.is_compare:
        a_name, b_name = rep.names
        for name in outcomes:
            info = io.series_info(rep.a, name)
            cum = " (cumulative since the start)" if info["kind"] == "flow" else ""
            parts.append(rep.figure(
                lambda stem, name=name: plots.rollout_curve(rep.a, rep.b, name, stem, names=(a_name, b_name),
                                                            formats=PNG),
                f"{info['label']}{cum} in A ({a_name}) and B ({b_name}), "
                + (f"mean and 95% band over {r} replicates (top), and the paired difference A \u2212 B "
                   f"with its 95% band (bottom), " if r > 1 else
                   "one replicate (top), and the paired difference A \u2212 B (bottom), ")
                + f"in {info['unit']}."))
    else:
        fa = rep.cached("facts_a", lambda: _run_facts(rep.a))
        dialog_year = fa.get("dialog_first_year")
        for name in outcomes:
            info = io.series_info(rep.a, name)
            cum = " (cumulative since the start)" if info["kind"] == "flow" else ""
            parts.append(rep.figure(
                lambda stem, name=name: plots.series_curve(rep.a, name, stem, rep.names[0], dialog_year,
                                                           size=(7, 3.6), formats=PNG),
                f"{info['label']}{cum}, all patients, in {info['unit']}"
                + (f": mean and 95% band over {r} replicates." if r > 1 else " (one replicate).")
                + (" The dashed line marks when a care coordinator first used DIALOG." if dialog_year else "")))
    cascade_caption = ("The cascade by arm in {}: shares of patients engaged with services, with good "
                       "adherence and with quality of life improved since the start, among patients whose "
                       "care coordinator uses DIALOG (blue) and the others (red). Arms are DIALOG exposure at "
                       "each step, not randomised groups, and change size as the rollout proceeds; an arm is "
                       "drawn only while it holds at least 20 patients (mean over replicates).")
    parts.append(rep.figure(lambda stem: plots.cascade(rep.a, stem, formats=PNG),
                            cascade_caption.format(f"A ({rep.names[0]})" if rep.is_compare else "the run")))
    if rep.is_compare and _has_dialog_arm(rep.b):
        parts.append(rep.figure(lambda stem: plots.cascade(rep.b, stem, formats=PNG),
                                cascade_caption.format(f"B ({rep.names[1]})")))
    return "".join(parts)


# ---- trajectories -------------------------------------------------------------------------

EVENT_COUNTS = ("n_admissions_involuntary", "n_admissions_voluntary", "n_relapses", "n_disengagements")


def pick_patients(f, n=4, other=None):
    """Traced patients worth following in class: an involuntary admission, a voluntary one, a
    relapse without admission, a disengagement, a steady course, then evenly spread others.

    Uses replicate 0's per-patient event counts (``/agents/patient/final``), the replicate the
    trajectories belong to. A patient whose only admission was involuntary is preferred for the
    first slot (the admission seen in the trajectory is then certainly involuntary), and one whose
    admission is not at the very end of the run (so the aftermath is visible). With ``other`` (a
    paired run tracing the same patients), up to half the patients are those whose event counts
    differ most between the two runs.

    Args:
        f: path or open results file with ``/trajectories``.
        n: number of patients.
        other: path or open results file of a paired run (optional).

    Returns:
        sorted list of patient rows (all in ``/trajectories/row``); empty without trajectories.
    """
    chosen = []
    if other is not None:
        with io._opened(f) as h, io._opened(other) as g:
            if "trajectories" in h and "trajectories" in g:
                rows = h["trajectories/row"][:].astype(np.int64)
                if np.array_equal(rows, g["trajectories/row"][:]):
                    fa, fb = h["agents/patient/final"], g["agents/patient/final"]
                    diff = sum(np.abs(fa[k][:][rows].astype(float) - fb[k][:][rows].astype(float))
                               for k in EVENT_COUNTS if k in fa and k in fb)
                    for i in np.argsort(-diff, kind="stable")[: n // 2]:
                        if diff[i] > 0:
                            chosen.append(int(rows[i]))
    with io._opened(f) as h:
        if "trajectories" not in h:
            return []
        rows = h["trajectories/row"][:].astype(np.int64)
        final = h["agents/patient/final"]
        get = lambda k: final[k][:][rows].astype(float) if k in final else np.zeros(len(rows))
        inv, vol = get("n_admissions_involuntary"), get("n_admissions_voluntary")
        rel, dis = get("n_relapses"), get("n_disengagements")
        g = h["trajectories"]
        inpatient = g["inpatient"][...] if "inpatient" in g else np.zeros((1, len(rows)))
        n_t = inpatient.shape[0]
        # step of the first admission in the trajectory (n_t if none)
        admitted = inpatient > 0.5
        first_adm = np.where(admitted.any(axis=0), np.argmax(admitted, axis=0), n_t)
        early = first_adm < 0.8 * n_t

    def take(mask, order=None):
        idx = np.flatnonzero(mask)
        if order is not None:
            idx = idx[np.argsort(order[idx], kind="stable")]
        for i in idx:
            if rows[i] not in chosen:
                chosen.append(int(rows[i]))
                return True
        return False

    has_inv = (inv > 0)
    take(has_inv & (vol == 0) & (inv == 1) & early, first_adm) or take(has_inv & early, first_adm) or take(has_inv)
    take((vol > 0) & (inv == 0) & early, first_adm) or take(vol > 0)
    take((rel > 0) & (inv + vol == 0))
    take((dis > 0) & (inv + vol == 0))
    take((rel == 0) & (dis == 0) & (inv + vol == 0))
    chosen = chosen[:n]
    if len(chosen) < n:
        for i in np.linspace(0, len(rows) - 1, len(rows)).round().astype(int):
            if len(chosen) >= n:
                break
            if rows[i] not in chosen:
                chosen.append(int(rows[i]))
    return sorted(chosen)


#: Kept for callers of the former ``report.paired_trajectories`` (now in :mod:`plots`).
paired_trajectories = plots.paired_trajectories


PATIENT_COLUMNS = (("n_relapses", "Relapses"), ("n_admissions_voluntary", "Voluntary admissions"),
                   ("n_admissions_involuntary", "Involuntary admissions"),
                   ("n_disengagements", "Times disengaged"), ("n_dialog_sessions", "DIALOG sessions"),
                   ("n_dyads", "Care coordinators"))


def _patient_table(rep, h, patients, tag):
    fin = io.agents(h, "patient", "final")
    base = io.agents(h, "patient", "baseline")
    dyf = io.agents(h, "dyad", "final")
    dyb = io.agents(h, "dyad", "baseline")
    cols = ["Patient#"] + [f"{label}#" for k, label in PATIENT_COLUMNS if k in fin.columns]
    cols += ["STAR-P start#", "STAR-P end#", "Quality of life start#", "Quality of life end#"]
    rows = []
    for p in patients:
        cells = [num(p, "patient")] + [num(fin.loc[p, k], k) for k, _ in PATIENT_COLUMNS if k in fin.columns]
        cells += [num(dyb.loc[p, "star_p"], "star_p_start"), num(dyf.loc[p, "star_p"], "star_p_end"),
                  num(base.loc[p, "qol"], "qol_start"), num(fin.loc[p, "qol"], "qol_end")]
        rows.append((str(p), cells))
    return rep.table(cols, rows, table_id=f"patients-{tag}",
                     caption=f"The patients of the figure above in {tag}: events over the run (replicate 0) "
                             f"and the relationship (STAR-P, 0{DASH}4) and quality of life (1{DASH}7) at the "
                             f"start and the end.")


def section_trajectories(rep):
    if "trajectories" not in rep.a:
        return None
    paired = rep.is_compare and "trajectories" in rep.b and np.array_equal(
        rep.a["trajectories/row"][:], rep.b["trajectories/row"][:])
    patients = pick_patients(rep.a, 4, other=rep.b if paired else None)
    if not patients:
        return None
    k = len(rep.a["trajectories/row"])
    why = ("the patients whose admissions, relapses or disengagements differ most between A and B, then "
           if paired else "")
    parts = [f"<p>The run traced {k} patients every step (replicate 0). {len(patients)} are shown, chosen "
             f"for what they show: {why}an involuntary admission, a voluntary one, a relapse without "
             f"admission, a disengagement or a steady course, when the run has them. Follow the cascade: the "
             f"relationship (STAR-P, the patient's view) carries engagement, engagement and the relationship "
             f"carry adherence, adherence carries relapse and symptoms; an involuntary admission leaves a "
             f"scar on the relationship that fades with time.</p>"]
    who = ", ".join(map(str, patients))
    if paired:
        # one figure with both runs (the same patients, the same random numbers)
        parts.append("<p>A and B trace the same patients and share their random numbers, so a "
                     "patient's lines coincide until what differs between the scenarios changes "
                     "something for them.</p>")
        parts.append(rep.figure(
            lambda stem: plots.paired_trajectories(rep.a, rep.b, stem, patients, names=rep.names, formats=PNG),
            f"Patients {who} in A ({rep.names[0]}, thin blue) and B ({rep.names[1]}, thick red), week by "
            f"week: the relationship (STAR-P), engagement (1 engaged, 0 not), adherence and symptoms "
            f"(BPRS). Admissions are shaded (A grey, B red); the dotted line is the first week the "
            f"patient's care coordinator used DIALOG in A."))
        parts.append(_patient_table(rep, rep.a, patients, "A"))
        parts.append(_patient_table(rep, rep.b, patients, "B"))
    else:
        where = f"A ({rep.names[0]})" if rep.is_compare else "the run"
        parts.append(rep.figure(
            lambda stem: plots.patient_trajectories(rep.a, stem, patients=patients, formats=PNG),
            f"Patients {who} in {where}, week by week: the relationship (STAR-P), engagement (1 engaged, "
            f"0 not), adherence and symptoms (BPRS). Blue shading: the care coordinator uses DIALOG; "
            f"grey: admitted."))
        parts.append(_patient_table(rep, rep.a, patients, "A" if rep.is_compare else "the run"))
    return "".join(parts)


# ---- simulated trials (/metrics) ----------------------------------------------------------

def _metrics(h):
    """Metrics with at least one finite value: name -> (values [R], label, unit, summary [4])."""
    if "metrics" not in h:
        return {}
    out = {}
    for name, ds in h["metrics"].items():
        v = ds[...].astype(float)
        if not np.isfinite(v).any():
            continue
        summ = h[f"summary/metrics/{name}"][...].astype(float) if f"summary/metrics/{name}" in h else None
        out[name] = (v, io._attr(ds, "label", name), io._attr(ds, "unit", ""), summ)
    return out


def section_metrics(rep):
    parts = []
    for tag, h in [("A", rep.a)] + ([("B", rep.b)] if rep.is_compare else []):
        m = _metrics(h)
        if not m:
            continue
        who = f" in {tag} ({rep.names[0 if tag == 'A' else 1]})" if rep.is_compare else ""
        # compact trial table: <stem>_d with _d_lo, _d_hi, _p, _significant
        stems = [k[:-2] for k in m if k.endswith("_d") and f"{k[:-2]}_significant" in m]
        stems.sort(key=lambda s: "_problematic_" in s)     # whole-trial analyses first
        if stems:
            cols = ["Outcome", "Mean effect#", "95% range of trial results#", "Mean lower limit#",
                    "Mean upper limit#", "Power#", "Trials#"]
            rows = []
            for s in stems:
                v, label, unit, _ = m[f"{s}_d"]
                fin = v[np.isfinite(v)]
                lo = m.get(f"{s}_d_lo", (np.array([np.nan]),))[0]
                hi = m.get(f"{s}_d_hi", (np.array([np.nan]),))[0]
                sig = m[f"{s}_significant"][0]
                _, q025, q975 = cmp.interval(fin)
                rng = fmt_interval(np.mean(fin), q025, q975)
                rng = ("[" + rng.split(" [", 1)[1]) if " [" in rng and len(fin) > 1 else DASH
                rows.append((s, [text(f"{label} ({unit})"), num(np.mean(fin), "d_mean"),
                                 Cell(rng, None, True, "d_range", lo=q025, hi=q975),
                                 num(np.nanmean(lo), "lo_mean"), num(np.nanmean(hi), "hi_mean"),
                                 num(np.nanmean(sig), "power"), num(int(np.isfinite(sig).sum()), "trials")]))
            parts.append(rep.table(cols, rows, table_id=f"trials-{tag}",
                                   caption=f"Simulated trials{who}: each replicate is one trial analysed as "
                                           f"the real one was. Mean effect and the 2.5%{DASH}97.5% range "
                                           f"of the trials' estimates; the trials' own 95% confidence limits "
                                           f"(mean); power = share of trials with p < 0.05."))
        cols = ["Metric", "Label", "Unit", "Mean#", "2.5%#", "Median#", "97.5%#", "Replicates with a value#"]
        rows = []
        for name, (v, label, unit, summ) in m.items():
            s = summ if summ is not None else np.array([np.nanmean(v), *np.nanquantile(v, [0.025, 0.5, 0.975])])
            rows.append((name, [raw(f"<code>{esc(name)}</code>"), text(label), text(unit),
                                num(s[0], "mean"), num(s[1], "q025"), num(s[2], "q50"), num(s[3], "q975"),
                                num(int(np.isfinite(v).sum()), "n")]))
        tab = rep.table(cols, rows, table_id=f"metrics-{tag}",
                        caption=f"Every end-of-replicate metric{who} (/metrics) with the file's summary over "
                                f"replicates (/summary/metrics).")
        parts.append(f"<details{' open' if not stems else ''}><summary>All {len(m)} metrics{esc(who)}"
                     f"</summary>{tab}</details>")
    return "".join(parts) or None


# ---- appendix: scenario and caveats -------------------------------------------------------

def section_scenario(rep):
    ya = io.scenario(rep.a)
    out = (f"<p>The fully resolved scenario of {'A' if rep.is_compare else 'the run'} "
           f"(<code>/provenance/scenario_yaml</code>): every parameter with the value used, overrides "
           f"included. Running it with the same program version reproduces the results.</p>"
           f"<pre class=\"yaml\">{esc(ya)}</pre>")
    if rep.is_compare:
        yb = io.scenario(rep.b)
        diff = list(difflib.unified_diff(ya.splitlines(), yb.splitlines(), "A", "B", lineterm="", n=1))
        if diff:
            body = "\n".join(diff[2:])
            out += (f"<p>What differs in B ({esc(rep.names[1])}), as a unified diff (lines starting with "
                    f"<code>-</code> are A's, <code>+</code> B's):</p><pre class=\"yaml diff\">{esc(body)}</pre>")
        else:
            out += "<p>B's resolved scenario is identical to A's.</p>"
        out += f"<details><summary>B's resolved scenario</summary><pre class=\"yaml\">{esc(yb)}</pre></details>"
    return out


_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<i>\1</i>"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),          # links: keep the text (no external refs)
]


def _inline_md(s):
    s = esc(s)
    for pattern, repl in _INLINE:
        s = pattern.sub(repl, s)
    return s


def markdown_section(path, heading):
    """The body of a ``##`` section of a Markdown file as simple HTML (bullets, paragraphs,
    inline code, bold, italics; links keep their text only).

    Args:
        path: Markdown file.
        heading: heading text (a leading section number such as ``18.`` is ignored).

    Returns:
        HTML, or ``None`` if the file has no such heading.
    """
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    pat = re.compile(r"^(#{1,6})\s+(?:\d+(?:\.\d+)*\.?\s+)?" + re.escape(heading) + r"\s*$")
    start = level = None
    for i, line in enumerate(lines):
        m = pat.match(line)
        if m:
            start, level = i + 1, len(m.group(1))
            break
    if start is None:
        return None
    body = []
    for line in lines[start:]:
        m = re.match(r"^(#{1,6})\s", line)
        if m and len(m.group(1)) <= level:
            break
        body.append(line)
    blocks, items, para = [], [], []

    def flush_para():
        if para:
            blocks.append(f"<p>{_inline_md(' '.join(para))}</p>")
            para.clear()

    def flush_items():
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline_md(it)}</li>" for it in items) + "</ul>")
            items.clear()

    in_item = False
    for line in body:
        if re.match(r"^\s*[-*]\s+", line):
            flush_para()
            items.append(re.sub(r"^\s*[-*]\s+", "", line).strip())
            in_item = True
        elif not line.strip():
            flush_para()
            in_item = False
        elif in_item and line.startswith((" ", "\t")):
            items[-1] += " " + line.strip()
        else:
            flush_items()
            in_item = False
            para.append(line.strip())
    flush_para()
    flush_items()
    return "".join(blocks)


def section_caveats(rep):
    path = rep.model_doc
    where = esc(path)
    try:
        body = markdown_section(path, CAVEATS_HEADING)
    except OSError as err:
        return (f'<p class="warning"><b>The model\'s caveats could not be included:</b> '
                f'<code>{where}</code> could not be read ({esc(err.strerror or err)}). They are the section '
                f'"{CAVEATS_HEADING}" of docs/model.md in the therasim source; read them there before '
                f'using these results.</p>')
    if body is None:
        return (f'<p class="warning"><b>The model\'s caveats could not be included:</b> '
                f'<code>{where}</code> has no section "{CAVEATS_HEADING}". Read the model description '
                f'(docs/model.md) before using these results.</p>')
    return (f"<p>What the model leaves out or fixes, from the section \u201c{CAVEATS_HEADING}\u201d of "
            f"<code>docs/model.md</code> (section numbers refer to that page). Read them before using the "
            f"numbers above.</p>{body}")


SECTIONS = [
    Section("findings", "Findings", section_findings, compare_only=True),
    Section("summary", "What was run", section_summary),
    Section("effects", "Effects over the horizon and by year", section_effects, compare_only=True),
    Section("costs", "Costs and cost-effectiveness", section_costs, compare_only=True),
    Section("uncertainty", "Parameter uncertainty", section_uncertainty),
    Section("subgroups", "Effects by region and severity", section_subgroups, compare_only=True),
    Section("headline", "Headline outcomes in the last year", section_headline),
    Section("figures", "Over time and the cascade", section_figures),
    Section("trajectories", "Patients, week by week", section_trajectories),
    Section("metrics", "Simulated trials", section_metrics),
    Section("provenance", "Appendix: provenance", section_provenance),
    Section("scenario", "Appendix: the resolved scenario", section_scenario),
    Section("caveats", "Appendix: the model's known simplifications", section_caveats),
]
#: Keys of the sections that close the report (``extra_sections`` go before them).
APPENDIX = ("provenance", "scenario", "caveats")


def add_section(section, before="scenario"):
    """Add a section to every report built after this call (:data:`SECTIONS`).

    Args:
        section: a :class:`Section`.
        before: key of the section to insert it before (default: the appendix); ``None``
            appends it at the end.
    """
    keys = [s.key for s in SECTIONS]
    if section.key in keys:
        raise ValueError(f"a section {section.key!r} exists already")
    SECTIONS.insert(keys.index(before) if before in keys else len(SECTIONS), section)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d232a; --muted: #5b6670; --rule: #d5dbe0; --accent: #1b6ca8; --bg-alt: #f5f7f9; }
* { box-sizing: border-box; }
body { font-family: "Source Serif Pro", Georgia, "Times New Roman", serif; color: var(--ink);
       max-width: 64rem; margin: 2rem auto; padding: 0 1.5rem; line-height: 1.5; font-size: 16px; }
h1, h2, h3, nav, table, figcaption, caption, .note, dl, summary {
       font-family: -apple-system, "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
h1 { font-size: 1.7rem; line-height: 1.25; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2rem; margin-top: 2.5rem; }
.subtitle { color: var(--muted); margin-top: 0; font-size: 0.95rem; }
nav { font-size: 0.9rem; background: var(--bg-alt); padding: 0.6rem 1rem; border-radius: 4px; }
nav ol { margin: 0.2rem 0; padding-left: 1.4rem; columns: 2; }
a { color: var(--accent); }
.tablewrap { overflow-x: auto; margin: 1rem 0 1.5rem; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
caption { caption-side: top; text-align: left; font-size: 0.85rem; color: var(--muted); padding-bottom: 0.4rem; }
th, td { padding: 0.3rem 0.55rem; border-bottom: 1px solid var(--rule); vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid var(--ink); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; border: 1px solid var(--rule); }
figcaption { font-size: 0.85rem; color: var(--muted); margin-top: 0.4rem; }
pre { background: var(--bg-alt); padding: 0.8rem 1rem; overflow-x: auto; font-size: 0.8rem; line-height: 1.35;
      border: 1px solid var(--rule); border-radius: 4px; max-height: 40rem; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; font-size: 0.9rem; }
dt { font-weight: 600; }
.note { font-size: 0.85rem; color: var(--muted); }
.warning { background: #fff4e5; border-left: 4px solid #e69500; padding: 0.6rem 1rem; }
.error { background: #fdecea; border-left: 4px solid #c0392b; padding: 0.6rem 1rem; }
details { margin: 0.8rem 0; } summary { cursor: pointer; font-size: 0.9rem; }
footer { margin-top: 3rem; font-size: 0.8rem; color: var(--muted); border-top: 1px solid var(--rule); padding-top: 0.6rem; }
.lead { font-size: 1.05rem; margin-bottom: 0.3rem; }
ul.findings { padding-left: 1.3rem; } ul.findings li { margin: 0.25rem 0; }
.rests { background: var(--bg-alt); border: 1px solid var(--rule); border-radius: 4px; padding: 0.4rem 1rem;
         margin: 1rem 0; font-size: 0.9rem; }
.rests h3 { font-size: 1rem; margin: 0.4rem 0; } .rests ul { padding-left: 1.2rem; margin: 0.3rem 0; }
.ci { font-size: 0.8em; color: var(--muted); }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-after: avoid; margin-top: 1.2rem; }
  figure, tr, .rests { break-inside: avoid; }
  thead { display: table-header-group; }          /* a long table repeats its header on each page */
  .tablewrap { overflow: visible; }                /* nothing hidden behind a scroll bar on paper */
  table { font-size: 7.5pt; }
  th, td { padding: 0.15rem 0.3rem; }
  td.n, th.n { white-space: normal; }
  td.n { white-space: nowrap; }
  pre { max-height: none; white-space: pre-wrap; font-size: 7pt; }
  figure img { max-height: 120mm; width: auto; }
  a { color: inherit; text-decoration: none; }
}
"""


def _default_title(rep):
    if rep.is_compare:
        return f"therasim report: {rep.names[0]} compared with {rep.names[1]}"
    return f"therasim report: {rep.names[0]}"


def build_report(path, compare=None, out="report.html", title=None, population=None, sections=None,
                 extra_sections=(), model_doc=None, strict=False, overwrite=False,
                 discount_rate=cmp.DISCOUNT_RATE, psa=None):
    """Write one self-contained HTML report of a results file (or of a paired comparison).

    Args:
        path: results file of the run (A).
        compare: results file of the comparison run (B), same seed and replicates; adds the paired
            effects, subgroup effects and costs.
        out: HTML file to write (written to a temporary name, then moved into place; never one
            of the inputs, never anything but a regular file).
        title: report title (default: from the scenario names).
        population: patients national totals are scaled to (default: the run's own).
        sections: the sections to build (default :data:`SECTIONS`).
        extra_sections: more :class:`Section` objects, inserted before the appendix.
        model_doc: Markdown file holding the model's "Known simplifications" (default
            :data:`MODEL_DOC`, i.e. ``docs/model.md`` next to ``analysis/``).
        strict: re-raise a section's error instead of reporting it in the page (otherwise the
            page says the section could not be built and a :class:`ReportWarning` is issued).
        overwrite: replace an existing ``out`` (otherwise it is refused).
        discount_rate: annual rate of the discounted net cost and cost-effectiveness (default
            3.5%, the NICE reference case).
        psa: results file of a probabilistic sensitivity analysis (a ``psa:`` scenario) to
            report: the cost-effectiveness plane, the acceptability curve, the EVPI and the
            parameters that drive the uncertainty, also named in the findings' box.

    Returns:
        the path written.

    Raises:
        FileNotFoundError, io.ResultsError: an unreadable results file.
        compare.PairingError: two files that cannot be paired.
        io.OutputError: ``out`` is an input, not a regular file, or exists without ``overwrite``.
    """
    t0 = time.monotonic()
    sections = list(SECTIONS if sections is None else sections)
    if extra_sections:
        keys = [s.key for s in sections]
        at = min([keys.index(k) for k in APPENDIX if k in keys], default=len(sections))
        sections[at:at] = list(extra_sections)
    out = os.fspath(out)
    fa = io.open_results(path)
    fb = None
    try:
        if compare is not None:
            fb = io.open_results(compare)
        io.check_output(out, inputs=(path, compare), overwrite=overwrite)
        for name, h in ((path, fa), (compare, fb)):
            if h is not None and "sweep" in h:
                # Its runs are design points, not replicates of one scenario: the report's
                # intervals and trajectories would describe nothing in particular.
                raise io.ResultsError(f"{name}: a sensitivity sweep ({h['sweep'].attrs['design']}, "
                                      f"{h['sweep'].attrs['points']} points); analyse it with "
                                      f"python3 -m therasim_analysis sensitivity {name} --outcome ...")
        if fb is not None:
            cmp.check_paired(fa, fb)
        with tempfile.TemporaryDirectory(prefix="therasim-report-") as tmp:
            p = psa_mod.read(psa, population=population, discount_rate=discount_rate) if psa is not None else None
            rep = Report(fa, fb, path, compare, population, tmp, model_doc or MODEL_DOC, discount_rate, p)
            bodies = []
            for s in sections:
                if s.compare_only and not rep.is_compare:
                    continue
                try:
                    body = s.build(rep)
                except Exception as err:          # one failed section must not lose the report
                    if strict:
                        raise
                    rep.errors.append((s.key, f"{type(err).__name__}: {err}"))
                    warnings.warn(ReportWarning(f"section {s.key!r} could not be built: "
                                                f"{type(err).__name__}: {err}"), stacklevel=2)
                    body = (f'<p class="error"><b>{_SECTION_ERROR}:</b> {esc(type(err).__name__)}: '
                            f'{esc(err)}</p>')
                if body is not None:
                    bodies.append((s, body))
            page = _page(rep, title or _default_title(rep), bodies, time.monotonic() - t0)
    finally:
        fa.close()
        if fb is not None:
            fb.close()
    return io.write_output(out, page, overwrite=overwrite)


def _page(rep, title, bodies, seconds):
    nav = "".join(f'<li><a href="#{esc(s.key)}">{esc(s.title)}</a></li>' for s, _ in bodies)
    sections = [f'<section id="{esc(s.key)}"><h2>{esc(s.title)}</h2>{body}</section>' for s, body in bodies]
    # the answer first; the contents after it (a board reads the findings, then looks things up)
    first = 1 if bodies and bodies[0][0].key == "findings" else 0
    contents = f'<nav><b>Contents</b><ol>{nav}</ol></nav>\n'
    main = "".join(sections[:first]) + contents + "".join(sections[first:])
    files = esc(os.path.basename(rep.path_a)) + (f" vs {esc(os.path.basename(rep.path_b))}" if rep.is_compare else "")
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sub = (f"{files} {DASH} therasim {esc(rep.prov_a.get('therasim_version'))} "
           f"(<code>{esc(rep.prov_a.get('git_commit'))}</code>), report written {now}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="therasim_analysis.report">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f'<header><h1>{esc(title)}</h1><p class="subtitle">{sub}</p></header>\n'
            f'<main>{main}</main>\n'
            f"<footer>Written by <code>python3 -m therasim_analysis report</code> in {fmt(seconds, 2)} s. "
            f"Self-contained: figures are embedded; no network access is needed to read it.</footer>\n"
            f"</body>\n</html>\n")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def _rate(text_):
    try:
        x = float(text_)
    except ValueError:
        x = math.nan
    if not 0 <= x <= 1:
        import argparse
        raise argparse.ArgumentTypeError(f"expected an annual rate from 0 to 1 (0.035 is 3.5%), got {text_!r}")
    return x


def add_costing_arguments(parser):
    """Add ``--population`` and ``--discount`` (shared by compare, psa and report)."""
    parser.add_argument("--population", type=int, metavar="PATIENTS",
                        help="scale national totals to this many patients (default: the run's population)")
    parser.add_argument("--discount", type=_rate, default=cmp.DISCOUNT_RATE, metavar="RATE",
                        help="annual discount rate of costs and counted events (default 0.035, the NICE "
                             "reference case)")


def add_cli(subparsers):
    """Add the ``report`` subcommand to an ``argparse`` subparsers object.

    Args:
        subparsers: from ``parser.add_subparsers()``.

    Returns:
        the ``report`` parser (its ``func`` default is :func:`_cli`).
    """
    p = subparsers.add_parser(
        "report", help="one self-contained HTML report of a run (or of a paired comparison)",
        description="Write one HTML file (figures embedded, no external resources) describing RUN: "
                    "provenance, headline outcomes, figures, patients' trajectories, simulated trials, "
                    "the resolved scenario and the model's caveats; with --compare OTHER (same seed and "
                    "replicates) also the paired effects A - B by year, region and severity, costs and "
                    "net cost per unit of benefit.")
    p.add_argument("run", help="results file of the run (A)")
    p.add_argument("--compare", metavar="OTHER", help="results file of the comparison run (B), same seed")
    p.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    p.add_argument("--title", help="report title (default: from the scenario names)")
    add_costing_arguments(p)
    p.add_argument("--psa", metavar="PSA.h5",
                   help="results of a probabilistic sensitivity analysis (a psa: scenario) to report with it")
    p.set_defaults(func=_cli)
    return p


def _cli(args):
    """Run the ``report`` subcommand.

    Returns:
        0 on success, 1 if a section could not be built (the report is still written).
    """
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReportWarning)
        out = build_report(args.run, compare=args.compare, out=args.output, title=args.title,
                           population=args.population, overwrite=args.overwrite,
                           discount_rate=args.discount, psa=args.psa)
    errors = [w for w in caught if issubclass(w.category, ReportWarning)]
    for w in caught:
        if not issubclass(w.category, ReportWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    for w in errors:
        print(f"warning: {w.message}", file=sys.stderr)
    print(f"wrote {out} ({os.path.getsize(out) / 1024:,.0f} KB) in {time.monotonic() - t0:.1f} s")
    return 1 if errors else 0

"""The HTML report: one self-contained file whose numbers are those of the results files.

Every expected value is computed here from h5py and numpy, not with the package's own tables.
"""

import argparse
import base64
import html
import os
import re
from html.parser import HTMLParser

import h5py
import numpy as np
import pytest

from therasim_analysis import compare, io, report

from conftest import REPO

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DAYS_PER_YEAR = 365.25

# A small simulated trial (so the file has /metrics) whose name, description and title carry
# markup that must come out as text.
ESCAPE_SCENARIO = """\
extends: {base}
name: Escape <b>test</b> & "quotes"
description: A trial whose description holds <script>alert("x")</script> & an ampersand.
replicates: 3
"""


# ---- reading the report back -------------------------------------------------------------

class _Tables(HTMLParser):
    """Tables by id: rows as (data-key, [cell dict with col, value, lo, hi, text])."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self._table, self._row, self._cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = (a.get("data-key"), [])
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "col": a.get("data-col"), "text": "",
                          **{k: float(a[f"data-{k}"]) for k in ("value", "lo", "hi") if f"data-{k}" in a}}

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row[1].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row[1] and self._row[1][0]["tag"] == "td":
                self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def tables(page):
    p = _Tables()
    p.feed(page)
    return p.tables


def rows_by_key(table):
    return {key: {c["col"]: c for c in cells if c["col"]} for key, cells in table}


def shown_number(cell):
    """The first number displayed in a cell (thousands separators and typographic minus)."""
    t = cell["text"].replace(",", "").replace("\u2212", "-")
    return float(re.match(r"\s*(-?[\d.]+(?:e-?\d+)?)", t).group(1))


def assert_shown(cell, value):
    """The displayed mean is the value to the 3 significant figures the report shows."""
    assert shown_number(cell) == pytest.approx(value, rel=6e-3, abs=1e-9), cell


# ---- independent computations ------------------------------------------------------------

def years_of_steps(f):
    """Year of each step as docs/output.md defines it (step 0 -> 0), and the number of years."""
    day = f["time/day"][:]
    step_days = f["time"].attrs["step_days"]
    n_years = max(1, int(np.ceil((day[-1] - step_days / 2) / DAYS_PER_YEAR - 1e-9)))
    year = np.minimum(np.ceil(day / DAYS_PER_YEAR - 1e-9), n_years).astype(int)
    year[0] = 0
    return year, n_years


def period_value(f, name, period):
    """Per-replicate value of a national series in a year: flow summed, level at the year's end."""
    ds = f[f"series/national/{name}"]
    year, _ = years_of_steps(f)
    v = ds[...]
    steps = np.flatnonzero(year == period)
    kind = ds.attrs["kind"]
    kind = kind.decode() if isinstance(kind, bytes) else kind
    return v[:, steps].sum(axis=1) if kind == "flow" else v[:, steps[-1]]


def horizon_value(f, name):
    """Per-replicate value of a national series over the whole horizon: flow summed, level at the end."""
    ds = f[f"series/national/{name}"]
    kind = text_attr(ds, "kind")
    return ds[:, 1:].sum(axis=1) if kind == "flow" else ds[:, -1]


def headline_names(f):
    return [n for n, ds in f["series/national"].items() if int(ds.attrs["headline"]) == 1]


def text_attr(obj, name):
    v = obj.attrs[name]
    return v.decode() if isinstance(v, bytes) else v


# ---- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def single_report(rollout, tmp_path_factory):
    out = tmp_path_factory.mktemp("report_single") / "report.html"
    report.build_report(rollout, out=str(out), strict=True)
    return str(out), out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compare_report(rollout, no_dialog, tmp_path_factory):
    out = tmp_path_factory.mktemp("report_compare") / "compare.html"
    report.build_report(rollout, compare=no_dialog, out=str(out), population=3000, strict=True)
    return str(out), out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def escape_run(runner):
    base = os.path.join(REPO, "scenarios", "trials", "dialog_2007.yaml")
    with open(os.path.join(runner.root, "escape.yaml"), "w", encoding="utf-8") as fh:
        fh.write(ESCAPE_SCENARIO.format(base=base))
    return runner.run("escape.h5", scenario="escape.yaml")


# ---- tests ---------------------------------------------------------------------------------

def _check_self_contained(page):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    lower = page.lower()
    for bad in ('src="http', "src='http", 'href="http', "<link", "<script", "@import", "url(", "<iframe"):
        assert bad not in lower, bad
    imgs = re.findall(r"<img\b[^>]*>", page)
    assert imgs
    for tag in imgs:
        src = re.search(r'src="([^"]*)"', tag).group(1)
        assert src.startswith("data:image/png;base64,"), src[:40]
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG_MAGIC)
    # every figure is captioned, and the references are all internal anchors
    assert page.count("<figure") == len(imgs) == page.count("<figcaption>")
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    return imgs


def test_report_is_one_self_contained_html_file(single_report):
    path, page = single_report
    _check_self_contained(page)
    assert os.listdir(os.path.dirname(path)) == ["report.html"]     # no side files, no partial file
    assert "could not be built" not in page


def test_provenance_is_the_files(single_report, rollout):
    page = single_report[1]
    prov = rows_by_key(tables(page)["provenance"])
    with h5py.File(rollout, "r") as f:
        p = f["provenance"]
        for key in ("scenario_name", "scenario_file", "scenario_chain", "therasim_version", "git_commit",
                    "start_time"):
            assert prov[key][key]["text"] == text_attr(p, key), key
        assert prov["scenario_description"]["scenario_description"]["text"] == \
            text_attr(p, "scenario_description").strip()
        assert prov["seed"]["seed"]["text"] == str(int(p.attrs["seed"]))
        assert prov["replicates"]["replicates"]["value"] == int(p.attrs["replicates"]) == 3
        assert prov["threads"]["threads"]["value"] == int(p.attrs["threads"])
        assert prov["wall_time_s"]["wall_time_s"]["value"] == float(p.attrs["wall_time_s"])
        assert html.escape(text_attr(f, "git_commit")) in page.split("</header>")[0]


def test_headline_table_equals_final_year_values_from_h5py(single_report, rollout):
    rows = rows_by_key(tables(single_report[1])["headline"])
    with h5py.File(rollout, "r") as f:
        names = headline_names(f)
        _, n_years = years_of_steps(f)
        assert n_years == 2 and set(rows) == set(names) and len(names) >= 10
        for name in names:
            v = period_value(f, name, n_years)
            cell = rows[name]["A_final"]
            assert cell["value"] == pytest.approx(v.mean(), rel=1e-12, abs=1e-12), name
            assert cell["lo"] == pytest.approx(np.quantile(v, 0.025), rel=1e-12, abs=1e-12), name
            assert cell["hi"] == pytest.approx(np.quantile(v, 0.975), rel=1e-12, abs=1e-12), name
            assert_shown(cell, v.mean())
            ds = f[f"series/national/{name}"]
            if text_attr(ds, "kind") == "level":
                assert rows[name]["A_start"]["value"] == pytest.approx(ds[:, 0].mean(), rel=1e-12)
        # units and labels are the file's
        page = single_report[1]
        for key, cells in tables(page)["headline"]:
            ds = f[f"series/national/{key}"]
            assert [cells[0]["text"], cells[1]["text"]] == [text_attr(ds, "label"), text_attr(ds, "unit")]


def test_compare_effects_equal_paired_differences_from_h5py(compare_report, rollout, no_dialog):
    page = compare_report[1]
    _check_self_contained(page)
    assert "could not be built" not in page
    t = tables(page)
    horizon = rows_by_key(t["effects-horizon"])
    by_year = rows_by_key(t["effects-by-year"])
    with h5py.File(rollout, "r") as fa, h5py.File(no_dialog, "r") as fb:
        names = [n for n in headline_names(fa) if not text_attr(fa[f"series/national/{n}"], "unit").startswith("GBP")]
        _, n_years = years_of_steps(fa)
        n0 = fa["series/national/patients"][:, 0]
        assert set(horizon) == set(names) == set(by_year)          # costs have their own section
        for name in names:
            d = horizon_value(fa, name) - horizon_value(fb, name)
            cell = horizon[name]["effect_mean"]
            assert cell["value"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-12), name
            assert cell["lo"] == pytest.approx(np.quantile(d, 0.025), rel=1e-12, abs=1e-12), name
            assert cell["hi"] == pytest.approx(np.quantile(d, 0.975), rel=1e-12, abs=1e-12), name
            assert_shown(cell, d.mean())
            assert horizon[name]["a_mean"]["value"] == pytest.approx(horizon_value(fa, name).mean(), rel=1e-12)
            stat = text_attr(fa[f"series/national/{name}"], "stat")
            if stat == "sum":
                per_1000 = d / n0 * 1000
                assert horizon[name]["per_1000_mean"]["value"] == pytest.approx(per_1000.mean(), rel=1e-12, abs=1e-12)
                # national totals scaled from the run's 300 patients to --population 3000
                assert horizon[name]["national_mean"]["value"] == pytest.approx(d.mean() * 10, rel=1e-12, abs=1e-12)
                d1 = (period_value(fa, name, 1) - period_value(fb, name, 1)) * 10
                assert by_year[name]["national:year 1"]["value"] == pytest.approx(d1.mean(), rel=1e-12, abs=1e-12)
            else:
                assert "value" not in horizon[name]["per_1000_mean"]
                d1 = period_value(fa, name, 1) - period_value(fb, name, 1)
                assert by_year[name]["effect:year 1"]["value"] == pytest.approx(d1.mean(), rel=1e-12, abs=1e-12)
        # net cost over the horizon: the five cost series, A - B, summed over steps 1..n (x 10 to
        # 3,000 patients), and discounted: year y divided by 1.035^(y - 1)
        year, _ = years_of_steps(fa)
        costs_ = ("cost_training", "cost_devices", "cost_dialog_time", "cost_bed_days", "cost_contacts")
        net = sum(fa[f"series/national/{c}"][:, 1:].sum(axis=1) - fb[f"series/national/{c}"][:, 1:].sum(axis=1)
                  for c in costs_)
        net_d = sum((fa[f"series/national/{c}"][:, year == y].sum(axis=1) - fb[f"series/national/{c}"][:, year == y]
                     .sum(axis=1)) / 1.035 ** (y - 1) for c in costs_ for y in range(1, n_years + 1))
        costs = rows_by_key(t["costs"])
        assert costs["net_cost"][f"national:years 1-{n_years}"]["value"] == pytest.approx(net.mean() * 10, rel=1e-12)
        assert costs["net_cost"]["national:discounted"]["value"] == pytest.approx(net_d.mean() * 10, rel=1e-12)
        # the findings say the same net cost in words, with the price year
        findings = re.search(r'<section id="findings">(.*?)</section>', page, re.S).group(1)
        assert f"{report.money(net_d.mean() * 10)} {'more' if net_d.mean() > 0 else 'less'} over {n_years} years, " \
               f"discounted at 3.5% a year" in html.unescape(findings)
        assert "2024 prices" in findings and "What these numbers rest on" in findings
        assert "relapses_avoided" in rows_by_key(t["cost-effectiveness"])
        # subgroups: every region and severity band of the file, with its patients at step 0
        regions = list(fa["dimensions/region"].asstr()[:])
        sub = rows_by_key(t["subgroups"])
        for r, region in enumerate(regions):
            row = sub[f"mean_qol:region:{region}"]
            assert row["patients"]["value"] == pytest.approx(fa["series/grouped/patients"][:, 0, :, r, :].sum(axis=(1, 2)).mean())
        assert {f"mean_qol:severity:{s}" for s in ("low", "moderate", "high")} <= set(sub)
    # the forest plot and both arms' rollout curves are there
    assert "by region and baseline severity" in page and page.count("paired difference A \u2212 B") >= 4
    # the same traced patients in both runs, each table with its own file's event counts
    pa, pb = tables(page)["patients-A"], tables(page)["patients-B"]
    assert [k for k, _ in pa] == [k for k, _ in pb] and len(pa) == 4
    for path, rows in ((rollout, pa), (no_dialog, pb)):
        with h5py.File(path, "r") as f:
            for key, cells in rows:
                c = {x["col"]: x for x in cells}
                assert c["n_dialog_sessions"]["value"] == f["agents/patient/final/n_dialog_sessions"][int(key)]
    assert any(c["value"] > 0 for _, cells in pa for c in cells if c["col"] == "n_dialog_sessions")


def test_trajectories_section_follows_traced_patients(single_report, rollout):
    page = single_report[1]
    assert 'id="trajectories"' in page
    rows = tables(page)["patients-the run"]
    with h5py.File(rollout, "r") as f:
        traced = set(f["trajectories/row"][:].tolist())
        final = f["agents/patient/final"]
        assert len(rows) == 4
        for key, cells in rows:
            p = int(key)
            assert p in traced
            c = {x["col"]: x for x in cells}
            for attr in ("n_relapses", "n_admissions_involuntary", "n_admissions_voluntary", "n_disengagements"):
                assert c[attr]["value"] == final[attr][p]
            assert c["star_p_end"]["value"] == pytest.approx(float(f["agents/dyad/final/star_p"][p]), rel=1e-6)
        # the picked patients include the traced patient with an involuntary admission, if any
        inv = [p for p in traced if final["n_admissions_involuntary"][p] > 0]
        if inv:
            assert any(int(k) in inv for k, _ in rows)


def test_markup_in_the_file_is_escaped_and_trials_are_summarised(escape_run, tmp_path):
    out = tmp_path / "escape.html"
    report.build_report(escape_run, out=str(out), title='Title <i>x</i> & "y"', strict=True)
    page = out.read_text(encoding="utf-8")
    _check_self_contained(page)
    assert "<b>test</b>" not in page and "<i>x</i>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<title>Title &lt;i&gt;x&lt;/i&gt; &amp; &quot;y&quot;</title>" in page
    with h5py.File(escape_run, "r") as f:
        yaml = f["provenance/scenario_yaml"].asstr()[0]
        assert "<script>" in yaml                     # the file holds the markup; the page must not
        chain = text_attr(f["provenance"], "scenario_chain")
        assert " -> " in chain and html.escape(chain) in page
        # the resolved scenario, escaped, and exactly the file's once unescaped
        pres = re.findall(r'<pre class="yaml">(.*?)</pre>', page, flags=re.S)
        assert len(pres) == 1 and html.unescape(pres[0]) == yaml
        # simulated trials: power = mean of trial_*_significant, effect = mean of trial_*_d
        trials = rows_by_key(tables(page)["trials-A"])
        sig = f["metrics/trial_satisfaction_significant"][:]
        d = f["metrics/trial_satisfaction_d"][:]
        assert trials["trial_satisfaction"]["power"]["value"] == pytest.approx(sig.mean())
        assert trials["trial_satisfaction"]["d_mean"]["value"] == pytest.approx(d.mean(), rel=1e-12)
        metrics = rows_by_key(tables(page)["metrics-A"])
        # every metric with a value (those of assessments beyond the horizon are all NaN)
        assert set(metrics) == {k for k in f["metrics"] if np.isfinite(f["metrics"][k][:]).any()}
        assert metrics["trial_qol_p"]["q975"]["value"] == pytest.approx(float(f["summary/metrics/trial_qol_p"][3]))
    assert 'id="trajectories"' not in page             # output.trajectories is 0 in the trial


def _caveat_titles():
    with open(os.path.join(REPO, "docs", "model.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = re.split(r"^## .*Known simplifications\s*$", text, flags=re.M)[1]
    section = re.split(r"^#{1,2} ", section, flags=re.M)[0]
    return re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.M)


def test_caveats_come_from_model_md_or_their_absence_is_said(rollout, tmp_path):
    titles = _caveat_titles()
    assert len(titles) >= 5
    only = [s for s in report.SECTIONS if s.key == "caveats"]
    out = report.build_report(rollout, out=str(tmp_path / "c.html"), sections=only, strict=True)
    page = open(out, encoding="utf-8").read()
    for t in titles:                   # each caveat's bold title, Markdown rendered (`code` -> <code>)
        rendered = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(t))
        assert f"<b>{rendered}</b>" in page, t
    assert page.split('<section id="caveats">')[1].count("<li>") == len(titles)
    missing = tmp_path / "nowhere" / "model.md"
    report.build_report(rollout, out=str(tmp_path / "m.html"), sections=only, model_doc=str(missing))
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert "caveats could not be included" in page and html.escape(str(missing)) in page
    other = tmp_path / "other.md"
    other.write_text("# Model\n\n## 1. Agents\n\nNothing here.\n")
    report.build_report(rollout, out=str(tmp_path / "o.html"), sections=only, model_doc=str(other))
    assert "has no section" in (tmp_path / "o.html").read_text(encoding="utf-8")


def test_sections_are_pluggable(rollout, tmp_path):
    base = [s for s in report.SECTIONS if s.key in ("summary", "scenario")]

    def extra(rep):
        return f"<p>patients: {rep.n_patients}</p>"

    def broken(rep):
        raise RuntimeError("boom <x>")

    sections = [report.Section("extra", "Extra", extra), report.Section("none", "Left out", lambda rep: None),
                report.Section("broken", "Broken", broken),
                report.Section("cmp", "Compare only", extra, compare_only=True)]
    with pytest.warns(report.ReportWarning, match="broken"):
        report.build_report(rollout, out=str(tmp_path / "x.html"), sections=base, extra_sections=sections)
    page = (tmp_path / "x.html").read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids == ["summary", "extra", "broken", "scenario"]      # before the appendix; None and compare-only left out
    assert "<p>patients: 300</p>" in page and "could not be built" in page and "boom &lt;x&gt;" in page
    with pytest.raises(RuntimeError, match="boom"):
        report.build_report(rollout, out=str(tmp_path / "y.html"), sections=base + sections[2:3], strict=True)
    assert not (tmp_path / "y.html").exists()


def _parse(argv):
    parser = argparse.ArgumentParser()
    report.add_cli(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_writes_the_report_and_refuses_unpaired_runs(rollout, runner, tmp_path, capsys):
    args = _parse(["report", rollout, "-o", str(tmp_path / "r.html"), "--title", "T"])
    assert args.func(args) == 0
    assert "wrote" in capsys.readouterr().out and "<title>T</title>" in (tmp_path / "r.html").read_text()
    other = runner.run("other_seed.h5", "--seed", "12")
    args = _parse(["report", rollout, "--compare", other, "-o", str(tmp_path / "u.html")])
    with pytest.raises(compare.PairingError, match="seeds differ"):
        args.func(args)
    assert not (tmp_path / "u.html").exists()
    args = _parse(["report", rollout, "-o", str(tmp_path / "missing" / "r.html")])
    with pytest.raises(FileNotFoundError):
        args.func(args)


def test_number_formatting():
    assert report.fmt(113944.4) == "113,944"
    assert report.fmt(4.2661) == "4.27"
    assert report.fmt(0.05123) == "0.0512"
    assert report.fmt(16.0) == "16"
    assert report.fmt(-0.0001) == "\u22120.000100"
    assert report.fmt(float("nan")) == "\u2013"
    assert report.fmt_interval(0.2083, 0.1935, 0.2271) == "0.208 [0.194, 0.227]"
    assert report.fmt_interval(-13.9, -30.8, -2.8) == "\u221213.9 [\u221230.8, \u22122.8]"
    assert report.fmt(-0.0004, decimals=2) == "0.00"


def test_a_sweep_is_refused_with_the_command_to_use(rollout, runner, tmp_path):
    with open(os.path.join(runner.root, "rollout_sweep.yaml"), "w", encoding="utf-8") as fh:
        fh.write("extends: rollout.yaml\nreplicates: 1\nsweep:\n  design: latin_hypercube\n  samples: 3\n"
                 "  parameters: {costs.bed_day: [200, 600]}\n")
    sweep = runner.run("rollout_sweep.h5", "--quiet", scenario="rollout_sweep.yaml")
    for a, b in ((sweep, None), (rollout, sweep)):
        with pytest.raises(io.ResultsError, match="a sensitivity sweep .latin_hypercube, 3 points.; analyse it with"):
            report.build_report(a, compare=b, out=str(tmp_path / "s.html"))
    assert not (tmp_path / "s.html").exists()


# ---- findings first ------------------------------------------------------------------------

def test_findings_come_first_and_say_the_paired_totals_in_words(compare_report, rollout, no_dialog):
    page = compare_report[1]
    ids = re.findall(r'<section id="([^"]+)"', page)
    assert ids[0] == "findings" and ids[-3:] == ["provenance", "scenario", "caveats"]
    assert page.index('<section id="findings">') < page.index("<nav>") < page.index("<table")
    findings = html.unescape(re.search(r'<section id="findings">(.*?)</section>', page, re.S).group(1))
    with h5py.File(rollout, "r") as fa, h5py.File(no_dialog, "r") as fb:
        _, n_years = years_of_steps(fa)
        d = (horizon_value(fa, "admissions_involuntary") - horizon_value(fb, "admissions_involuntary")) * 10
        lo, hi = np.quantile(d, [0.025, 0.975])
        words = "no change" if round(abs(d.mean())) == 0 else \
            f"{abs(d.mean()):,.0f} {'more' if d.mean() > 0 else 'fewer'}"
        assert f"Involuntary admissions (detentions): {words} over {n_years} years (95% interval" in findings
        q = horizon_value(fa, "mean_qol") - horizon_value(fb, "mean_qol")
        assert f"Mean quality of life ({text_attr(fa['series/national/mean_qol'], 'unit')}): " \
               f"{report.fmt(abs(q.mean()))} {'higher' if q.mean() > 0 else 'lower'} at the end of year {n_years}" in findings
    # 3 replicates: a warning that the limits are the extremes; which uncertainty is included
    assert "Only 3 replicates." in findings and "chance variation only" in findings
    assert "are guesses in whole or in part" in findings and "<code>costs.bed_day</code>" in compare_report[1]
    assert re.search(r"reproduces \d+ of the \d+ published figures", findings)
    # no negative ratio anywhere: dominance and its opposite are said in words
    assert not re.search(r"\u2212[\d,.]+k? GBP per|GBP \u2212|-\d[\d,]* GBP per", page)


def test_finding_sentences_read_as_a_board_would_say_them():
    row = {"name": "Relapses", "kind": "flow", "unit": "relapses", "effect_mean": -1234.4, "effect_q025": -1500.2,
           "effect_q975": -1000.0, "a_mean": 8000.0, "b_mean": 9234.4, "replicates": 40}
    assert report.finding_sentence(row, ("A", "B"), 5) == \
        "Relapses: 1,234 fewer over 5 years (95% interval 1,000 to 1,500 fewer), 13% of the 9,234 in B."
    row.update(effect_q975=300.0)
    assert "(95% interval 1,500 fewer to 300 more)" in report.finding_sentence(row, ("A", "B"), 5)
    row.update(replicates=1)
    assert "(one run: no interval)" in report.finding_sentence(row, ("A", "B"), 5)
    level = {"name": "Mean quality of life", "kind": "level", "unit": "rating (1-7)", "effect_mean": 0.0523,
             "effect_q025": 0.04, "effect_q975": 0.061, "a_mean": 4.36, "b_mean": 4.31, "replicates": 10}
    assert report.finding_sentence(level, ("A", "B"), 5) == (
        "Mean quality of life (rating (1-7)): 0.0523 higher at the end of year 5 (95% interval 0.0400 to 0.0610 "
        "higher); 4.36 against 4.31.")
    assert report.money(14_700_000) == "GBP 14.7m" and report.money(-9_830) == "GBP 9.83k"
    assert report.fmt_money(-2_230_000) == "\u22122.23m" and report.fmt_money(450) == "450"


def test_one_replicate_has_no_intervals(runner, tmp_path):
    a = runner.run("one_a.h5", "--replicates", "1")
    b = runner.run("one_b.h5", "--replicates", "1", "--set", "dialog.enabled=false")
    out = tmp_path / "one.html"
    report.build_report(a, compare=b, out=str(out), strict=True)
    page = out.read_text(encoding="utf-8")
    findings = re.search(r'<section id="findings">(.*?)</section>', page, re.S).group(1)
    assert "one run: no interval" in findings and "95% interval" not in findings
    for key in ("effects-horizon", "effects-by-year", "costs"):
        for _, cells in tables(page)[key]:
            for c in cells:
                assert "[" not in c["text"], (key, c["text"])       # no "3,653 [3,653, 3,653]"

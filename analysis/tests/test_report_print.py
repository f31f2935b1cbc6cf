"""The report printed to PDF by headless Chromium: every column of the wide tables is on paper.

Chromium (Debian's ``chromium``) prints the page as a planner would (File > Print > Save as PDF)
and ``pdftotext`` (poppler-utils) reads the PDF back. Both are installed by tools/install-deps.sh.
"""

import html
import os
import re
import shutil
import subprocess

import pytest

from therasim_analysis import report
from test_report import rows_by_key, tables

YEARS = 5


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run tools/install-deps.sh (it installs chromium and poppler-utils)")
    return path


@pytest.fixture(scope="module")
def printed(runner, tmp_path_factory):
    a = runner.run("print_a.h5", "--set", f"time.years={YEARS}")
    b = runner.run("print_b.h5", "--set", f"time.years={YEARS}", "--set", "dialog.enabled=false")
    d = tmp_path_factory.mktemp("print")
    page_path = d / "report.html"
    report.build_report(a, compare=b, out=str(page_path), population=300000, strict=True)
    pdf = d / "report.pdf"
    # a fresh profile directory: nothing from the user's browser, nothing left behind
    cmd = [_tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           f"--user-data-dir={d / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
           page_path.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and pdf.exists() and pdf.stat().st_size > 10_000, res.stderr[-2000:]
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    first = subprocess.run([_tool("pdftotext"), "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                           capture_output=True, text=True, check=True, timeout=60).stdout
    return page_path.read_text(encoding="utf-8"), text, first


def _squash(s):
    return re.sub(r"\s+", " ", s)


def test_the_first_printed_page_holds_the_findings(printed):
    _, _, first = printed
    first = _squash(first)
    assert "Findings" in first and "Involuntary admissions (detentions):" in first
    assert "Net cost to the NHS and social services:" in first
    assert "Contents" not in first.split("Findings")[0]          # the answer before anything else


def test_every_column_of_the_wide_tables_is_printed(printed):
    page, text, _ = printed
    flat = _squash(text)
    for period in [f"year {y}" for y in range(1, YEARS + 1)] + [f"years 1-{YEARS}"]:
        assert period in flat, period
    assert "discounted at 3.5%" in flat
    t = tables(page)
    # every mean shown in the by-year effects and the costs, last column included, is in the PDF
    for key in ("effects-by-year", "costs"):
        rows = rows_by_key(t[key])
        assert rows
        for name, cells in rows.items():
            for col, cell in cells.items():
                shown = html.unescape(cell["text"]).split("[")[0].strip()
                assert shown and shown in flat, (key, name, col, shown)
    # and the interval of the last column of the net cost row
    last = rows_by_key(t["costs"])["net_cost"]["national:discounted"]["text"]
    interval = "[" + html.unescape(last).split("[", 1)[1]
    assert _squash(interval) in flat, interval


def test_the_last_column_of_every_table_is_on_paper(printed):
    # A table wider than its page loses its last columns first: every table's last cell of each
    # row (up to 40 rows a table) must be in the PDF's text.
    page, text, _ = printed
    flat = _squash(text)
    t = tables(page)
    assert len(t) >= 8
    for key, rows in t.items():
        for _, cells in rows[:40]:
            last = _squash(html.unescape(cells[-1]["text"])).split("[")[0].strip()
            if last:
                assert last[:60] in flat, (key, last)

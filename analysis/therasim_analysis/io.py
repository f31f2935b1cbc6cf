"""Reading therasim results files (HDF5, schema version 2) into pandas.

Every function takes either a path or a file opened with :func:`open_results`. Units and labels
come from the file's own attributes and are kept in ``DataFrame.attrs``; nothing here
hard-codes a series' unit.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tempfile
from contextlib import contextmanager

import h5py
import numpy as np
import pandas as pd

FORMAT = "therasim results"
#: The format of one shard's file (therasim run --shard): refused until merged.
SHARD_FORMAT = "therasim results shard"
SCHEMA_VERSION = 2
DAYS_PER_YEAR = 365.25
SERIES_ATTRS = ("unit", "label", "stat", "kind", "headline")


class ResultsError(ValueError):
    """A file that is not a complete therasim results file of the layout this package reads."""


class OutputError(ValueError):
    """An output that must not be written: one of the inputs, not a regular file, or an existing
    file without ``overwrite``."""


def _text(value):
    """An HDF5 string attribute as ``str`` (h5py returns ``str`` or ``bytes``)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value


def _attr(obj, name, default=None):
    if name not in obj.attrs:
        return default
    value = _text(obj.attrs[name])
    if isinstance(value, np.generic):
        value = value.item()
    return value


def open_results(path):
    """Open a results file read-only after checking that it is one this package can read.

    Args:
        path: path of an HDF5 file written by ``therasim run``.

    Returns:
        An open ``h5py.File`` (use it in a ``with`` block or close it).

    Raises:
        FileNotFoundError: the path does not exist.
        ResultsError: the file is not HDF5, not a therasim results file, of another
            ``schema_version`` than 2, or incomplete (``complete`` is not 1).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    parts = os.path.abspath(path).split(os.sep)
    if any(".partial-" in p for p in parts[-2:]):
        raise ResultsError(f"{path}: the partial file of an unfinished run, not a result")
    if not os.path.isfile(path):
        raise ResultsError(f"{path}: not a regular file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ResultsError(f"{path}: not an HDF5 file ({err})") from None
    try:
        fmt = _attr(f, "format")
        if fmt == SHARD_FORMAT:
            shard = f["shard"].attrs if "shard" in f else {}
            raise ResultsError(f"{path}: a shard's file (shard {shard.get('index', '?')} of "
                               f"{shard.get('count', '?')}), not a whole result: merge the shards "
                               f"first with `therasim merge -o OUT.h5 PART...` (docs/cluster.md)")
        if fmt != FORMAT:
            raise ResultsError(f"{path}: not a therasim results file (format attribute is {fmt!r}, "
                               f"expected {FORMAT!r})")
        version = _attr(f, "schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsError(f"{path}: results layout schema_version {version}, but this package "
                               f"reads schema_version {SCHEMA_VERSION}; use the therasim_analysis "
                               f"that matches the program that wrote the file, or re-run the "
                               f"scenario with this version")
        if _attr(f, "complete") != 1:
            raise ResultsError(f"{path}: incomplete results file (no complete = 1): the run was "
                               f"interrupted or failed while writing; re-run it")
        _check_layout(f, path)
    except BaseException:
        f.close()
        raise
    return f


def _check_layout(f, path):
    """Check the rank, shape and type of everything the readers use; raise ResultsError naming
    the file and the object otherwise (a damaged or hand-made file, not one therasim wrote)."""
    def bad(what, why):
        raise ResultsError(f"{path}: {what} {why}; the file is damaged or was not written by therasim")

    def dataset(name, ndim=None, numeric=True):
        if name not in f or not isinstance(f[name], h5py.Dataset):
            bad(name, "is missing")
        d = f[name]
        if ndim is not None and d.ndim != ndim:
            bad(name, f"has {d.ndim} dimensions, expected {ndim}")
        if numeric and d.dtype.kind not in "iuf":
            bad(name, f"is not numeric ({d.dtype})")
        return d

    for key in ("replicates", "schema_version", "complete"):
        if np.shape(f.attrs[key]) not in ((), (1,)):
            bad(f"attribute {key}", "is not a single value")
    reps = _attr(f, "replicates")
    if not isinstance(reps, (int, np.integer)) or isinstance(reps, bool) or reps < 1:
        bad("attribute replicates", f"is {reps!r}, expected a positive integer")
    # What is present must be well formed (readers that need what is absent say so themselves).
    if "time" not in f:
        return
    step = dataset("time/step", 1)
    day = dataset("time/day", 1)
    if len(step) < 1 or len(day) != len(step):
        bad("time axis", f"has {len(step)} steps and {len(day)} days, expected the same number, at least 1")
    n = len(step)
    for group, lead in (("series/national", reps), ("summary/national", 4)):
        if group not in f:
            continue
        for name in f[group]:
            d = dataset(f"{group}/{name}", 2)
            if d.shape != (lead, n):
                bad(f"{group}/{name}", f"has shape {d.shape}, expected ({lead}, {n})")
    if "metrics" in f:
        for name in f["metrics"]:
            d = dataset(f"metrics/{name}", 1)
            if d.shape != (reps,):
                bad(f"metrics/{name}", f"has shape {d.shape}, expected ({reps},)")
    if "provenance" in f:
        for key, value in f["provenance"].attrs.items():
            if np.shape(value) not in ((), (1,)):
                bad(f"provenance attribute {key}", "is not a single value")


def check_output(out, inputs=(), overwrite=False):
    """Refuse, before any work, an output that cannot be written safely.

    Args:
        out: the file to write.
        inputs: files the command reads; the output may not be one of them.
        overwrite: allow replacing an existing regular file.

    Raises:
        OutputError: ``out`` is one of ``inputs``, exists and is not a regular file, or exists
            and ``overwrite`` is false.
        FileNotFoundError: its directory does not exist.
    """
    out = os.fspath(out)
    for i in inputs:
        if i is not None and os.path.exists(out) and os.path.exists(i) and os.path.samefile(out, i):
            raise OutputError(f"{out}: is one of the inputs ({i}); give another output")
    if os.path.lexists(out):
        mode = os.stat(out).st_mode if os.path.exists(out) else 0
        if not stat.S_ISREG(mode):
            raise OutputError(f"{out}: exists and is not a regular file; give a file name")
        if not overwrite:
            raise OutputError(f"{out}: exists; pass --overwrite to replace it")
    out_dir = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(out_dir):
        raise FileNotFoundError(f"{out}: the directory {out_dir} does not exist")


def write_output(out, data, overwrite=False):
    """Write ``data`` to ``out`` so that no reader ever sees a part of it and nothing that
    appeared at ``out`` meanwhile is replaced without ``overwrite``.

    The data goes to a temporary file of its own in the same directory (two writers never share
    one), is flushed, and is then linked into place (a link never replaces a file) or, with
    ``overwrite``, renamed over a regular file. The temporary file is removed whatever happens.

    Args:
        out: the file to write.
        data: ``str`` (written as UTF-8) or ``bytes``.
        overwrite: allow replacing an existing regular file.

    Returns:
        ``out``.

    Raises:
        OutputError: ``out`` appeared meanwhile (without ``overwrite``) or is not a regular file.
        OSError: the file system refused (full disk, no permission).
    """
    out = os.fspath(out)
    if isinstance(data, str):
        data = data.encode("utf-8")
    out_dir = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=os.path.basename(out) + ".partial-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            if os.path.lexists(out) and not stat.S_ISREG(os.lstat(out).st_mode):
                raise OutputError(f"{out}: is not a regular file; it is not replaced")
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)
            except FileExistsError:
                raise OutputError(f"{out}: was created by something else meanwhile and is left as "
                                  f"it is; pass --overwrite to replace it") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


@contextmanager
def _opened(f):
    """Yield an open results file: ``f`` itself if already open, else open (and close) a path."""
    if isinstance(f, h5py.File):
        yield f
    else:
        handle = open_results(f)
        try:
            yield handle
        finally:
            handle.close()


def time_axis(f):
    """The time axis of a results file.

    Args:
        f: path or open results file.

    Returns:
        DataFrame with one row per step (row 0 is the baseline): ``step`` (steps), ``day``
        (days since the start) and ``year`` (the year 1..n the step falls in; 0 for step 0).
        A step belongs to the year its end day falls in; a last step that ends just past the
        horizon (a partial step) counts in the final year. ``attrs["n_years"]`` is the number
        of years of the horizon.
    """
    with _opened(f) as h:
        step = h["time/step"][:].astype(np.int64)
        day = h["time/day"][:].astype(float)
    step_days = float(day[1] - day[0]) if len(day) > 1 else DAYS_PER_YEAR
    # The horizon is n_steps = round(years * 365.25 / step_days) steps, so the true horizon lies
    # within half a step of the last day: the final year is the one that half-step back falls in.
    n_years = max(1, math.ceil((day[-1] - step_days / 2) / DAYS_PER_YEAR - 1e-9))
    year = np.minimum(np.ceil(day / DAYS_PER_YEAR - 1e-9), n_years).astype(np.int64)
    year[0] = 0
    year[1:] = np.maximum(year[1:], 1)
    out = pd.DataFrame({"step": step, "day": day, "year": year})
    out.attrs.update(n_years=n_years, step_days=step_days, units={"step": "steps", "day": "days",
                                                                   "year": "years"})
    return out


def dimensions(f):
    """The grouping dimensions of grouped series.

    Args:
        f: path or open results file.

    Returns:
        dict from dimension name (in axis order: arm, region, severity) to its list of levels.
    """
    with _opened(f) as h:
        order = _attr(h["dimensions"], "order").split(",")
        return {name: list(h[f"dimensions/{name}"].asstr()[:]) for name in order}


def series_names(f, grouped=False):
    """Names of the series in a file.

    Args:
        f: path or open results file.
        grouped: True for the series that have a grouped (arm, region, severity) dataset.

    Returns:
        sorted list of series names.
    """
    with _opened(f) as h:
        if grouped and "series/grouped" not in h:
            return []
        return sorted(h["series/grouped" if grouped else "series/national"].keys())


def _require_grouped(h):
    """Raise ResultsError for a file written with ``output.grouped: false``."""
    if "series/grouped" not in h:
        raise ResultsError(f"{h.filename}: no series by arm, region and severity (the run had "
                           "output.grouped: false); national series only")


def series_info(f, name):
    """Attributes of a series: unit, label, stat, kind, headline, denominator and direction.

    Args:
        f: path or open results file.
        name: series name, e.g. ``"mean_qol"``.

    Returns:
        dict with the file's attributes plus ``denominator`` (the series a mean is taken over,
        ``None`` for a sum), ``grouped`` (whether a grouped dataset exists) and ``better``
        (``"higher"`` or ``"lower"``: which way is an improvement; ``None`` if the file says not).
    """
    with _opened(f) as h:
        if name not in h["series/national"]:
            raise KeyError(f"no series {name!r} in {h.filename}; series are: "
                           f"{', '.join(sorted(h['series/national'].keys()))}")
        ds = h[f"series/national/{name}"]
        info = {key: _attr(ds, key) for key in SERIES_ATTRS}
        info["name"] = name
        stat = info.get("stat") or "sum"
        info["denominator"] = stat[len("mean over "):].strip() if stat.startswith("mean over ") else None
        info["grouped"] = "series/grouped" in h and name in h["series/grouped"]
        info["better"] = _attr(ds, "better")      # "higher", "lower" or None (no direction)
        return info


def series(f, name, grouped=False):
    """One output series, every replicate, as a tidy DataFrame.

    Args:
        f: path or open results file.
        name: series name (see ``series_names``), e.g. ``"engaged"`` (patients) or
            ``"mean_qol"`` (rating 1-7).
        grouped: False for the national series (all patients); True for the series by
            ``arm`` (DIALOG exposure in that step), ``region`` and baseline ``severity``.

    Returns:
        DataFrame with columns ``replicate``, ``step`` (steps), ``day`` (days), ``year``
        (year of the horizon, 0 for the baseline step), then ``arm``, ``region``, ``severity``
        if grouped, and ``value`` in the series' unit. ``df.attrs`` holds ``name``, ``unit``,
        ``label``, ``stat``, ``kind``, ``headline``, ``denominator``, ``grouped`` and ``n_years``.
        Empty groups of a mean series have the value NaN.
    """
    with _opened(f) as h:
        info = series_info(h, name)
        if grouped:
            _require_grouped(h)
        if grouped and not info["grouped"]:
            raise KeyError(f"series {name!r} is national only (no grouped dataset)")
        data = h[f"series/{'grouped' if grouped else 'national'}/{name}"][...]
        t = time_axis(h)
        dims = dimensions(h) if grouped else {}
    return _long(data, t, dims, ["replicate"], info)


def _long(data, t, dims, lead_names, info, value_name="value"):
    """Flatten [lead..., step, dims...] to a long DataFrame (C order: last axis fastest)."""
    shape = data.shape
    n_lead = len(lead_names)
    axes = [np.arange(n) for n in shape]
    grids = np.meshgrid(*axes, indexing="ij", copy=False)
    cols = {}
    for i, lead in enumerate(lead_names):
        cols[lead] = grids[i].ravel()
    step_idx = grids[n_lead].ravel()
    cols["step"] = t["step"].to_numpy()[step_idx]
    cols["day"] = t["day"].to_numpy()[step_idx]
    cols["year"] = t["year"].to_numpy()[step_idx]
    for k, (dim, levels) in enumerate(dims.items()):
        codes = grids[n_lead + 1 + k].ravel()
        cols[dim] = pd.Categorical.from_codes(codes, categories=levels)
    if isinstance(value_name, str):
        cols[value_name] = data.ravel().astype(float)
    df = pd.DataFrame(cols)
    df.attrs.update(info)
    df.attrs["n_years"] = t.attrs["n_years"]
    return df


def summary(f, name, grouped=False):
    """The file's summary of a series over replicates: mean and 2.5/50/97.5% quantiles.

    Args:
        f: path or open results file.
        name: series name, e.g. ``"mean_qol"``.
        grouped: False for national, True by arm, region and severity.

    Returns:
        DataFrame with ``step``, ``day``, ``year``, [``arm``, ``region``, ``severity``] and one
        column per statistic of ``/summary@statistics`` (``mean``, ``q025``, ``q50``,
        ``q975``), in the series' unit; ``df.attrs`` as for :func:`series`.
    """
    with _opened(f) as h:
        info = series_info(h, name)
        if grouped:
            _require_grouped(h)
        stats = _attr(h["summary"], "statistics").split(",")
        data = h[f"summary/{'grouped' if grouped else 'national'}/{name}"][...]
        t = time_axis(h)
        dims = dimensions(h) if grouped else {}
    base = _long(data[0], t, dims, [], info, value_name=None)
    for i, stat in enumerate(stats):
        base[stat] = data[i].ravel().astype(float)
    base.attrs["statistics"] = stats
    return base


def agents(f, agent_type="patient", when="final"):
    """Per-agent state of replicate 0, one row per agent.

    Args:
        f: path or open results file.
        agent_type: ``patient``, ``dyad``, ``clinician``, ``family``, ``team`` or ``trust``.
        when: ``"final"`` (end of the run) or ``"baseline"`` (step 0; patient, dyad and family).

    Returns:
        DataFrame indexed by agent row (``id``), one column per attribute in its own type.
        ``df.attrs["units"]`` and ``df.attrs["labels"]`` map attribute to unit and label
        (from the file; absent when the file gives none); ``df.attrs["replicate"]`` is the
        replicate the states belong to.
    """
    if when not in ("final", "baseline"):
        raise ValueError(f"when must be 'final' or 'baseline', not {when!r}")
    with _opened(f) as h:
        if agent_type not in h["agents"]:
            raise KeyError(f"no agent type {agent_type!r}; types are: {', '.join(h['agents'].keys())}")
        group = h[f"agents/{agent_type}"]
        if when not in group:
            raise KeyError(f"agent type {agent_type!r} has no {when} state in {h.filename}")
        cols, units, labels = {}, {}, {}
        for attr, ds in group[when].items():
            cols[attr] = ds[:]
            if "unit" in ds.attrs:
                units[attr] = _attr(ds, "unit")
            if "label" in ds.attrs:
                labels[attr] = _attr(ds, "label")
        df = pd.DataFrame(cols)
        df.index.name = "id"
        df.attrs.update(agent_type=agent_type, when=when, label=_attr(group, "label"),
                        units=units, labels=labels, replicate=_attr(h["agents"], "replicate", 0))
    return df


def trajectories(f):
    """Every step of the sampled patients (replicate 0), when the run traced any.

    Args:
        f: path or open results file.

    Returns:
        Long DataFrame with ``step``, ``day``, ``year``, ``patient`` (patient row) and one column
        per traced attribute (``symptoms`` in BPRS, ``star_p`` in STAR 0-4, ``adherence`` as a
        fraction, ``engaged`` 0/1, ...). ``df.attrs["units"]``/``["labels"]`` come from the
        trajectory datasets or, when they carry none, from the same attribute in ``/agents``.
        Empty (no rows) if the file has no ``/trajectories``.
    """
    with _opened(f) as h:
        t = time_axis(h)
        if "trajectories" not in h:
            return pd.DataFrame(columns=["step", "day", "year", "patient"])
        g = h["trajectories"]
        rows = g["row"][:].astype(np.int64)
        n_t, k = len(t), len(rows)
        cols = {"step": np.repeat(t["step"].to_numpy(), k), "day": np.repeat(t["day"].to_numpy(), k),
                "year": np.repeat(t["year"].to_numpy(), k), "patient": np.tile(rows, n_t)}
        units, labels = {}, {}
        for attr, ds in g.items():
            if attr == "row":
                continue
            cols[attr] = ds[...].astype(float).ravel()
            unit, label = _attr(ds, "unit"), _attr(ds, "label")
            for agent_type in ("patient", "dyad"):
                src = f"agents/{agent_type}/final/{attr}"
                if src in h:
                    unit = unit if unit is not None else _attr(h[src], "unit")
                    label = label if label is not None else _attr(h[src], "label")
            if unit is not None:
                units[attr] = unit
            if label is not None:
                labels[attr] = label
        df = pd.DataFrame(cols)
        df.attrs.update(units=units, labels=labels, replicate=_attr(g, "replicate", 0),
                        n_years=t.attrs["n_years"])
    return df


def scenario(f):
    """The fully resolved scenario the run used (every parameter's value), as YAML text.

    Args:
        f: path or open results file.

    Returns:
        str: the YAML of ``/provenance/scenario_yaml``.
    """
    with _opened(f) as h:
        return h["provenance/scenario_yaml"].asstr()[0]


def scenario_value(text, dotted, default=None):
    """One value of the resolved scenario YAML by dotted key (``adherence.good_threshold``).

    Args:
        text: the YAML (:func:`scenario`).
        dotted: dotted key.
        default: returned when the key is absent (an older file).
    """
    try:
        import yaml
    except ImportError:                                 # python3-yaml is optional
        return _plain_lookup(text, dotted, default)
    node = yaml.safe_load(text)
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _plain_lookup(text, dotted, default=None):
    """A scalar of block-style YAML by dotted key, following indentation (no PyYAML needed)."""
    lines = text.splitlines()
    indent = ""
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        pat = re.compile(rf"^{indent}{re.escape(part)}:\s*(.*?)\s*$")
        for i, line in enumerate(lines):
            m = pat.match(line)
            if m:
                break
        else:
            return default
        if depth == len(parts) - 1:
            value = m.group(1).strip().strip('"')
            try:
                return int(value)
            except ValueError:
                try:
                    return float(value)
                except ValueError:
                    return value
        # the block of this key: the following lines indented deeper than it
        block = []
        for line in lines[i + 1:]:
            if line.strip() and not line.startswith(indent + " "):
                break
            block.append(line)
        lines = block
        indent = re.match(r"^(\s*)", next((b for b in block if b.strip()), indent + "  ")).group(1)
    return default


def provenance(f):
    """Provenance attributes (scenario name, seed, replicates, versions, ...).

    Args:
        f: path or open results file.

    Returns:
        dict of ``/provenance`` and root attributes (``seed`` is an int, ``wall_time_s`` in s).
    """
    with _opened(f) as h:
        out = {key: _attr(h, key) for key in h.attrs}
        out.update({key: _attr(h["provenance"], key) for key in h["provenance"].attrs})
        out["path"] = h.filename
        out["done"] = h["replicates/done"][:].astype(int).tolist()
    return out


def n_patients(f):
    """Patients in the run (national ``patients`` series at step 0 of replicate 0).

    Args:
        f: path or open results file.

    Returns:
        int: number of patients.
    """
    with _opened(f) as h:
        return int(round(float(h["series/national/patients"][0, 0])))


def yearly(df, value_columns=None):
    """Aggregate a tidy series table to years: flows summed, levels read at the year's end.

    The series' ``kind`` attribute (kept in ``df.attrs`` by :func:`series`) decides: a flow
    (events or amounts during a step) is summed over the steps of the year; a level (a state at
    the end of a step) is its value at the year's last step. Step 0 (the baseline, year 0) is
    left out; a last partial step counts in the final year (see :func:`time_axis`).

    Args:
        df: a table from :func:`series` (or one with the same columns and attrs).
        value_columns: columns to aggregate (default ``["value"]``).

    Returns:
        DataFrame with one row per year (1..n) and per replicate/group column present, in the
        series' unit; attrs are kept.
    """
    kind = df.attrs.get("kind")
    if kind not in ("flow", "level"):
        raise ValueError(f"yearly needs the series' kind ('flow' or 'level') in df.attrs, got {kind!r}")
    value_columns = value_columns or ["value"]
    keys = [c for c in ("replicate", "arm", "region", "severity", "dimension", "group") if c in df.columns]
    d = df[df["year"] > 0]
    if kind == "flow":
        out = d.groupby(keys + ["year"], observed=True, sort=True)[value_columns].sum(min_count=1)
        out = out.reset_index()
    else:
        last = d.groupby("year")["step"].transform("max")
        out = d[d["step"] == last].drop(columns=["step", "day"])
        out = out[keys + ["year"] + value_columns].sort_values(keys + ["year"]).reset_index(drop=True)
    out.attrs.update(df.attrs)
    return out

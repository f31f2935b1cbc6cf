"""The hash of every series of run 0 of a results file, as the explorer computes it.

Usage: series_hash.py RESULTS.h5   prints JSON {"national/NAME": hex, "grouped/NAME": hex,
"trajectories/ATTRIBUTE": hex}: 64-bit FNV-1a over the values' bits, a word per value (float64
series, float32 trajectories), every NaN taken as the canonical NaN. web/explorer.cpp's
ts_hashes() computes the same from the explorer's engine; tests/web compares the two.
"""
import json
import sys

import h5py
import numpy as np

OFFSET, PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def fnv(values):
    a = np.ascontiguousarray(values).ravel()
    if a.dtype == np.float64:
        words = a.view(np.uint64).copy()
        words[np.isnan(a)] = 0x7FF8000000000000
    elif a.dtype == np.float32:
        words = a.view(np.uint32).astype(np.uint64)
        words[np.isnan(a)] = 0x7FC00000
    else:
        raise TypeError(f"cannot hash {a.dtype}")
    h = OFFSET
    for w in words.tolist():
        h = ((h ^ w) * PRIME) & MASK
    return f"{h:016x}"


def hashes(path):
    out = {}
    with h5py.File(path, "r") as f:
        for kind in ("national", "grouped"):
            group = f.get(f"series/{kind}")
            if group is None:
                continue
            for name in group:
                out[f"{kind}/{name}"] = fnv(group[name][0])
        if "trajectories" in f:
            for name in f["trajectories"]:
                if name != "row":
                    out[f"trajectories/{name}"] = fnv(f["trajectories"][name][()])
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    json.dump(hashes(sys.argv[1]), sys.stdout, indent=1, sort_keys=True)
    print()

"""Compares two therasim results files dataset for dataset and attribute for attribute, bytes
and all, apart from what differs between one process and merged shards: the start and wall
times and the shard list (the same skips as tests/sim/test_shards.cpp). Exit 0 if the same;
otherwise prints the first differences and exits 1.

    /usr/bin/python3 tests/cluster/h5same.py A.h5 B.h5
"""
import sys

import h5py
import numpy as np

SKIP = {"start_time", "wall_time_s", "merged_shards"}


def value(v):
    """Bytes of a numeric value; the items of a string or variable-length one."""
    a = np.asarray(v)
    return a.tobytes() if a.dtype.kind not in "OSU" else repr(a.tolist())


def contents(path):
    out = {}
    with h5py.File(path, "r") as f:
        def attrs(name, obj):
            for k, v in obj.attrs.items():
                if k not in SKIP:
                    out[f"{name}@{k}"] = value(v)
        attrs("/", f)

        def visit(name, obj):
            if name.rsplit("/", 1)[-1] in SKIP:
                return
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset):
                out[name] = value(obj[()])
        f.visititems(visit)
    return out


def main(a, b):
    ca, cb = contents(a), contents(b)
    diff = sorted(k for k in ca.keys() | cb.keys() if ca.get(k) != cb.get(k))
    if diff:
        print(f"{len(diff)} differences between {a} and {b}: " + ", ".join(diff[:10]))
        return 1
    if len(ca) < 50:
        print(f"only {len(ca)} objects compared: not a results file?")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

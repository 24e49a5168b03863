"""Counts how ember.load and torch.load (weights_only=True) treat the hostile corpus and the mutation fuzz corpus of
tests/test_serialization_hostile.py, and times ember on the allocation bombs.

Run from the repository root: python bench/hostile_checkpoints.py
"""
import collections
import io
import os
import pathlib
import pickle
import random
import resource
import sys
import tempfile
import time
import tracemalloc
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
resource.setrlimit(resource.RLIMIT_AS, (12 << 30, 12 << 30))  # torch may try to allocate what a file declares
warnings.simplefilter("ignore")

import torch

import ember
from tests import test_serialization_hostile as corpus


def outcome(load, data):
    try:
        load(io.BytesIO(data))
        return "loaded"
    except (pickle.UnpicklingError, RuntimeError) as error:
        return type(error).__name__
    except Exception as error:  # noqa: BLE001 - counting every kind of refusal
        return "other: " + type(error).__name__


def torch_load(file):
    return torch.load(file, weights_only=True)


def main():
    directory = pathlib.Path(tempfile.mkdtemp())
    hostile = corpus._cases(directory / "canary")
    print(f"{len(hostile)} hostile files")
    print("  ember:", dict(collections.Counter(outcome(ember.load, d) for d in hostile.values())))
    print("  torch:", dict(collections.Counter("not run (would allocate GBs)" if n in corpus.TORCH_UNSAFE
                                               else outcome(torch_load, d) for n, d in hostile.items())))
    print("  canary written:", (directory / "canary").exists())
    files, rng, mutated = corpus._valid_checkpoints(), random.Random(1234), []
    for _ in range(400):
        for original in files:
            if original.startswith(b"PK") and rng.random() < 0.5:
                mutated.append(corpus._with_pickle(original, corpus._mutate(corpus._data_pkl(original), rng)))
            else:
                mutated.append(corpus._mutate(original, rng))
    print(f"{len(mutated)} mutated checkpoints")
    print("  ember:", dict(collections.Counter(outcome(ember.load, d) for d in mutated)))
    print("  torch:", dict(collections.Counter(outcome(torch_load, d) for d in mutated)))
    for name in ["bytearray 4 GiB", "bytes 4 GiB", "data.pkl inflating to 1 GiB", "storage record inflating to 1 GiB",
                 "data.pkl declared small, inflating to 1 GiB", "legacy storage of 1 TiB"]:
        tracemalloc.start()
        start = time.perf_counter()
        result = outcome(ember.load, hostile[name])
        elapsed, peak = time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"  {name} ({len(hostile[name]) / 1e6:.2f} MB file): {result} in {elapsed * 1e3:.1f} ms, "
              f"peak {peak / 1e6:.2f} MB")


if __name__ == "__main__":
    main()

"""The small training problem the DDP job and its torch reference share (plain NumPy, no framework)."""
import numpy as np

WORLD_BATCH, STEPS, MICRO = 8, 6, 2   # samples per step across all ranks, steps, micro-batches in no_sync runs


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"0.weight": rng.normal(size=(8, 5)) / 2, "0.bias": rng.normal(size=8) / 4,
            "2.weight": rng.normal(size=(3, 8)) / 2, "2.bias": rng.normal(size=3) / 4}


def batches(micro=1):
    """``STEPS`` steps, each ``micro`` (inputs, labels) pairs of WORLD_BATCH rows."""
    rng = np.random.default_rng(42)
    return [[(rng.normal(size=(WORLD_BATCH, 5)), rng.integers(0, 3, WORLD_BATCH)) for _ in range(micro)]
            for _ in range(STEPS)]

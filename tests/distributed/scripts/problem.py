"""The small training problem the DDP job and its torch reference share (plain NumPy, no framework)."""
import numpy as np

WORLD_BATCH, STEPS, MICRO = 8, 6, 2   # samples per step across all ranks, steps, micro-batches in no_sync runs


def initial_weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"0.weight": rng.normal(size=(8, 5)) / 2, "0.bias": rng.normal(size=8) / 4,
            "2.weight": rng.normal(size=(3, 8)) / 2, "2.bias": rng.normal(size=3) / 4}


def batchnorm_weights():
    """Weights for Linear(5, 8), BatchNorm1d(8), Tanh, Linear(8, 3)."""
    rng = np.random.default_rng(1)
    w = initial_weights(0)
    return {"0.weight": w["0.weight"], "0.bias": w["0.bias"], "1.weight": 1 + rng.normal(size=8) / 4,
            "1.bias": rng.normal(size=8) / 4, "1.running_mean": np.zeros(8), "1.running_var": np.ones(8),
            "1.num_batches_tracked": np.array(0), "3.weight": w["2.weight"], "3.bias": w["2.bias"]}


def batches(micro=1):
    """``STEPS`` steps, each ``micro`` (inputs, labels) pairs of WORLD_BATCH rows."""
    rng = np.random.default_rng(42)
    return [[(rng.normal(size=(WORLD_BATCH, 5)), rng.integers(0, 3, WORLD_BATCH)) for _ in range(micro)]
            for _ in range(STEPS)]

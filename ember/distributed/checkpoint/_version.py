"""The flattening rules a load falls back to: ``"2_3"`` while DefaultLoadPlanner retries a checkpoint saved by
PyTorch 2.3 (which kept a dict or list holding no tensor as one value)."""
_derived_version = None

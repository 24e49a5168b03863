"""``ember.backends``: PyTorch's backend switches, accepted so code that sets them runs unchanged."""
from types import SimpleNamespace

cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                        is_available=lambda: False, version=lambda: None)
"""Flags of ``torch.backends.cudnn``; ember has no cuDNN, so they change nothing."""

mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
"""``torch.backends.mps``: Apple GPUs are not an ember backend."""

"""``ember.backends``: PyTorch's backend switches, importable as modules (``torch.backends.cudnn``), so code that
sets them runs unchanged."""
from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp, quantized  # noqa: F401

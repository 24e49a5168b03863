"""``ember.backends``: PyTorch's backend switches, importable as modules (``torch.backends.cudnn``), so code that
sets them runs unchanged."""
from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, openmp, quantized  # noqa: F401
from ._switches import allow_nonbracketed_mutation as __allow_nonbracketed_mutation  # noqa: F401  (PyTorch's name)
from ._switches import disable_global_flags, flags_frozen  # noqa: F401

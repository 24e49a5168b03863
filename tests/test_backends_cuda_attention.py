"""backends.cuda's attention switches beside PyTorch's: the deprecated sdp_kernel, the reduced-precision math flag,
and the names re-exported from nn.attention."""
import pytest
import torch

import ember

FLAGS = ("flash_sdp_enabled", "mem_efficient_sdp_enabled", "math_sdp_enabled", "cudnn_sdp_enabled")


def _flags(library):
    return [getattr(library.backends.cuda, flag)() for flag in FLAGS]


@pytest.mark.parametrize("switches", [dict(enable_flash=False), dict(enable_math=False, enable_cudnn=False),
                                      dict(enable_flash=False, enable_mem_efficient=False)])
def test_sdp_kernel_as_pytorch(switches):
    seen = []
    for library in (ember, torch):
        with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
            with library.backends.cuda.sdp_kernel(**switches):
                inside = _flags(library)
        seen.append((inside, _flags(library)))
    assert seen[0] == seen[1]


def test_flags_and_names():
    for library in (ember, torch):
        cuda = library.backends.cuda
        assert cuda.fp16_bf16_reduction_math_sdp_allowed() is False
        cuda.allow_fp16_bf16_reduction_math_sdp(True)
        assert cuda.fp16_bf16_reduction_math_sdp_allowed() is True
        cuda.allow_fp16_bf16_reduction_math_sdp(False)
        assert cuda.is_flash_attention_available() is False
        assert int(cuda.SDPBackend.MATH) == 0
    assert ember.backends.cuda.SDPAParams is ember.nn.attention.SDPAParams
    assert ember.backends.cuda.can_use_flash_attention is ember.nn.attention.can_use_flash_attention
    with pytest.raises(AttributeError):
        ember.backends.cuda.no_such_switch

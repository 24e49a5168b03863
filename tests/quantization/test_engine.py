"""``backends.quantized``: the engine switch reads and refuses as torch's; engines other than x86/fbgemm warn that
ember still computes as x86."""
import pytest
import torch

import ember


def test_engine_switch():
    engine = ember.backends.quantized
    assert engine.engine == torch.backends.quantized.engine == "x86"
    assert engine.supported_engines == torch.backends.quantized.supported_engines
    with pytest.raises(RuntimeError) as expected:
        torch.backends.quantized.engine = "foo"
    with pytest.raises(RuntimeError) as got:
        engine.engine = "foo"
    assert str(got.value) == str(expected.value)
    try:
        engine.engine = "fbgemm"
        assert engine.engine == "fbgemm"
        engine._warned = False
        with pytest.warns(UserWarning, match="computes quantized ops as the x86/fbgemm engine"):
            engine.engine = "qnnpack"
        assert engine.engine == "qnnpack"
    finally:
        engine.engine = "x86"

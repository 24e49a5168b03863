"""nn.attention.sdpa_kernel and backends.cuda's attention switches against PyTorch's on the CPU: which backend sets
still run scaled_dot_product_attention (and with the same values), PyTorch's errors where none can, and the switches
restored on leaving the block."""
import numpy
import pytest
import torch
from torch.nn.attention import SDPBackend as TorchBackend

import ember
from ember.nn.attention import SDPBackend

SETS = [["MATH"], ["FLASH_ATTENTION"], ["EFFICIENT_ATTENTION"], ["CUDNN_ATTENTION"], ["OVERRIDEABLE"],
        ["EFFICIENT_ATTENTION", "MATH"], ["FLASH_ATTENTION", "CUDNN_ATTENTION"], []]
CASES = {"4-D": ((2, 3, 4, 8), {}), "3-D": ((3, 4, 8), {}), "dropout": ((2, 3, 4, 8), {"dropout_p": 0.5}),
         "mask": ((2, 3, 4, 8), {"is_causal": True})}


def _run(lib, backend, names, shape, options):
    q = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    chosen = [getattr(backend, n) for n in names]
    try:
        with lib.nn.attention.sdpa_kernel(chosen):
            out = lib.nn.functional.scaled_dot_product_attention(*(lib.from_numpy(q),) * 3, **options)
        return "ok", out.numpy() if not options.get("dropout_p") else None
    except RuntimeError as error:
        return "error", str(error)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("names", SETS, ids=["+".join(s) or "none" for s in SETS])
@pytest.mark.parametrize("case", list(CASES))
def test_backends_that_run_match_torch(names, case):
    shape, options = CASES[case]
    ours, theirs = _run(ember, SDPBackend, names, shape, options), _run(torch, TorchBackend, names, shape, options)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "error":
        assert ours[1] == theirs[1]
    elif ours[1] is not None:
        numpy.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)


def test_switches_are_restored_and_checked():
    cuda = ember.backends.cuda
    assert {b.name: int(b) for b in SDPBackend} == {b.name: int(b) for b in TorchBackend.__members__.values()}
    for name in ("MATH", "CUDNN_ATTENTION"):
        ours, theirs = getattr(SDPBackend, name), getattr(TorchBackend, name)
        assert (repr(ours), str(ours), f"{ours}", ours == int(ours), ours == type(ours)(int(ours)), "abcde"[ours]) \
            == (repr(theirs), str(theirs), f"{theirs}", theirs == int(theirs), theirs == type(theirs)(int(theirs)),
                "abcde"[theirs])
    with ember.nn.attention.sdpa_kernel(SDPBackend.FLASH_ATTENTION):
        assert (cuda.flash_sdp_enabled(), cuda.math_sdp_enabled(), cuda.mem_efficient_sdp_enabled(),
                cuda.cudnn_sdp_enabled()) == (True, False, False, False)
        with ember.nn.attention.sdpa_kernel([SDPBackend.MATH]):
            assert cuda.math_sdp_enabled() and not cuda.flash_sdp_enabled()
        assert cuda.flash_sdp_enabled() and not cuda.math_sdp_enabled()
    assert cuda.flash_sdp_enabled() and cuda.math_sdp_enabled() and cuda.mem_efficient_sdp_enabled()
    with pytest.raises(ZeroDivisionError):
        with ember.nn.attention.sdpa_kernel(SDPBackend.EFFICIENT_ATTENTION):
            1 / 0
    assert cuda.math_sdp_enabled() and cuda.flash_sdp_enabled()
    cuda.enable_math_sdp(False)
    try:
        assert not cuda.math_sdp_enabled()
    finally:
        cuda.enable_math_sdp(True)
    for lib in (ember, torch):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend or a list of SDPBackend "
                                                 "instances, got str"):
            with lib.nn.attention.sdpa_kernel("math"):
                pass

"""nn.functional differences found by the nn sweep, each compared with PyTorch in the test: convolution argument
checks (negative padding and output_padding, stride, dilation, bias size, padding strings),
embedding's 2-D weight and the embeddings' reprs, pdist's p, cdist's compute_mode, normalize's out= and unfold of an
empty batch."""
import numpy
import pytest
import torch

import ember
from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within this file's tolerance."""
    same_outcome(fn, rtol=1e-10)


def t(lib, shape, seed=0, dtype="float64"):
    return lib.tensor(numpy.random.default_rng(seed).uniform(-2, 2, shape), dtype=getattr(lib, dtype))


CONV = {
    "negative-padding": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n),
                                                                 t(lib, (6, 4) + (3,) * n), padding=-1),
    "zero-dilation": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n), t(lib, (6, 4) + (3,) * n),
                                                              dilation=0),
    "negative-dilation": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n),
                                                                  t(lib, (6, 4) + (3,) * n), dilation=-1),
    "bias-size": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n), t(lib, (6, 4) + (3,) * n),
                                                          t(lib, (5,))),
    "bias-2d": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n), t(lib, (6, 4) + (3,) * n),
                                                        t(lib, (6, 1))),
    "padding-string": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n),
                                                               t(lib, (6, 4) + (3,) * n), padding="full"),
    "float64-input": lambda F, lib, n: getattr(F, f"conv{n}d")(t(lib, (2, 4) + (6,) * n),
                                                              t(lib, (6, 4) + (3,) * n, dtype="float32")),
    "transposed-negative-padding": lambda F, lib, n: getattr(F, f"conv_transpose{n}d")(
        t(lib, (2, 4) + (6,) * n), t(lib, (4, 3) + (3,) * n), padding=-1),
    "transposed-negative-output-padding": lambda F, lib, n: getattr(F, f"conv_transpose{n}d")(
        t(lib, (2, 4) + (6,) * n), t(lib, (4, 3) + (3,) * n), output_padding=-1),
    "transposed-zero-stride": lambda F, lib, n: getattr(F, f"conv_transpose{n}d")(
        t(lib, (2, 4) + (6,) * n), t(lib, (4, 3) + (3,) * n), stride=0),
    "transposed-zero-dilation": lambda F, lib, n: getattr(F, f"conv_transpose{n}d")(
        t(lib, (2, 4) + (6,) * n), t(lib, (4, 3) + (3,) * n), dilation=0) if n < 3 else None,
    "transposed-bias-size": lambda F, lib, n: getattr(F, f"conv_transpose{n}d")(
        t(lib, (2, 4) + (6,) * n), t(lib, (4, 3) + (3,) * n), t(lib, (5,)), groups=2),
}


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(CONV))
def test_convolution_checks_as_torch(n, case):
    if case == "transposed-zero-dilation" and n == 3:
        pytest.skip("PyTorch's 3-d transposed kernel words it another way")
    same(lambda lib: CONV[case](lib.nn.functional, lib, n))


def test_embedding_weight_must_be_2d_as_torch():
    same(lambda lib: lib.nn.functional.embedding(lib.tensor([1]), t(lib, (5,))))


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 1, "max_norm": 2.0, "norm_type": 1.0,
                                         "scale_grad_by_freq": True, "sparse": True}, {"norm_type": 3}])
def test_embedding_reprs_as_torch(kwargs):
    assert repr(ember.nn.Embedding(5, 3, **kwargs)) == repr(torch.nn.Embedding(5, 3, **kwargs))
    kwargs = dict(kwargs, mode="sum") if kwargs else kwargs
    assert repr(ember.nn.EmbeddingBag(5, 3, **kwargs)) == repr(torch.nn.EmbeddingBag(5, 3, **kwargs))


def test_distance_checks_as_torch():
    same(lambda lib: lib.nn.functional.pdist(t(lib, (3, 3)), -1))
    same(lambda lib: lib.nn.functional.pdist(lib.ones(3, 3, dtype=lib.int64), -1))
    same(lambda lib: lib.cdist(t(lib, (3, 3)), t(lib, (4, 3)), compute_mode="x"))
    same(lambda lib: lib.cdist(t(lib, (3, 3)), t(lib, (4, 3)), p=1, compute_mode=None))


def test_normalize_writes_out_as_torch():
    def run(lib):
        out = lib.empty(3, 4, dtype=lib.float64)
        result = lib.nn.functional.normalize(t(lib, (3, 4)), out=out)
        assert result is out
        return out
    same(run)


@pytest.mark.parametrize("shape", [(0, 2, 4, 4), (0, 2, 5, 4)])
def test_unfold_of_an_empty_batch_as_torch(shape):
    same(lambda lib: lib.nn.functional.unfold(t(lib, shape), 2))

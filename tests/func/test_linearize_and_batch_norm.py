"""func.linearize and func.replace_all_batch_norm_modules_ against PyTorch's."""
import numpy
import pytest
import torch

import ember

rng = numpy.random.default_rng(0)


def _f(lib, x, pair):
    return (x.sin() * pair[0]).sum(0), {"y": pair[1].exp() * x[0]}


@pytest.mark.filterwarnings("ignore")   # PyTorch's linearize traces through its FX machinery, which warns
def test_linearize_matches_torch():
    x, a, b = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(2)
    u, v, w = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(2)
    results = []
    for lib in (ember, torch):
        output, jvp_fn = lib.func.linearize(lambda x, pair: _f(lib, x, pair), lib.tensor(x), (lib.tensor(a),
                                                                                             lib.tensor(b)))
        first = jvp_fn(lib.tensor(u), (lib.tensor(v), lib.tensor(w)))
        second = jvp_fn(lib.tensor(u * 2), (lib.tensor(v), lib.tensor(w * 0)))   # reused at new tangents
        results.append([output[0].numpy(), output[1]["y"].numpy(), first[0].numpy(), first[1]["y"].numpy(),
                        second[0].numpy(), second[1]["y"].numpy()])
    for got, want in zip(*results):
        numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore")
def test_linearize_checks_the_tangents():
    for lib in (ember, torch):
        _, jvp_fn = lib.func.linearize(lambda x: x * 2, lib.ones(3))
        with pytest.raises(RuntimeError, match="tangent:0 with shape"):
            jvp_fn(lib.ones(4))
        with pytest.raises(RuntimeError, match="tangent:0 with dtype"):
            jvp_fn(lib.ones(3, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="(?s)Expected the tangents .* to have the same argspec as the primals"):
            jvp_fn(lib.ones(3), lib.ones(3))


def test_replace_all_batch_norm_modules():
    states = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2), lib.nn.BatchNorm1d(3,
                                  track_running_stats=False), lib.nn.Sequential(lib.nn.BatchNorm2d(2)))
        assert lib.func.replace_all_batch_norm_modules_(model) is model
        states.append([(type(m).__name__, m.track_running_stats, m.running_mean is None, m.running_var is None,
                        getattr(m, "num_batches_tracked", None) is None) for m in model.modules()
                       if "BatchNorm" in type(m).__name__])
        assert sorted(model.state_dict()) == sorted(k for k in model.state_dict())
    assert states[0] == states[1]
    x = rng.standard_normal((4, 2, 3, 3)).astype(numpy.float32)
    for lib in (ember, torch):
        norm = lib.func.replace_all_batch_norm_modules_(lib.nn.BatchNorm2d(2)).eval()
        out = norm(lib.tensor(x))   # batch statistics even in eval mode now
        numpy.testing.assert_allclose(out.detach().numpy().mean((0, 2, 3)), 0, atol=1e-5)

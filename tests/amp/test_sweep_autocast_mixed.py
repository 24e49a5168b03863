"""CPU autocast with inputs of mixed floating dtypes against PyTorch 2.13: output dtypes, values and gradient dtypes
for listed ops of each policy and unlisted ones, and PyTorch's errors where the op refuses the mix (tensordot checks
its operands' dtypes before it runs mm, so autocast does not cast them)."""
import functools

import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
ARRAYS = {"x": RNG.standard_normal((3, 4)), "m": RNG.standard_normal((4, 5)), "v": RNG.standard_normal(4),
          "mb": RNG.standard_normal((2, 3, 4)), "nb": RNG.standard_normal((2, 4, 5))}
OPS = {
    "mm": ("x m", lambda T, a, b: T.mm(a, b)),
    "matmul": ("mb m", lambda T, a, b: a @ b),
    "bmm": ("mb nb", lambda T, a, b: T.bmm(a, b)),
    "linear": ("x m", lambda T, a, b: T.nn.functional.linear(a, b.t())),
    "tensordot": ("x m", lambda T, a, b: T.tensordot(a, b, dims=1)),
    "tensordot outer": ("v v", lambda T, a, b: T.tensordot(a, b, dims=0)),
    "einsum": ("x m", lambda T, a, b: T.einsum("ij,jk->ik", a, b)),
    "cat": ("x x", lambda T, a, b: T.cat([a, b])),
    "stack": ("x x", lambda T, a, b: T.stack([a, b], 1)),
    "mse_loss": ("x x", lambda T, a, b: T.nn.functional.mse_loss(a, b)),
    "mul": ("x x", lambda T, a, b: a * b),
}
DTYPES = [("float32", "float32"), ("bfloat16", "float32"), ("float32", "float16"), ("bfloat16", "float16"),
          ("float64", "float32"), ("bfloat16", "bfloat16")]


def _run(T, op, dtypes, autocast_dtype):
    names, call = OPS[op]
    a, b = (T.tensor(ARRAYS[n], dtype=getattr(T, d), requires_grad=True) for n, d in zip(names.split(), dtypes))
    try:
        with T.autocast("cpu", dtype=getattr(T, autocast_dtype)):
            out = call(T, a, b)
    except RuntimeError as error:
        return str(error)
    out.float().sum().backward()
    return [out, a.grad, b.grad]


@pytest.mark.parametrize("autocast_dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("dtypes", DTYPES, ids="-".join)
@pytest.mark.parametrize("op", OPS)
def test_mixed_input_dtypes(op, dtypes, autocast_dtype):
    got, expected = _run(ember, op, dtypes, autocast_dtype), _run(torch, op, dtypes, autocast_dtype)
    if isinstance(expected, str):
        assert got == expected
        return
    assert not isinstance(got, str), got
    for g, e in zip(got, expected):
        assert str(g.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().double().numpy(), e.detach().double().numpy(), rtol=3e-2, atol=3e-2)


IMAGE = RNG.standard_normal((1, 2, 5, 5))


@pytest.mark.parametrize("input_dtype, samples_dtype", [("float64", "float16"), ("float32", "float64"),
                                                        ("float32", "float16"), ("bfloat16", "float16")])
@pytest.mark.parametrize("enabled", [True, False])
def test_fractional_max_pool_samples_in_another_dtype(input_dtype, samples_dtype, enabled):
    def run(T):   # autocast runs the pool in float32 (its CPU list), casting 16-bit samples too, but not float64
        x = T.tensor(IMAGE, dtype=getattr(T, input_dtype))
        samples = T.full((1, 2, 2), 0.4, dtype=getattr(T, samples_dtype))
        try:
            with T.autocast("cpu", enabled=enabled):
                out = T.nn.functional.fractional_max_pool2d(x, 2, output_size=3, _random_samples=samples)
        except RuntimeError as error:
            return str(error)
        return str(out.dtype).split(".")[-1], out.double().tolist()
    assert run(ember) == run(torch)


CHAINS = {
    "chain_matmul of one": lambda T, a, b: T.chain_matmul(a),
    "chain_matmul": lambda T, a, b: T.chain_matmul(a, b, a),
    "multi_dot": lambda T, a, b: T.linalg.multi_dot((a, b)),
    "multi_dot of one": lambda T, a, b: T.linalg.multi_dot([a]),
}


@pytest.mark.filterwarnings("ignore:torch.chain_matmul is deprecated")
@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("bfloat16", "float32"), ("float64", "float32")],
                         ids="-".join)
@pytest.mark.parametrize("chain", CHAINS)
def test_matrix_chains_check_dtypes_before_autocast_casts(chain, dtypes):
    def run(T):   # PyTorch's CPU autocast casts the mm a chain of matrices of one dtype runs, after its own checks
        a, b = (T.tensor(ARRAYS["m"][:4, :4], dtype=getattr(T, d)) for d in dtypes)
        try:
            with T.autocast("cpu"):
                out = CHAINS[chain](T, a, b)
        except RuntimeError as error:
            return str(error)
        return str(out.dtype).split(".")[-1], out.double().numpy()
    got, expected = run(ember), run(torch)
    if isinstance(expected, str):
        assert got == expected
        return
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], rtol=2e-2, atol=2e-2)


def _matrix_power(T, a, b, n):
    return T.linalg.matrix_power(a, n)


SQUARE = np.array([[2.0, 1.0, 0.5], [1.0, 3.0, 0.0], [0.5, 0.0, 1.5]])
DECOMPOSED = {   # PyTorch's CPU autocast casts the listed ops these run, or nothing where they are kernels of their own
    **{f"matrix_power {n}": functools.partial(_matrix_power, n=n) for n in (-3, -2, -1, 0, 1, 2)},
    "tensordot all dims": lambda T, a, b: T.tensordot(a, b),
    "tensordot vectors": lambda T, a, b: T.tensordot(a[0], b[0], dims=1),
    "tensordot dim lists": lambda T, a, b: T.tensordot(a, b[0], dims=([1], [0])),
    "tensordot tensor dims": lambda T, a, b: T.tensordot(a, b, dims=T.tensor(1)),
    "inner": lambda T, a, b: T.inner(a, b),
    "inner of vectors": lambda T, a, b: T.inner(a[0], b[0]),
    "bilinear": lambda T, a, b: T.nn.functional.bilinear(a, b, T.ones(2, 3, 3, dtype=a.dtype), T.ones(2, dtype=a.dtype)),
    "linalg.cross": lambda T, a, b: T.linalg.cross(a, b),
    "cross": lambda T, a, b: T.cross(a, b, dim=1),
    "einsum sublists": lambda T, a, b: T.einsum(a, [0, 1], b, [1, 2], [0, 2]),
    "einsum sublists, implicit output": lambda T, a, b: T.einsum(a, [0, 1], b, [1, 2]),
    "einsum sublists, ellipsis": lambda T, a, b: T.einsum(a, [Ellipsis, 1], b, [1, 2], [Ellipsis, 2]),
    "einsum sublists, no contraction": lambda T, a, b: T.einsum(a, [0, 1], b, [0, 1], [0, 1]),
}


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("bfloat16", "bfloat16"), ("bfloat16", "float32")],
                         ids="-".join)
@pytest.mark.parametrize("call", DECOMPOSED)
def test_decomposed_ops_cast_what_pytorch_casts(call, dtypes):
    def run(T):
        a, b = (T.tensor(SQUARE, dtype=getattr(T, d)) for d in dtypes)
        try:
            with T.autocast("cpu"):
                out = DECOMPOSED[call](T, a, b)
        except RuntimeError as error:
            return str(error)
        return str(out.dtype).split(".")[-1], out.double().numpy()
    got, expected = run(ember), run(torch)
    if isinstance(expected, str):
        assert got == expected
        return
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], rtol=3e-2, atol=3e-2)


@pytest.mark.parametrize("equation", ["i,i->i", "i,j->ij", "i,j,k->ijk", "i,i->", "i,j,j->ij", "i,j,k->ij", "ij,j->ij",
                                      "ij,jk->ik"])
@pytest.mark.parametrize("enabled", [True, False])
def test_einsum_of_mixed_dtypes(equation, enabled):
    def run(T):   # products only promote (PyTorch multiplies); a contraction of two operands wants one dtype (bmm)
        shapes = {"i": 3, "j": 3, "k": 3}
        dtypes = (T.bfloat16, T.float32, T.float64)
        terms = equation.split("->")[0].split(",")
        operands = [T.ones([shapes[c] for c in term], dtype=d) for term, d in zip(terms, dtypes)]
        try:
            with T.autocast("cpu", enabled=enabled):
                out = T.einsum(equation, *operands)
        except RuntimeError as error:
            return str(error)
        return str(out.dtype).split(".")[-1], out.double().tolist()
    assert run(ember) == run(torch)


NORMS = {
    "norm nuc": lambda T, x: T.norm(x[0], "nuc"),
    "norm nuc dim": lambda T, x: T.norm(x, "nuc", dim=(1, 2), keepdim=True),
    "norm nuc 3-d": lambda T, x: T.norm(x, "nuc"),
    "norm unknown name": lambda T, x: T.norm(x, "bad"),
    "Tensor.norm nuc": lambda T, x: x[0].norm("nuc"),
    "norm fro over 3 dims": lambda T, x: T.norm(x, "fro", dim=(0, 1, 2)),
    "norm fro over 2 dims": lambda T, x: T.norm(x, "fro", dim=(0, 1)),
    "matrix_norm unknown name, 3 dims": lambda T, x: T.linalg.matrix_norm(x, "bad", dim=(0, 1, 2)),
    "matrix_norm 3 dims": lambda T, x: T.linalg.matrix_norm(x, 2, dim=(0, 1, 2)),
}


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("call", NORMS)
def test_norm_by_name_runs_matrix_norm(call, enabled):
    def run(T):   # torch.norm with p='nuc' (or 'fro' over more than two dims) is linalg.matrix_norm, svd in float32
        x = T.tensor(RNG_NORMS, requires_grad=True)
        try:
            with T.autocast("cpu", enabled=enabled):
                out = NORMS[call](T, x)
        except RuntimeError as error:
            return str(error)
        out.sum().backward()
        return str(out.dtype).split(".")[-1], out.detach().numpy(), x.grad.numpy()
    got, expected = run(ember), run(torch)
    if isinstance(expected, str):
        assert got == expected
        return
    assert got[0] == expected[0]
    for g, e in zip(got[1:], expected[1:]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


RNG_NORMS = np.random.default_rng(2).standard_normal((2, 3, 3)).astype(np.float32)


REFUSALS = {   # ops PyTorch refuses for mixed or 16-bit dtypes, in and out of autocast
    "meshgrid": lambda T: T.meshgrid(T.ones(2, dtype=T.bfloat16), T.ones(2), indexing="ij"),
    "meshgrid, 2-d too": lambda T: T.meshgrid(T.ones(2, 2), T.ones(2, dtype=T.bfloat16), indexing="ij"),
    "cartesian_prod": lambda T: T.cartesian_prod(T.ones(2, dtype=T.bfloat16), T.ones(2)),
    "cartesian_prod int": lambda T: T.cartesian_prod(T.ones(2, dtype=T.int64), T.ones(2)),
    "linalg.vander bfloat16": lambda T: T.linalg.vander(T.ones(3, dtype=T.bfloat16)),
    "linalg.vander float16": lambda T: T.linalg.vander(T.ones(3, dtype=T.float16)),
    "linalg.vander bool": lambda T: T.linalg.vander(T.ones(3, dtype=T.bool)),
    "linalg.vander int8": lambda T: T.linalg.vander(T.arange(3, dtype=T.int8)),
    "vander bfloat16": lambda T: T.vander(T.arange(3, dtype=T.bfloat16)),
}


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("call", REFUSALS)
def test_dtype_refusals(call, enabled):
    def run(T):
        try:
            with T.autocast("cpu", enabled=enabled):
                out = REFUSALS[call](T)
        except RuntimeError as error:
            return str(error)
        out = out[0] if isinstance(out, tuple) else out
        return str(out.dtype).split(".")[-1], out.double().tolist()
    assert run(ember) == run(torch)

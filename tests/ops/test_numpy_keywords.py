"""NumPy's keyword names (axis=, keepdims=, x=/a=/x1= for input, x2= for other) where PyTorch's argument parser
takes them: torch.*, Tensor methods, torch.linalg, torch.fft, torch.special and torch.nn.functional's bound functions;
and not where PyTorch's function is written in Python (torch.norm, split, unique, F.softmax...). Checked against
PyTorch 2.13 (POT's torch backend calls torch.linalg.norm(a, dim=axis, keepdims=keepdims))."""
import pytest

from tests.oracle import check, check_error, sample

ACCEPTED = [
    lambda lib, x: lib.linalg.norm(x, axis=1, keepdims=True),
    lambda lib, x: lib.linalg.vector_norm(x, 3, axis=0, keepdims=True),
    lambda lib, x: lib.linalg.matrix_norm(x, "nuc", keepdims=True),
    lambda lib, x: lib.linalg.norm(x=x),
    lambda lib, x: lib.linalg.cross(x=x[:, :3], other=x[:, 1:]),
    lambda lib, x: lib.linalg.matrix_exp(a=x[:, :3]),
    lambda lib, x: lib.linalg.det(A=x[:, :3]),
    lambda lib, x: lib.linalg.slogdet(A=x[:, :3]).logabsdet,
    lambda lib, x: lib.special.logsumexp(x, axis=1, keepdims=True),
    lambda lib, x: lib.special.softmax(x, axis=0),
    lambda lib, x: lib.special.expit(x=x),
    lambda lib, x: lib.fft.fft(x, axis=0).abs(),
    lambda lib, x: lib.fft.rfft(x1=x, axis=1).abs(),
    lambda lib, x: lib.add(x=x, x2=x * 2),
    lambda lib, x: lib.mul(a=x, other=x),
    lambda lib, x: lib.sum(x1=x, axis=0),
    lambda lib, x: lib.exp(x=x),
    lambda lib, x: x.add(x2=x),
    lambda lib, x: lib.mean(x=x, axis=1, keepdims=True),
    lambda lib, x: lib.nn.functional.gelu(x=x),
    lambda lib, x: lib.nn.functional.softplus(x=x, beta=2.0),
    lambda lib, x: lib.nn.functional.logsigmoid(a=x),
    lambda lib, x: lib.nn.functional.pdist(x=x),
    lambda lib, x: lib.nn.functional.cosine_similarity(x, x.flip(0), axis=0),
    lambda lib, x: lib.nn.functional.linear(x=x, weight=x),
    lambda lib, x: lib.nn.functional.conv1d(x=x.unsqueeze(0), weight=x[:2, :3].unsqueeze(1).expand(2, 3, 3)),
]

REFUSED = [
    lambda lib, x: lib.norm(x, dim=1, keepdims=True),      # Python functions in PyTorch
    lambda lib, x: x.norm(axis=0),
    lambda lib, x: lib.split(x, 1, axis=0),
    lambda lib, x: x.split(1, axis=0),
    lambda lib, x: lib.unique(x, axis=0),
    lambda lib, x: x.unique(axis=0),
    lambda lib, x: x.unflatten(axis=1, sizes=(2, 2)),
    lambda lib, x: lib.norm(x=x),
    lambda lib, x: lib.linalg.det(a=x[:, :3]),              # torch.linalg.det names its matrix A, not input
    lambda lib, x: lib.linalg.det(input=x[:, :3]),
    lambda lib, x: lib.linalg.slogdet(input=x[:, :3]),
    lambda lib, x: lib.linalg.norm(A=x),
    lambda lib, x: lib.add(x, x=x),
    lambda lib, x: lib.nn.functional.softmax(x, axis=1),    # Python functions of torch.nn.functional
    lambda lib, x: lib.nn.functional.normalize(x, axis=1),
    lambda lib, x: lib.nn.functional.hardtanh(x=x),
    lambda lib, x: x.sum(dim=0, axis=0),
]


@pytest.mark.parametrize("call", ACCEPTED)
def test_numpy_keywords_accepted_as_pytorch(call):
    check(call, sample((3, 4)))


@pytest.mark.parametrize("call", REFUSED)
def test_numpy_keywords_refused_as_pytorch(call):
    check_error(call, sample((3, 4)))


def test_linalg_det_writes_out():
    def call(lib, x):
        out = lib.empty(())
        result = lib.linalg.det(x.detach()[:, :3], out=out)
        return result, out
    check(call, sample((3, 4)), grad=False)

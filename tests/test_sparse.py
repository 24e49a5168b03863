"""Sparse COO and CSR tensors against PyTorch: construction, repr, conversions, coalesce, sparse.mm/sum/softmax,
gradients to values and dense operands, save/load both ways, nn.Embedding(sparse=True) and optim.SparseAdam."""
import re

import numpy
import pytest
import torch

import ember

# torch 2.13 warns once per process that its sparse invariant checks are off and that its CSR support is in beta;
# ember repeats both (test_constructor_warnings_once checks them in fresh processes), ignored in the other tests
pytestmark = [pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled:UserWarning"),
              pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state:UserWarning")]

INDICES = [[0, 1, 1], [2, 0, 2]]
VALUES = [3.0, 4.0, 5.0]
DENSE = numpy.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])


def same_repr(make):
    ours, theirs = repr(make(ember)), repr(make(torch))
    assert ours == theirs.replace("torch.", "ember.")
    return ours


@pytest.mark.parametrize("make", [
    lambda m: m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES), (2, 3)),
    lambda m: m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES, dtype=m.float64), (2, 3), requires_grad=True),
    lambda m: m.sparse_coo_tensor(m.zeros(2, 0, dtype=m.long), m.zeros(0), (2, 3)),
    lambda m: m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES)),
    lambda m: m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES), (2, 3)).t(),
    lambda m: m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES), (2, 3)) * 2,
    lambda m: -m.sparse_coo_tensor(m.tensor(INDICES), m.tensor(VALUES), (2, 3)) / 4,
    lambda m: m.sparse_coo_tensor(m.tensor([[0, 0, 1], [1, 1, 0]]), m.tensor([1.0, 2.0, 3.0]), (2, 2)).coalesce(),
    lambda m: m.tensor(DENSE).to_sparse(),
    lambda m: m.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]]).to_sparse(1),
    lambda m: m.tensor(DENSE).to_sparse_csr(),
    lambda m: m.sparse_csr_tensor(m.tensor([0, 1, 3]), m.tensor([1, 0, 2]), m.tensor([2.0, 1, 3]), (2, 3),
                                  dtype=m.float64),
    lambda m: m.sparse.sum(m.tensor(DENSE).to_sparse(), 0),
    lambda m: m.sparse.sum(m.tensor([[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]]).to_sparse(1), 1),
    lambda m: m.sparse.softmax(m.tensor(DENSE).to_sparse(), 1),
    lambda m: m.sparse.log_softmax(m.tensor(DENSE).to_sparse(), 0),
    lambda m: m.tensor(DENSE).to_sparse() + m.tensor(DENSE).to_sparse(),
    lambda m: m.tensor(DENSE).to_sparse_csr().to_sparse(),
])
def test_repr_and_values_match_torch(make):
    same_repr(make)
    ours, theirs = make(ember), make(torch)
    assert ours.layout is getattr(ember, str(theirs.layout).split(".")[1])
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.is_sparse == theirs.is_sparse
    numpy.testing.assert_allclose(ours.to_dense().detach().numpy(), theirs.to_dense().detach().numpy(), rtol=1e-6)
    if theirs.is_sparse:
        assert ours.is_coalesced() == theirs.is_coalesced() and ours._nnz() == theirs._nnz()
        assert (ours.sparse_dim(), ours.dense_dim()) == (theirs.sparse_dim(), theirs.dense_dim())


def test_accessors_layouts_and_dense_results():
    for lib in (ember, torch):
        s = lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor(VALUES), (2, 3))
        assert s.is_sparse and not lib.tensor(DENSE).is_sparse and lib.tensor(DENSE).layout is lib.strided
        c = s.coalesce()
        assert c.indices().tolist() == [[0, 1, 1], [2, 0, 2]] and c.values().tolist() == VALUES
        assert lib.sparse.sum(s).item() == 12.0
        assert (lib.ones(2, 3) + s).tolist() == [[1.0, 1.0, 4.0], [5.0, 1.0, 6.0]]
        csr = lib.tensor(DENSE).to_sparse_csr()
        assert csr.crow_indices().tolist() == [0, 1, 3] and csr.col_indices().tolist() == [1, 0, 2]
        assert (csr @ lib.ones(3, 1, dtype=lib.float64)).tolist() == [[2.0], [4.0]]
        assert lib.tensor(DENSE).to_dense() is not None


@pytest.mark.parametrize("call, error, match", [
    (lambda m, s: s.indices(), RuntimeError, "Cannot get indices on an uncoalesced tensor"),
    (lambda m, s: s.values(), RuntimeError, "Cannot get values on an uncoalesced tensor"),
    (lambda m, s: m.sparse_coo_tensor(s._indices(), s._values(), (2, 2), check_invariants=True), RuntimeError,
     "size is inconsistent with indices: for dim 1, size is 2 but found index 2"),
    (lambda m, s: m.sparse_coo_tensor(s._indices(), m.tensor([1.0, 2.0]), (2, 3)), RuntimeError,
     "indices and values must have same nnz"),
    (lambda m, s: m.sparse_coo_tensor(m.tensor([[0, -1]]), m.tensor([1.0, 2.0]), (2,), check_invariants=True),
     RuntimeError, "found negative index -1 for dim 0"),
    (lambda m, s: m.exp(s), NotImplementedError, "with arguments from the 'SparseCPU' backend"),
    (lambda m, s: s + 1, RuntimeError, r"add\(sparse, dense\) is not supported"),
    (lambda m, s: s + m.ones(2, 3), RuntimeError, r"add\(sparse, dense\) is not supported"),
])
def test_errors_match_torch(call, error, match):
    for lib in (ember, torch):
        with pytest.raises(error, match=match):
            call(lib, lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor(VALUES), (2, 3)))


def test_gradients_match_torch():
    d = numpy.random.default_rng(0).standard_normal((3, 2))
    results = {}
    for lib in (ember, torch):
        dense = lib.tensor(d, requires_grad=True)
        s = lib.tensor(DENSE).to_sparse().requires_grad_()
        out = lib.sparse.mm(s, dense)
        (out ** 2).sum().backward()
        sparse_grad = s.grad
        assert sparse_grad.is_sparse
        s2 = lib.tensor(DENSE).to_sparse().requires_grad_()
        (lib.mm(s2, dense) ** 3).sum().backward()   # torch.mm gives a leaf sparse operand a dense gradient
        assert not s2.grad.is_sparse
        values = lib.tensor([2.0, 1.0, 3.0], dtype=lib.float64, requires_grad=True)
        s3 = lib.sparse_coo_tensor(lib.tensor([[0, 1, 1], [1, 0, 2]]), values, (2, 3))
        assert not s3.is_leaf
        ((s3 @ dense).sin().sum() + lib.sparse.sum(s3 * 3) + lib.sparse.softmax(s3, 1).to_dense()[1, 2]).backward()
        results[lib.__name__] = [out.detach().numpy(), sparse_grad.to_dense().numpy(), s2.grad.numpy(),
                                 dense.grad.numpy(), values.grad.numpy()]
    for ours, theirs in zip(results["ember"], results["torch"]):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("product", {
    "matmul": lambda lib, d, s: d @ s,
    "mm": lambda lib, d, s: lib.mm(d, s),
    "method": lambda lib, d, s: d.mm(s),
    "csr": lambda lib, d, s: lib.matmul(d, s.detach().to_sparse_csr()),
    "vector": lambda lib, d, s: d[0, :2] @ s,
}.items(), ids=lambda item: item[0])
def test_dense_times_sparse_is_dense_as_in_torch(product):
    d = numpy.random.default_rng(1).standard_normal((4, 2))
    results = []
    for lib in (ember, torch):
        dense = lib.tensor(d, requires_grad=True)
        s = lib.tensor(DENSE, dtype=lib.float64).to_sparse().requires_grad_()
        out = product[1](lib, dense, s)
        assert out.layout is lib.strided
        (out.sin().sum()).backward()
        grads = [dense.grad.numpy()] + ([s.grad.numpy()] if s.grad is not None else [])
        assert s.grad is None or not s.grad.is_sparse   # a leaf sparse operand's gradient is dense, as torch.mm's
        results.append([out.detach().numpy()] + grads)
    for ours, theirs in zip(*results):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("call", {
    "sparse_at_dense_shape": lambda lib, s: s @ lib.ones(2, 3),
    "mm_shape": lambda lib, s: lib.mm(s, lib.ones(2, 3)),
    "sparse_mm_shape": lambda lib, s: lib.sparse.mm(s, lib.ones(2, 3)),
    "dense_at_sparse_shape": lambda lib, s: lib.ones(2, 3) @ s,
    "vector_shape": lambda lib, s: lib.ones(3) @ s,
    "dense_at_sparse_dtype": lambda lib, s: lib.ones(2, 2, dtype=lib.float64) @ s,
    "sparse_at_dense_dtype": lambda lib, s: s @ lib.ones(3, 2, dtype=lib.float64),
    "leaf_sparse_shape": lambda lib, s: lib.mm(s.requires_grad_(), lib.ones(2, 3)),
    "mm_batch": lambda lib, s: lib.mm(lib.ones(2, 2, 2), s),
}.items(), ids=lambda item: item[0])
def test_sparse_product_errors_match_torch(call):
    with pytest.raises(RuntimeError) as expected:
        call[1](torch, torch.tensor(DENSE, dtype=torch.float32).to_sparse())
    with pytest.raises(RuntimeError, match="^" + re.escape(str(expected.value)) + "$"):
        call[1](ember, ember.tensor(DENSE, dtype=ember.float32).to_sparse())


def test_dense_batch_times_sparse_matches_torch():
    d = numpy.random.default_rng(2).standard_normal((4, 2, 2))
    ours = ember.tensor(d) @ ember.tensor(DENSE).to_sparse()
    theirs = torch.tensor(d) @ torch.tensor(DENSE).to_sparse()
    assert ours.shape == theirs.shape
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_layouts_print_torch_under_the_alias(monkeypatch):
    from ember import _alias
    monkeypatch.setattr(_alias, "installed", True)
    assert repr(ember.sparse_coo) == repr(torch.sparse_coo) and str(ember.strided) == str(torch.strided)
    assert repr(ember.tensor(DENSE).to_sparse()) == repr(torch.tensor(DENSE).to_sparse())


@pytest.mark.parametrize("layout", ["coo", "csr"])
def test_save_load_both_ways(layout, tmp_path):
    convert = (lambda t: t.to_sparse()) if layout == "coo" else (lambda t: t.to_sparse_csr())
    torch.save({"s": convert(torch.tensor(DENSE))}, tmp_path / "torch.pt")
    loaded = ember.load(tmp_path / "torch.pt")["s"]   # weights-only by default
    assert loaded.layout is (ember.sparse_coo if layout == "coo" else ember.sparse_csr)
    same = repr(torch.load(tmp_path / "torch.pt")["s"]).replace("torch.", "ember.")
    assert repr(loaded) == same
    ember.save({"s": convert(ember.tensor(DENSE))}, tmp_path / "ember.pt")
    back = torch.load(tmp_path / "ember.pt", weights_only=True)["s"]
    assert repr(back).replace("torch.", "ember.") == same


def test_load_refuses_out_of_range_sparse_indices(tmp_path):
    with torch.sparse.check_sparse_tensor_invariants(enable=False):
        bad = torch.sparse_coo_tensor(torch.tensor([[0, 7]]), torch.tensor([1.0, 2.0]), (3,))
    torch.save(bad, tmp_path / "bad.pt")
    with pytest.raises(Exception, match="size is inconsistent with indices"):
        ember.load(tmp_path / "bad.pt")


def test_sparse_embedding_and_sparse_adam_match_torch():
    weight = numpy.random.default_rng(1).standard_normal((6, 3)).astype(numpy.float32)
    results = {}
    for lib in (ember, torch):
        embedding = lib.nn.Embedding(6, 3, sparse=True, padding_idx=1)
        with lib.no_grad():
            embedding.weight.copy_(lib.tensor(weight))
        optimizer = lib.optim.SparseAdam(embedding.parameters(), lr=0.1)
        grads = []
        for batch in ([[1, 2], [1, 4]], [[0, 2], [5, 2]], [[3, 3]]):
            optimizer.zero_grad()
            (embedding(lib.tensor(batch)) ** 2).sum().backward()
            grads.append(repr(embedding.weight.grad).replace("torch.", "ember."))
            optimizer.step()
        embedding.zero_grad()
        embedding(lib.tensor([[1, 2], [1, 4]])).sum().backward()
        embedding(lib.tensor([0, 2])).sum().backward()   # sparse gradients accumulate (coalesced)
        grads.append(repr(embedding.weight.grad).replace("torch.", "ember."))
        results[lib.__name__] = (embedding.weight.detach().numpy().copy(), grads)
    numpy.testing.assert_allclose(results["ember"][0], results["torch"][0], rtol=1e-6)
    assert results["ember"][1] == results["torch"][1]


def test_sparse_adam_errors_match_torch():
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.ones(3))
        optimizer = lib.optim.SparseAdam([p])
        p.sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            optimizer.step()
        with pytest.raises(ValueError, match="Invalid learning rate"):
            lib.optim.SparseAdam([p], lr=-1)
        with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse gradients"):
            lib.nn.Embedding(4, 2, sparse=True, scale_grad_by_freq=True)(lib.tensor([1, 1])).sum().backward()


def test_invariant_checks_follow_the_switch_as_in_torch():
    for lib in (ember, torch):
        with lib.sparse.check_sparse_tensor_invariants():
            assert lib.sparse.check_sparse_tensor_invariants.is_enabled()
            with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
                lib.sparse_coo_tensor(lib.tensor([[0, 5]]), lib.tensor([1.0, 2.0]), (3,))
        assert not lib.sparse.check_sparse_tensor_invariants.is_enabled()


@pytest.mark.parametrize("module, name", [("sparse", n) for n in
                                          "mm sum addmm softmax log_softmax check_sparse_tensor_invariants".split()]
                         + [("", n) for n in "spmm sparse_coo_tensor sparse_csr_tensor sparse_coo sparse_csr strided "
                                             "layout".split()])
def test_names_exist_as_in_torch(module, name):
    for lib in (torch, ember):
        assert hasattr(getattr(lib, module) if module else lib, name), f"{lib.__name__}.{module}.{name} is missing"
    assert isinstance(ember.strided, ember.layout) and isinstance(ember.sparse_coo, ember.layout)


_WARNINGS_PROGRAM = """
import sys, warnings
warnings.simplefilter("always")
lib = __import__(sys.argv[1])
if sys.argv[2] == "disable":
    lib.sparse.check_sparse_tensor_invariants.disable()
lib.randn(2, 2).to_sparse()
print("to_sparse")
lib.sparse_coo_tensor(lib.tensor([[0, 1], [1, 0]]), lib.tensor([1., 2.]), (2, 2), check_invariants=False)
print("explicit")
a = lib.sparse_coo_tensor(lib.tensor([[0, 1], [1, 0]]), lib.tensor([1., 2.]), (2, 2))
print(a._coalesced_(True) is a, a.is_coalesced(), a._coalesced_(False).is_coalesced())
lib.sparse_coo_tensor(lib.tensor([[0, 1], [1, 0]]), lib.tensor([1., 2.]), (2, 2), is_coalesced=True)
print("again")
lib.sparse_csr_tensor(lib.tensor([0, 1, 2]), lib.tensor([1, 0]), lib.tensor([1., 2.]), (2, 2))
lib.randn(2, 2).to_sparse_csr()
print("csr")
"""


@pytest.mark.parametrize("switch", ["implicit", "disable"])
def test_constructor_warnings_once(switch):
    """A sparse constructor given no ``check_invariants`` while the global switch was never set warns once per
    process that the checks are implicitly off, and the first CSR tensor that CSR support is in beta, as PyTorch's;
    ``_coalesced_`` marks a COO tensor in place (PyG's ``to_edge_index``)."""
    import subprocess
    import sys
    outputs = []
    for lib in ("torch", "ember"):
        run = subprocess.run([sys.executable, "-c", _WARNINGS_PROGRAM, lib, switch], capture_output=True, text=True,
                             check=True)
        lines = [line.split(" (Triggered internally at")[0] for line in (run.stdout + run.stderr).splitlines()]
        outputs.append(sorted(re.sub(r"^<string>:\d+: ", "", line) for line in lines if line.strip()))
    assert outputs[0] == outputs[1]
    assert any("beta state" in line for line in outputs[1])
    assert any("implicitly disabled" in line for line in outputs[1]) == (switch == "implicit")


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "max", "min"])
def test_csr_mm_with_reduce(reduce):
    """``torch.sparse.mm(csr, dense, reduce)`` (PyG's ``spmm(adj_t, x, reduce='mean')``): each row's products
    reduced, empty rows 0, the dense operand's gradient, the node name, against torch."""
    results = []
    for lib in (torch, ember):
        matrix = lib.sparse_csr_tensor(lib.tensor([0, 2, 2, 5]), lib.tensor([0, 2, 1, 1, 2]),
                                       lib.tensor([1.0, 2.0, 3.0, -1.0, 0.5], dtype=lib.float64), (3, 3))
        dense = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]], dtype=lib.float64, requires_grad=True)
        out = lib.sparse.mm(matrix, dense, reduce)
        (out * lib.arange(6.0, dtype=lib.float64).view(3, 2)).sum().backward()
        results.append((out.tolist(), dense.grad.tolist(), type(out.grad_fn).__name__))
    numpy.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-15)
    numpy.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-15)
    assert results[1][2] == results[0][2]


@pytest.mark.parametrize("call", [
    lambda L, m, d: L.sparse.mm(m, d, "prod"), lambda L, m, d: L.sparse.mm(m, d, "foo"),
    lambda L, m, d: L.sparse.mm(m, L.ones(4, 2), "mean"), lambda L, m, d: L.sparse.mm(m, L.ones(3), "mean"),
    lambda L, m, d: L.sparse.mm(m, d.double(), "mean"), lambda L, m, d: L.sparse.mm(m.to_sparse(), d, "mean")])
def test_csr_mm_with_reduce_errors(call):
    errors = []
    for lib in (torch, ember):
        matrix = lib.sparse_csr_tensor(lib.tensor([0, 1, 2]), lib.tensor([1, 0]), lib.tensor([1.0, 2.0]), (2, 3))
        with pytest.raises(Exception) as caught:
            call(lib, matrix, lib.ones(3, 2))
        errors.append((type(caught.value).__name__, str(caught.value).split(" This could")[0]))
    assert errors[0] == errors[1]


def test_csr_times_csr_is_csr():
    """CSR @ CSR (PyG's GraphUNet squares its adjacency so) gives a CSR tensor with torch's values; torch's MKL
    product leaves each row's columns unsorted, so the entries are compared as a dense matrix and as a COO set."""
    results = []
    for lib in (torch, ember):
        coo = lib.sparse_coo_tensor(lib.tensor([[0, 0, 1, 2, 2], [1, 2, 2, 0, 1]]), lib.tensor([1., 2., 3., 4., 5.]),
                                    (3, 3))
        csr = coo.to_sparse_csr()
        for product in (csr @ csr, csr.mm(csr), lib.matmul(csr, csr)):
            assert product.layout == lib.sparse_csr
            pairs = product.to_sparse_coo()
            entries = sorted(zip(*pairs.indices().tolist(), pairs.values().tolist()))
            results.append((product.to_dense().tolist(), entries))
    assert results[:3] == results[3:]


def test_dsmm_and_the_size_queries_linear_operator_makes():
    """torch.dsmm (sparse times dense, a dense product; linear_operator's interpolation) with its gradient to the
    dense operand, and ndimension/nelement of sparse COO tensors (3-D too)."""
    def scenario(lib):
        sparse = lib.sparse_coo_tensor(lib.tensor(INDICES), lib.tensor(VALUES), (2, 3))
        dense = lib.tensor(DENSE.T.copy(), dtype=lib.float32, requires_grad=True)
        product = lib.dsmm(sparse, dense)
        product.sum().backward()
        batched = lib.sparse_coo_tensor(lib.tensor([[0, 1], [0, 1], [1, 2]]), lib.ones(2), (2, 2, 3))
        return (product.detach().numpy(), product.layout is lib.strided, dense.grad.numpy(),
                [(t.ndimension(), t.nelement(), t.dim(), t.numel()) for t in (sparse, batched)])
    got, expected = scenario(ember), scenario(torch)
    numpy.testing.assert_array_equal(got[0], expected[0])
    numpy.testing.assert_array_equal(got[2], expected[2])
    assert got[1] == expected[1] and got[3] == expected[3]

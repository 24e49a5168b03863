"""ember.return_types beside torch.return_types: the same names, fields and reprs, and the results pickle."""
import pickle

import pytest
import torch

import ember

CALLS = {
    "max": lambda lib: lib.max(lib.arange(6.0).reshape(2, 3), 1), "sort": lambda lib: lib.sort(lib.arange(3.0)),
    "topk": lambda lib: lib.arange(5.0).topk(2), "median": lambda lib: lib.arange(4.0).reshape(2, 2).median(0),
    "aminmax": lambda lib: lib.aminmax(lib.arange(3.0)), "frexp": lambda lib: lib.frexp(lib.tensor([8.0])),
    "cummax": lambda lib: lib.arange(3.0).cummax(0), "mode": lambda lib: lib.tensor([1.0, 1.0]).mode(),
    "linalg_slogdet": lambda lib: lib.linalg.slogdet(lib.eye(2)), "linalg_qr": lambda lib: lib.linalg.qr(lib.eye(2)),
    "linalg_eigh": lambda lib: lib.linalg.eigh(lib.eye(2)), "linalg_lu": lambda lib: lib.linalg.lu(lib.eye(2)),
    "linalg_lstsq": lambda lib: lib.linalg.lstsq(lib.eye(2), lib.ones(2, 1)),
    "histogram": lambda lib: lib.histogram(lib.arange(4.0), bins=2),
}


@pytest.mark.parametrize("name", CALLS)
def test_names_fields_and_reprs_as_pytorch(name):
    ours, theirs = CALLS[name](ember), CALLS[name](torch)
    assert type(ours).__name__ == type(theirs).__name__ == name
    assert getattr(ember.return_types, name) is type(ours)
    assert repr(ours).replace("ember.", "torch.") == repr(theirs)


@pytest.mark.parametrize("name", CALLS)
def test_results_pickle(name):
    result = CALLS[name](ember)
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is type(result)
    assert all((a == b).all() for a, b in zip(back, result) if isinstance(a, ember.Tensor))


def test_one_class_per_name():
    assert ember.return_types.structseq("max", ("values", "indices")) is ember.return_types.max
    with pytest.raises(TypeError, match="has fields"):
        ember.return_types.structseq("max", ("a", "b"))

"""torch.nn.utils.parametrize / parametrizations differences found by the nn.utils sweep, each compared with
PyTorch: the consistency errors' texts (a new list, and a parametrization appended to one), right_inverse's
sequence checks, remove_parametrizations of a dtype-changing unsafe parametrization (set_ refuses it),
transfer_parametrizations_and_params, and weight_norm's dim range."""
import copy
import io
import pickle

import numpy
import pytest
import torch

import ember
from tests.oracle import outcome, same_outcome


def same_text(run):
    """``same_outcome`` for a run giving text or an error that may print dtypes and sizes (ember.float32 reads as
    torch.float32)."""
    mine, theirs = outcome(ember, run), outcome(torch, run)
    assert repr(mine).replace("ember.", "torch.") == repr(theirs)


def linear(lib, size=3):
    module = lib.nn.Linear(size, size)
    with lib.no_grad():
        module.weight.copy_(lib.tensor(numpy.random.default_rng(0).uniform(-1, 1, (size, size))))
        module.bias.copy_(lib.tensor(numpy.random.default_rng(1).uniform(-1, 1, size)))
    return module


def parametrization(lib, forward, right_inverse=None):
    """A module class of PyTorch's or ember's nn with these forward/right_inverse methods."""
    methods = {"forward": lambda self, *xs: forward(lib, *xs)}
    if right_inverse is not None:
        methods["right_inverse"] = lambda self, x: right_inverse(lib, x)
    return type("P", (lib.nn.Module,), methods)()


def state(lib, module):
    """The module's state_dict keys and the parametrized weight's dtype, shape and rounded values, as text."""
    weight = module.weight.detach()
    return (f"{' '.join(module.state_dict())} {str(weight.dtype).split('.')[-1]} "
            f"{numpy.round(weight.double().numpy(), 5).tolist()}")


FORWARDS = {"rows": lambda lib, x: x[:2], "double": lambda lib, x: x.double(), "number": lambda lib, x: 3,
            "scale": lambda lib, x: x * 2}
INVERSES = {"none": None, "rows": lambda lib, x: x[:1], "double": lambda lib, x: x.double(),
            "number": lambda lib, x: 3, "half": lambda lib, x: x / 2}


@pytest.mark.parametrize("forward", list(FORWARDS))
@pytest.mark.parametrize("inverse", list(INVERSES))
@pytest.mark.parametrize("appended", [False, True])
def test_registration_checks(forward, inverse, appended):
    """A first parametrization is checked on its list's output; an appended one on its own output and its
    right_inverse's, with other texts (PyTorch's)."""
    def run(lib):
        module = linear(lib)
        if appended:
            lib.nn.utils.parametrize.register_parametrization(module, "weight", parametrization(lib, FORWARDS["scale"]))
        lib.nn.utils.parametrize.register_parametrization(
            module, "weight", parametrization(lib, FORWARDS[forward], INVERSES[inverse]))
        return state(lib, module)
    same_text(run)


SPLITS = {"pair": lambda lib, x: (x * 0.25, x * 0.75), "one": lambda lib, x: (x,),
          "tensor": lambda lib, x: x, "number": lambda lib, x: (x, 3), "double": lambda lib, x: (x, x.double())}


@pytest.mark.parametrize("later", list(SPLITS))
def test_setting_a_tensor_parametrized_by_two(later):
    """Setting the weight runs right_inverse again: PyTorch checks the sequence, its length, its items and dtypes,
    then points each original at the new value (set_)."""
    calls = []

    def inverse(lib, x):
        calls.append(None)
        return SPLITS["pair" if len(calls) % 2 else later](lib, x)

    def run(lib):
        module = linear(lib)
        lib.nn.utils.parametrize.register_parametrization(
            module, "weight", parametrization(lib, lambda lib, a, b: a + b, inverse))
        with lib.no_grad():
            module.weight = lib.ones(3, 3)
        return [module.weight, module.parametrizations.weight.original0, module.parametrizations.weight.original1]
    same_text(lambda lib: str([numpy.round(t.detach().numpy(), 5).tolist() for t in run(lib)]))


@pytest.mark.parametrize("leave_parametrized", [True, False])
def test_remove_unsafe_dtype_change(leave_parametrized):
    """Leaving a float64 value in a float32 parameter is refused by set_ (wrapped in PyTorch's tensor-subclass
    message, a Parameter not being a plain Tensor); ember had changed the parameter's dtype."""
    def run(lib):
        module = linear(lib)
        lib.nn.utils.parametrize.register_parametrization(
            module, "weight", parametrization(lib, FORWARDS["double"]), unsafe=True)
        lib.nn.utils.parametrize.remove_parametrizations(module, "weight", leave_parametrized=leave_parametrized)
        return module.weight
    same_outcome(run)


@pytest.mark.parametrize("case", ["all", "named", "missing", "split", "unparametrized"])
def test_transfer_parametrizations_and_params(case):
    def run(lib):
        utils = lib.nn.utils.parametrize
        source, target = linear(lib), linear(lib)
        if case == "missing":
            target = lib.nn.Linear(3, 3, bias=False)
        if case == "split":
            utils.register_parametrization(source, "weight", parametrization(lib, lambda lib, a, b: a - b,
                                                                             SPLITS["pair"]))
        elif case != "unparametrized":
            utils.register_parametrization(source, "weight" if case != "missing" else "bias",
                                           parametrization(lib, FORWARDS["scale"], INVERSES["half"]))
        result = utils.transfer_parametrizations_and_params(source, target, "weight" if case == "named" else None)
        shared = [getattr(target.parametrizations.weight, name) is getattr(source.parametrizations.weight, name)
                  for name in ("original", "original0") if hasattr(target, "parametrizations")
                  and hasattr(target.parametrizations.weight, name)]
        return f"{result is target} {shared} {' '.join(target.state_dict())} {target.bias.tolist()}"
    same_outcome(run)


@pytest.mark.parametrize("dim", [2, -3, -2, 1])
@pytest.mark.parametrize("api", ["parametrizations", "hook"])
def test_weight_norm_dim_range(dim, api):
    """A dim past the weight's dims is PyTorch's IndexError (ember wrapped it around)."""
    def run(lib):
        module = linear(lib)
        if api == "hook":
            lib.nn.utils.weight_norm(module, dim=dim)
        else:
            lib.nn.utils.parametrizations.weight_norm(module, dim=dim)
        return module.weight
    same_outcome(run)


@pytest.mark.parametrize("how", ["pickle", "save", "deepcopy"])
def test_copying_a_parametrized_module(how):
    """PyTorch's parametrized class refuses pickling (and so torch.save of the module) but deep-copies."""
    def run(lib):
        module = linear(lib)
        lib.nn.utils.parametrize.register_parametrization(
            module, "weight", parametrization(lib, FORWARDS["scale"], INVERSES["half"]))
        if how == "pickle":
            return str(len(pickle.dumps(module)))
        if how == "save":
            lib.save(module, io.BytesIO())
            return "saved"
        replica = copy.deepcopy(module)
        return state(lib, replica) + str(replica.parametrizations.weight.original is module.parametrizations.weight.original)
    same_text(run)


@pytest.mark.parametrize("dim", [-1, 5, 1])
def test_legacy_spectral_norm_dims(dim):
    """PyTorch's spectral_norm permutes the weight with permute(dim, *others), which a negative or too large dim
    makes a permutation of three dims (its RuntimeError); ember's argument check read that *args call as
    torch.permute(input, ...) and raised a TypeError."""
    def run(lib):
        module = linear(lib)
        lib.manual_seed(0)   # u's draw
        return lib.nn.utils.spectral_norm(module, dim=dim).weight_u
    same_outcome(run)


@pytest.mark.parametrize("call", ["method", "function"])
def test_star_called_permute(call):
    def run(lib):
        x, dims = lib.ones(2, 3), (1, 0, 1)
        return x.permute(*dims) if call == "method" else lib.permute(*(x, dims))
    same_outcome(run)


def test_orthogonal_of_an_integer_buffer():
    """PyTorch's orthogonality test asks torch.finfo for the dtype's eps, which refuses integers (TypeError)."""
    def run(lib):
        module = linear(lib)
        module.register_buffer("w", lib.ones(3, 3, dtype=lib.int64))
        return lib.nn.utils.parametrizations.orthogonal(module, "w").w
    same_outcome(run)

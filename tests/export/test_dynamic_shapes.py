"""dynamic_shapes against torch.export: the same specs raise the same error types and messages, dynamic sizes accept
new values within their range, static ones and broken constraints fail the same guards."""
import numpy
import pytest
import torch

import ember
from ember.export import Dim, dims, export
from tests.export.models import close, encoder, language, pair, same_inputs, torch_export


def _affine(lib):
    class Affine(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(4, 3)

        def forward(self, x, y):
            return self.fc(x) + y
    return Affine()


def _pair():
    ember_module, torch_module = _affine(ember), _affine(torch)
    torch_module.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy())
                                  for k, v in ember_module.state_dict().items()})
    return ember_module, torch_module


def _message(error):
    return str(error).split("\n\nThe error above occurred")[0].replace("ember.Size", "torch.Size")


def _raises_as_torch(ember_call, torch_call):
    """Both calls raise: the same type (by name, and ember's derives from what torch's derives from), same text."""
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(Exception) as got:
        ember_call()
    assert type(got.value).__name__ == type(expected.value).__name__
    assert type(got.value).__mro__[1].__name__ == type(expected.value).__mro__[1].__name__
    assert _message(got.value) == _message(expected.value)


def _dims(lib_name):
    """The same Dim objects built by either library (names, ranges)."""
    export_module = torch.export if lib_name == "torch" else ember.export
    return {"b": export_module.Dim("b", min=2, max=10), "b11": export_module.Dim("b", min=2, max=11),
            "u": export_module.Dim("u"), "v": export_module.Dim("v"), "high": export_module.Dim("b", min=4, max=10),
            "AUTO": export_module.Dim.AUTO, "DYNAMIC": export_module.Dim.DYNAMIC}


SPECS = [
    lambda d: {"z": {0: d["b"]}, "y": None},                 # top-level keys are not the arg names
    lambda d: ({0: d["b"]}, None, None),                     # three specs for two inputs
    lambda d: ({0: d["b"]}, 5),                              # a spec that is no dict, tuple or list
    lambda d: ({0: d["b"]}, [d["b"]]),                       # a list spec of the wrong length
    lambda d: ({0: d["b"]}, [d["b"], "q"]),                  # a list entry of the wrong type
    lambda d: ({0: "a"}, None),                              # a dict entry of the wrong type
    lambda d: ({5: d["b"]}, None),                           # a dim out of range
    lambda d: ({0: 4}, None),                                # a static size that is not the example's
    lambda d: ({0: d["high"]}, {0: d["high"]}),              # the example outside the Dim's range
    lambda d: ({0: d["b"], 1: d["b"]}, None),                # one Dim on two sizes that differ
    lambda d: ({0: d["b"]}, {0: d["b11"]}),                  # one name, two ranges
    lambda d: ({1: d["b"]}, None),                           # a Dim on a size the program fixes
    lambda d: ({1: d["DYNAMIC"]}, None),                     # Dim.DYNAMIC on a size the program fixes
    lambda d: ({0: d["u"]}, {0: d["v"]}),                    # two Dims the program makes equal
    lambda d: ({0: d["b"]}, None),                           # a dynamic size the program ties to a static one
    lambda d: 5,                                             # not a spec at all
]


@pytest.mark.parametrize("spec", range(len(SPECS)))
def test_bad_specs_raise_as_torch(spec):
    ember_module, torch_module = _pair()
    (x, y), (tx, ty) = same_inputs((3, 4), (3, 3))
    _raises_as_torch(lambda: export(ember_module, (x, y), dynamic_shapes=SPECS[spec](_dims("ember"))),
                     lambda: torch_export(torch_module, (tx, ty), dynamic_shapes=SPECS[spec](_dims("torch"))))


def test_bad_arguments_raise_as_torch():
    ember_module, torch_module = _pair()
    (x, y), (tx, ty) = same_inputs((3, 4), (3, 3))
    _raises_as_torch(lambda: export(ember_module, [x, y]), lambda: torch_export(torch_module, [tx, ty]))
    _raises_as_torch(lambda: export(lambda a: a, (x,)), lambda: torch_export(lambda a: a, (tx,)))
    with pytest.raises(torch._dynamo.exc.UserError):
        torch_export(torch_module, tx)
    with pytest.raises(ember._dynamo.exc.UserError, match="Expecting `args` to be a tuple"):
        export(ember_module, x)


def test_sizes_of_one_cannot_be_named_dims_as_in_torch():
    ember_module, torch_module = _pair()
    (x, y), (tx, ty) = same_inputs((1, 4), (1, 3))
    _raises_as_torch(lambda: export(ember_module, (x, y), dynamic_shapes=({0: Dim("u")}, {0: Dim("u")})),
                     lambda: torch_export(torch_module, (tx, ty), dynamic_shapes=(
                         {0: torch.export.Dim("u")}, {0: torch.export.Dim("u")})))


def test_dim_checks_and_reprs_match_torch():
    for name, low, high in (("b", 5, 2), ("b", 1, 1), ("1b", None, None)):
        _raises_as_torch(lambda: Dim(name, min=low, max=high), lambda: torch.export.Dim(name, min=low, max=high))
    for args in (("b",), ("b", 1, 10), ("b", 2, 10), ("b", 0, None), ("b", 2, None)):
        options = dict(zip(("min", "max"), args[1:]))
        assert repr(Dim(args[0], **options)) == repr(torch.export.Dim(args[0], **options))
    assert [repr(h) for h in (Dim.AUTO, Dim.STATIC, Dim.DYNAMIC, Dim.DYNAMIC(max=64))] == \
        [repr(h) for h in (torch.export.Dim.AUTO, torch.export.Dim.STATIC, torch.export.Dim.DYNAMIC,
                           torch.export.Dim.DYNAMIC(max=64))]
    assert repr(dims("a", "b", min=2)) == repr(torch.export.dims("a", "b", min=2))


def _both(spec_of, shapes=((3, 4), (3, 3))):
    ember_module, torch_module = _pair()
    (x, y), (tx, ty) = same_inputs(*shapes)
    ep = export(ember_module, (x, y), dynamic_shapes=spec_of(_dims("ember")))
    tep = torch_export(torch_module, (tx, ty), dynamic_shapes=spec_of(_dims("torch")))
    return ep, tep


@pytest.mark.parametrize("spec_of", [lambda d: ({0: d["b"]}, {0: d["b"]}), lambda d: ({0: d["AUTO"]}, {0: d["AUTO"]}),
                                     lambda d: {"x": [d["DYNAMIC"], None], "y": (d["DYNAMIC"], 3)}])
def test_dynamic_batch_accepts_new_sizes_as_torch(spec_of):
    ep, tep = _both(spec_of)
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    module, torch_module = ep.module(), tep.module()
    for batch in (2, 7):
        (x, y), (tx, ty) = same_inputs((batch, 4), (batch, 3))
        close(module(x, y), torch_module(tx, ty))
    (x, y), (tx, ty) = same_inputs((5, 4), (6, 3))
    _raises_as_torch(lambda: module(x, y), lambda: torch_module(tx, ty))


def test_static_and_range_guards_fail_as_torch():
    ep, tep = _both(lambda d: ({0: d["b"]}, {0: d["b"]}))
    module, torch_module = ep.module(), tep.module()
    for shapes in (((3, 5), (3, 3)), ((11, 4), (11, 3)), ((3, 4), (3, 2))):
        (x, y), (tx, ty) = same_inputs(*shapes)
        _raises_as_torch(lambda: module(x, y), lambda: torch_module(tx, ty))
    ep, tep = _both(lambda d: ({0: d["high"]}, {0: d["high"]}), ((5, 4), (5, 3)))
    (x, y), (tx, ty) = same_inputs((3, 4), (3, 3))
    _raises_as_torch(lambda: ep.module()(x, y), lambda: tep.module()(tx, ty))


def test_static_program_refuses_another_batch_as_torch():
    ep, tep = _both(lambda d: None)
    (x, y), (tx, ty) = same_inputs((4, 4), (4, 3))
    _raises_as_torch(lambda: ep.module()(x, y), lambda: tep.module()(tx, ty))
    _raises_as_torch(lambda: ep.module()(x), lambda: tep.module()(tx))
    _raises_as_torch(lambda: ep.module()([x, y]), lambda: tep.module()([tx, ty]))
    assert ep.range_constraints == {} and tep.range_constraints == {}


def test_nested_inputs_guard_with_their_paths_as_torch():
    class Pair:
        def __init__(self, lib):
            class Module(lib.nn.Module):
                def forward(self, xs):
                    return xs[0] + xs[1]
            self.module = Module()
    (a, b), (ta, tb) = same_inputs((3, 4), (3, 4))
    ep = export(Pair(ember).module, ((a, b),), dynamic_shapes=(({0: Dim("u")}, {0: Dim("u")}),))
    tep = torch_export(Pair(torch).module, ((ta, tb),), dynamic_shapes=(
        ({0: torch.export.Dim("u")}, {0: torch.export.Dim("u")}),))
    for shapes in (((4, 4), (5, 4)), ((4, 4), (4, 5))):
        (a, b), (ta, tb) = same_inputs(*shapes)
        _raises_as_torch(lambda: ep.module()((a, b)), lambda: tep.module()((ta, tb)))


def test_attention_with_dynamic_batch_and_sequence_equals_torch():
    ember_module, torch_module = pair(encoder)
    (x,), (tx,) = same_inputs((2, 5, 8))
    ep = export(ember_module, (x,), dynamic_shapes=({0: Dim("batch"), 1: Dim("seq", max=64)},))
    tep = torch_export(torch_module, (tx,), dynamic_shapes=(
        {0: torch.export.Dim("batch"), 1: torch.export.Dim("seq", max=64)},))
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    for shape in ((3, 7, 8), (1, 2, 8)):
        (y,), (ty,) = same_inputs(shape)
        close(ep.module()(y), tep.module()(ty))
    (y,), (ty,) = same_inputs((2, 65, 8))
    _raises_as_torch(lambda: ep.module()(y), lambda: tep.module()(ty))


def _shifted(lib):
    class Shifted(lib.nn.Module):
        def forward(self, x, y):
            return x[1:] + y
    return Shifted()


def _derived_pair(spec_of, x_rows=5, y_rows=4):
    (x, y), (tx, ty) = same_inputs((x_rows, 2), (y_rows, 2))
    n, tn = Dim("n", min=2, max=20), torch.export.Dim("n", min=2, max=20)
    return (lambda: export(_shifted(ember), (x, y), dynamic_shapes=spec_of(n))), \
        (lambda: torch_export(_shifted(torch), (tx, ty), dynamic_shapes=spec_of(tn)))


def test_derived_dims_export_and_guard_as_torch():
    make, torch_make = _derived_pair(lambda n: ({0: n + 1}, {0: n}))
    ep, tep = make(), torch_make()
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    assert [str(k) for k in ep.range_constraints] == ["n + 1", "n"]
    (x, y), (tx, ty) = same_inputs((8, 2), (7, 2))
    close(ep.module()(x, y), tep.module()(tx, ty))
    for shapes in (((7, 2), (5, 2)), ((22, 2), (21, 2))):
        (x, y), (tx, ty) = same_inputs(*shapes)
        _raises_as_torch(lambda: ep.module()(x, y), lambda: tep.module()(tx, ty))


@pytest.mark.parametrize("spec_of, rows", [(lambda n: ({0: n + 2}, {0: n}), (5, 4)),
                                           (lambda n: ({0: 2 * n}, {0: n + 2}), (7, 6))])
def test_derived_dims_that_the_examples_break_raise_as_torch(spec_of, rows):
    _raises_as_torch(*_derived_pair(spec_of, *rows))


def test_dim_arithmetic_matches_torch():
    n, tn = Dim("n", min=2, max=20), torch.export.Dim("n", min=2, max=20)
    for make in (lambda d: 2 * d, lambda d: d + 1, lambda d: d - 1, lambda d: 2 * d + 1, lambda d: 2 * (d + 1)):
        assert (repr(make(n)), make(n).min, make(n).max) == (repr(make(tn)), make(tn).min, make(tn).max)
    for make in (lambda d: d * 1.5, lambda d: 1 - d, lambda d: d + 1.0, lambda d: d * -1):
        _raises_as_torch(lambda: make(n), lambda: make(tn))


def test_shapes_collection_builds_the_spec_as_torch():
    (x, y), (tx, ty) = same_inputs((3, 4), (3, 3))
    shapes, torch_shapes = ember.export.ShapesCollection(), torch.export.ShapesCollection()
    shapes[x], torch_shapes[tx] = {0: Dim("b")}, {0: torch.export.Dim("b")}
    assert repr(shapes.dynamic_shapes(_affine(ember), (x, y))) == repr(torch_shapes.dynamic_shapes(_affine(torch),
                                                                                                   (tx, ty)))
    shapes[y], torch_shapes[ty] = {0: Dim("b")}, {0: torch.export.Dim("b")}
    ember_module, torch_module = _pair()
    ep, tep = export(ember_module, (x, y), dynamic_shapes=shapes), torch_export(torch_module, (tx, ty),
                                                                                dynamic_shapes=torch_shapes)
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    _raises_as_torch(lambda: shapes.dynamic_shapes(_affine(ember), (x.clone(), y)),
                     lambda: torch_shapes.dynamic_shapes(_affine(torch), (tx.clone(), ty)))
    _raises_as_torch(lambda: shapes.__setitem__(3, {}), lambda: torch_shapes.__setitem__(3, {}))


def test_additional_inputs_mark_the_sizes_that_vary_as_torch():
    ember_module, torch_module = _pair()
    (x, y, x2, y2), (tx, ty, tx2, ty2) = same_inputs((3, 4), (3, 3), (5, 4), (5, 3))
    extra, torch_extra = ember.export.AdditionalInputs(), torch.export.AdditionalInputs()
    extra.add((x2, y2))
    torch_extra.add((tx2, ty2))
    assert repr(extra.dynamic_shapes(ember_module, (x, y))) == repr(torch_extra.dynamic_shapes(torch_module, (tx, ty)))
    ep = export(ember_module, (x, y), dynamic_shapes=extra)
    tep = torch_export(torch_module, (tx, ty), dynamic_shapes=torch_extra)
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    extra.verify(ep)
    torch_extra.verify(tep)
    static, torch_static = export(ember_module, (x, y)), torch_export(torch_module, (tx, ty))
    with pytest.raises(RuntimeError, match="please re-export"):
        torch_extra.verify(torch_static)
    with pytest.raises(RuntimeError, match=r"Guard failed: x.size\(\)\[0\] == 3. If you meant"):
        extra.verify(static)
    _raises_as_torch(lambda: extra.add([x]), lambda: torch_extra.add([tx]))


def test_token_model_with_dynamic_batch_equals_torch():
    ember_module, torch_module = pair(language)
    tokens = numpy.random.randint(1, 20, (2, 5))
    spec = ({0: "batch"}, {0: "batch"})   # torch 2.13 specializes the sequence length of this model
    ep = export(ember_module, (ember.tensor(tokens), ember.zeros(2, 5, dtype=ember.bool)),
                dynamic_shapes=[{i: Dim(n) for i, n in s.items()} for s in spec])
    tep = torch_export(torch_module, (torch.tensor(tokens), torch.zeros(2, 5, dtype=torch.bool)),
                       dynamic_shapes=[{i: torch.export.Dim(n) for i, n in s.items()} for s in spec])
    assert [repr(v) for v in ep.range_constraints.values()] == [repr(v) for v in tep.range_constraints.values()]
    tokens, mask = numpy.random.randint(1, 20, (3, 5)), numpy.zeros((3, 5), dtype=bool)
    mask[0, -2:] = True
    close(ep.module()(ember.tensor(tokens), ember.tensor(mask)), tep.module()(torch.tensor(tokens),
                                                                          torch.tensor(mask)), atol=1e-4)


def test_token_model_with_dynamic_sequence_equals_eager_torch():
    ember_module, torch_module = pair(language)
    tokens = numpy.random.randint(1, 20, (2, 5))
    spec = [{0: Dim("batch"), 1: Dim("seq")}] * 2
    ep = export(ember_module, (ember.tensor(tokens), ember.zeros(2, 5, dtype=ember.bool)), dynamic_shapes=spec)
    tokens, mask = numpy.random.randint(1, 20, (3, 7)), numpy.zeros((3, 7), dtype=bool)
    mask[0, -2:] = True
    close(ep.module()(ember.tensor(tokens), ember.tensor(mask)), torch_module(torch.tensor(tokens),
                                                                           torch.tensor(mask)), atol=1e-4)

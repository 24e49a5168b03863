"""The TorchScript language helpers and fuser switches in eager, traced and scripted code, beside PyTorch's."""
import warnings
from typing import Dict, List, Optional, Tuple, Union

import pytest
import torch

import ember

LIBRARIES = [pytest.param(torch, id="torch"), pytest.param(ember, id="ember")]


def _quietly(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _outcome(call):
    """What a call gives: its value, or the type and message of what it raised."""
    try:
        return "value", _quietly(call)
    except Exception as error:
        return type(error).__name__, str(error)


def _both(fn):
    """``fn(library)`` for torch and ember, with ember's tensors as NumPy arrays for comparison."""
    def plain(value):
        if isinstance(value, (tuple, list)):
            return type(value)(plain(item) for item in value)
        return value.detach().numpy().tolist() if hasattr(value, "detach") else value
    results = []
    for library in (torch, ember):
        kind, value = _outcome(lambda: fn(library))
        results.append((kind, plain(value)))
    return results


SAMPLES = [([1, 2], List[int]), ([1, "a"], List[int]), ([], List[str]), ([[1]], List[List[int]]),
           ([[1]], List[List[str]]), ({"a": 1}, Dict[str, int]), ({"a": "b"}, Dict[str, int]), ({}, Dict[int, int]),
           ((1, "a"), Tuple[int, str]), ((1,), Tuple[int, int]), ((), Tuple[()]), (None, Optional[int]),
           (3, Optional[int]), ("x", Optional[int]), (None, Union[int, str]), (1, Union[str, int]),
           ((1, 2), Optional[List[int]]), ([1], list[int]), (1, int), (True, int), (1.0, int), (1, (str, int)),
           ([1], list), ({1: 2}, dict), ((1,), tuple), ([1], List), ({}, Dict), ((), Tuple), (1, Optional),
           (1, [int]), (1, 5)]


@pytest.mark.parametrize("obj, target", SAMPLES, ids=[str(i) for i in range(len(SAMPLES))])
def test_isinstance_on_typed_containers(obj, target):
    assert _outcome(lambda: ember.jit.isinstance(obj, target)) == _outcome(lambda: torch.jit.isinstance(obj, target))


def test_isinstance_warns_on_empty_containers_as_pytorch():
    for library in (torch, ember):
        with pytest.warns(UserWarning, match="The inner type of a container is lost"):
            assert library.jit.isinstance([], List[int])


def test_isinstance_of_tensors():
    assert ember.jit.isinstance([ember.ones(1)], List[ember.Tensor])
    assert not ember.jit.isinstance([ember.ones(1), 1], List[ember.Tensor])
    assert ember.jit.isinstance({"w": ember.ones(1)}, Dict[str, ember.Tensor])


def test_eager_answers_and_values():
    for library in (torch, ember):
        jit = library.jit
        assert jit.is_scripting() is False and jit.is_tracing() is False
        assert jit.annotate(List[int], [3]) == [3]
        attribute = jit.Attribute(3, int)
        assert attribute == (3, int) and attribute.value == 3 and attribute.type is int
        assert jit.Final is getattr(__import__("typing"), "Final")
        assert issubclass(jit.ScriptWarning, Warning) and issubclass(jit.Error, Exception)


def test_is_scripting_folds_in_scripted_code():
    def branchy(library):
        def f(x):
            if library.jit.is_scripting():
                return x * 2
            return x * 3
        return library.jit.script(f)(library.ones(2)), f(library.ones(2))
    theirs, ours = _both(branchy)
    assert ours == theirs == ("value", ([2.0, 2.0], [3.0, 3.0]))


def test_annotate_and_isinstance_inside_scripted_code():
    def f(library):
        def g(x):
            values = library.jit.annotate(List[library.Tensor], [])
            values.append(x + 1)
            if library.jit.isinstance(x, library.Tensor):
                values.append(x * 2)
            return values[0] + values[1]
        return library.jit.script(g)(library.ones(2))
    theirs, ours = _both(f)
    assert ours == theirs


def test_scripted_lists_grow_outside_input_dependent_branches_only():
    def grown(x):
        values = [x]
        values.extend([x + 1, x + 2])
        for scale in [1, 2]:   # a constant loop: unrolled
            values.append(x * scale)
        return values[1] + values[4]
    assert ember.jit.script(grown)(ember.ones(2)).tolist() == [4.0, 4.0]

    def branchy(x):
        values = ember.jit.annotate(List[ember.Tensor], [])
        if x.sum() > 0:
            values.append(x)
        return values
    with pytest.raises(RuntimeError, match="list.append inside a branch or loop that depends on the inputs"):
        ember.jit.script(branchy)


def test_is_tracing_is_true_while_a_trace_records():
    def f(library):
        seen = []

        def g(x):
            seen.append(library.jit.is_tracing())
            return x + 1
        _quietly(lambda: library.jit.trace(g, library.ones(2), check_trace=False))
        return seen[0], library.jit.is_tracing()
    theirs, ours = _both(f)
    assert ours == theirs == ("value", (True, False))


def test_get_tracing_state_is_none_unless_a_trace_records():
    # torch._C._get_tracing_state(): Pyro's is_identically_zero skips value tests while tracing
    def f(library):
        seen = []

        def g(x):
            seen.append(library._C._get_tracing_state() is not None)
            return x + 1
        _quietly(lambda: library.jit.trace(g, library.ones(2), check_trace=False))
        return seen[0], library._C._get_tracing_state()
    theirs, ours = _both(f)
    assert ours == theirs == ("value", (True, None))


def test_script_if_tracing():
    def f(library):
        @library.jit.script_if_tracing
        def k(x):
            return x + 1 if library.jit.is_scripting() else x - 1
        traced = _quietly(lambda: library.jit.trace(lambda x: k(x), library.ones(1), check_trace=False))
        return k(library.ones(1)), traced(library.ones(1)), k.__name__
    theirs, ours = _both(f)
    assert ours == theirs == ("value", ([0.0], [2.0], "k"))


@pytest.mark.filterwarnings("ignore:`torch.jit.fork` is deprecated", "ignore:`torch.jit.wait` is deprecated")
def test_fork_runs_at_once_and_wait_gives_the_result():
    for library in (torch, ember):
        order = []

        def work(x, y=0):
            order.append("ran")
            return x + y
        future = library.jit.fork(work, 1, y=2)
        order.append("forked")
        assert order == ["ran", "forked"] and future.done()
        assert library.jit.wait(future) == 3 and future.value() == 3
        with pytest.raises(ZeroDivisionError):
            library.jit.fork(lambda: 1 / 0)


@pytest.mark.filterwarnings("ignore:`torch.jit.interface` is deprecated")
def test_interface_returns_the_class():
    for library in (ember,):   # torch.jit.interface needs the class's source file, which the test has
        class Shaped(library.nn.Module):
            def forward(self, x):
                return x
        assert library.jit.interface(Shaped) is Shaped
    with pytest.raises(RuntimeError, match="interface must be applied to a class"):
        ember.jit.interface(lambda: 0)


def test_fuser_switches():
    def f(library):
        jit = library.jit
        first = jit.set_fusion_strategy([("STATIC", 3)])
        second = jit.set_fusion_strategy(first)
        enabled = [jit.onednn_fusion_enabled()]
        jit.enable_onednn_fusion(True)
        enabled.append(jit.onednn_fusion_enabled())
        jit.enable_onednn_fusion(False)
        with jit.optimized_execution(False), jit.fuser("fuser1"), jit.fuser("none"):
            pass
        return first, second, enabled
    theirs, ours = _both(f)
    assert ours == theirs
    for call in (lambda j: j.set_fusion_strategy([("FOO", 1)]), lambda j: j.fuser("bad").__enter__()):
        assert _outcome(lambda: call(ember.jit)) == _outcome(lambda: call(torch.jit))


def test_strict_fusion_warns_in_eager_code():
    for library in (torch, ember):
        with pytest.warns(UserWarning, match="Only works in script mode"):
            with library.jit.strict_fusion():
                pass


def test_deprecation_warnings_as_pytorch():
    calls = {"fork": lambda jit: jit.fork(int), "wait": lambda jit: jit.wait(_done(jit)),
             "set_fusion_strategy": lambda jit: jit.set_fusion_strategy(jit.set_fusion_strategy([("STATIC", 2)]))}
    for name, call in calls.items():
        for library in (torch, ember):
            with pytest.warns(DeprecationWarning, match=f"`torch.jit.{name}` is deprecated"):
                call(library.jit)


def _done(jit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jit.fork(int)


def test_annotations_module_names_match_torch():
    """`from torch.jit.annotations import List, Optional, Tuple` (timm's densenet) gives the typing objects."""
    import typing

    import torch.jit.annotations as torch_annotations

    import ember.jit.annotations as ember_annotations
    for name in ("Any", "Dict", "List", "Optional", "Tuple", "Union"):
        assert getattr(ember_annotations, name) is getattr(torch_annotations, name) is getattr(typing, name)
    assert ember_annotations.BroadcastingList2[int] is torch_annotations.BroadcastingList2[int] is None
    assert ember_annotations.Future is ember.jit.Future


def test_script_with_annotations_module_types():
    from ember.jit.annotations import List, Tuple

    def pairs(x: List[ember.Tensor]) -> Tuple[ember.Tensor, int]:
        return ember.cat(x), len(x)
    out, n = ember.jit.script(pairs)([ember.ones(2), ember.zeros(1)])
    assert out.tolist() == [1.0, 1.0, 0.0] and n == 2


@pytest.mark.parametrize("lib", LIBRARIES)
def test_overload_declarations(lib):
    """``jit._overload``/``_overload_method`` (PyTorch Geometric declares its utilities' typed overloads with them):
    a declaration is returned as it is and recorded; one whose body is not ``pass``/``...`` is refused."""
    @lib.jit._overload
    def pick(x: int) -> int:
        pass

    @lib.jit._overload
    def pick(x: str) -> str:  # noqa: F811
        ...

    def pick(x):  # noqa: F811
        return x

    assert pick(3) == 3
    internal = torch._jit_internal if lib is torch else ember.jit._overloads
    qualified = f"__torch__.{__name__}.pick"
    assert [f.__annotations__["x"] for f in internal._get_fn_overloads(qualified)] == [int, str]
    internal._clear_fn_overloads(qualified)

    class Holder:
        @lib.jit._overload_method
        def get(self, x: int) -> int:
            pass

    assert Holder.get.__name__ == "get"
    with pytest.raises(RuntimeError) as caught:
        @lib.jit._overload
        def bad(x: int) -> int:
            return x
    assert "Only `pass` statement or `...` can be the body of overload declaration:" in str(caught.value)
    assert "<- Expecting `pass` or `...` here!\n\nExample usage of overload function:" in str(caught.value)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_script_a_class(lib):
    """``jit.script`` on a plain class returns the class (eager instances stay Python objects: PyTorch Geometric's
    ``SelectOutput``); a Module class or a subclass is refused with PyTorch's errors."""
    class Output:
        def __init__(self, index: torch.Tensor, count: int):
            self.index, self.count = index, count

    assert _quietly(lambda: lib.jit.script(Output)) is Output
    assert _outcome(lambda: lib.jit.script(Output)(lib.arange(3), 3).count) == ("value", 3)

    class Sub(Output):
        pass

    assert _outcome(lambda: lib.jit.script(Sub)) == ("RuntimeError", "TorchScript classes does not support "
                                                      "inheritance yet. Please directly inherit from 'object'.")
    message = _outcome(lambda: lib.jit.script(lib.nn.Linear))
    assert message[0] == "RuntimeError" and message[1].endswith(
        "cannot be compiled since it inherits from nn.Module, pass an instance instead")

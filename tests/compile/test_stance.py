"""``compiler.set_stance`` (as a call, a ``with`` block and a decorator) and the pass-through compiler decorators,
beside torch's."""
import pytest
import torch

import ember


def _counting():
    captures = []

    @ember.compile
    def f(x):
        captures.append(ember.compiler.is_compiling())
        return x * 2
    return f, captures


def test_force_eager_runs_python_every_call():
    f, captures = _counting()
    with ember.compiler.set_stance("force_eager"):
        f(ember.ones(2))
        f(ember.ones(2))
    assert captures == [False, False]
    f(ember.ones(2))
    f(ember.ones(2))
    assert captures == [False, False, True]   # captured once after the block, then replayed


def test_stance_as_a_call_and_as_a_decorator():
    f, captures = _counting()
    ember.compiler.set_stance("force_eager")
    try:
        f(ember.ones(2))
    finally:
        ember.compiler.set_stance("default")

    @ember.compiler.set_stance("force_eager")
    def inside():
        return f(ember.ones(2))
    assert captures == [False]   # decorating leaves the stance as it was
    inside()
    f(ember.ones(2))
    assert captures == [False, False, True]


def test_recompile_stances():
    for lib in (ember, torch):
        @lib.compile(backend="eager")
        def f(x):
            return x * 2
        f(lib.ones(2))
        with lib.compiler.set_stance("fail_on_recompile"):
            assert f(lib.ones(2)).tolist() == [2.0, 2.0]   # a cached capture still runs
            with pytest.raises(RuntimeError, match="Detected recompile when torch.compile stance is "
                                                   "'fail_on_recompile'.*function name: 'f'"):
                f(lib.ones(2, 3, 4))
    f, captures = _counting()
    f(ember.ones(2))
    with ember.compiler.set_stance("eager_on_recompile"):
        assert f(ember.ones(3)).tolist() == [2.0] * 3
    assert captures == [True, False]


def test_eager_then_compile():
    for stance in ("eager_then_compile", "aot_eager_then_compile"):
        f, captures = _counting()
        with ember.compiler.set_stance(stance):
            for _ in range(3):
                f(ember.ones(2))
        assert captures == [False, True]


def test_stance_errors():
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="non-default stance cannot have force_backend set"):
            lib.compiler.set_stance("force_eager", force_backend="eager")
    with pytest.raises(RuntimeError, match="invalid torch.compile stance 'bogus'"):
        ember.compiler.set_stance("bogus")   # torch raises the same at the next compiled call
    assert ember.compiler._stance.current["stance"] == "default"


def test_pass_through_decorators():
    def g(x):
        return x + 1
    for lib in (ember, torch):
        assert lib.compiler.allow_in_graph(g) is g and lib.compiler.assume_constant_result(g)(1) == 2
        assert not lib.compiler.is_exporting()
    assert ember.compiler.cudagraph_mark_step_begin() is None   # torch's imports inductor (a deprecation warning)
    assert ember.compiler.nested_compile_region(g) is g and ember.compiler.nested_compile_region()(g) is g

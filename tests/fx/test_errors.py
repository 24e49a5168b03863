"""Tracing errors with torch.fx's types and messages."""
import operator

import pytest
import torch

import ember


def both(make):
    """Runs ``make(lib)`` for torch and ember; returns the two exceptions raised."""
    errors = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            make(lib)
        errors.append(info.value)
    return errors


def trace_forward(body):
    def make(lib):
        class M(lib.nn.Module):
            def forward(self, x):
                return body(x)
        return lib.fx.symbolic_trace(M())
    return make


@pytest.mark.parametrize("body", [
    lambda x: x if x.sum() > 0 else -x,        # bool(proxy)
    lambda x: [y for y in x],                    # iter(proxy)
    lambda x: len(x),                            # len(proxy)
    lambda x: x + object(),                      # an argument fx cannot record
], ids=["bool", "iter", "len", "argument"])
def test_tracing_errors_match_torch(body):
    t_error, e_error = both(trace_forward(body))
    assert type(e_error).__name__ == type(t_error).__name__
    assert str(e_error) == str(t_error)
    if type(t_error).__name__ == "TraceError":
        assert isinstance(e_error, ember.fx.proxy.TraceError) and isinstance(e_error, ValueError)


def test_wrap_errors():
    def wrap_inside(lib):
        lib.fx.wrap("something")
    t_error, e_error = both(wrap_inside)
    assert type(e_error) is type(t_error) is NotImplementedError and str(e_error) == str(t_error)
    t_error, e_error = both(lambda lib: lib.fx.wrap(3))
    assert type(e_error) is type(t_error) is RuntimeError and str(e_error) == str(t_error)


def test_concrete_args_count_and_foreign_parameter():
    class M(ember.nn.Module):
        def forward(self, x, y):
            return x + y
    with pytest.raises(RuntimeError, match="Tracing expected 2 arguments but got 1 concrete arguments"):
        ember.fx.symbolic_trace(M(), concrete_args=(1,))

    foreign = ember.nn.Parameter(ember.ones(2))

    class N(ember.nn.Module):
        def forward(self, x):
            return ember.add(x, foreign)
    with pytest.raises(NameError, match="parameter is not a member of this module"):
        ember.fx.symbolic_trace(N())


def test_graph_errors_match_torch():
    def use_before_definition(lib):
        graph = lib.fx.Graph()
        x = graph.placeholder("x")
        with graph.inserting_before(x):
            graph.call_function(operator.neg, (x,))
        graph.lint()
    t_error, e_error = both(use_before_definition)
    assert type(e_error) is type(t_error) is RuntimeError
    assert str(e_error).split("\n")[0] == str(t_error).split("\n")[0]

    def bad_op(lib):
        lib.fx.Graph().create_node("call_nothing", "x")
    t_error, e_error = both(bad_op)
    assert type(e_error) is type(t_error) and str(e_error) == str(t_error)


def test_node_arguments_refuse_in_place_changes_as_torch():
    def mutate(lib):
        class M(lib.nn.Module):
            def forward(self, x):
                return lib.cat([x, x], dim=0)
        node = lib.fx.symbolic_trace(M()).graph.find_nodes(op="call_function", target=lib.cat)[0]
        node.args[0].append(node)
    t_error, e_error = both(mutate)
    assert type(e_error) is type(t_error) is TypeError and str(e_error) == str(t_error)


@pytest.mark.parametrize("op, target", [("call_function", "x"), ("call_method", len), ("get_attr", 3)])
def test_node_target_type_errors_match_torch(op, target):
    t_error, e_error = both(lambda lib: lib.fx.Graph().create_node(op, target))
    assert type(e_error) is type(t_error) and str(e_error) == str(t_error)

"""Schemas against torch: strings inferred from type hints (infer_schema), schemas parsed by Library.define and
printed back (defaults, aliases, lists, optionals, overloads), and the parser's errors."""
import typing
from typing import List, Optional, Sequence

import pytest
import torch
import torch.library  # noqa: F401

import ember
import ember.library

from ._helpers import namespace, raised

LIBS = (torch, ember)
NUMBER = {torch: torch.types.Number, ember: int | float | bool}


def signatures(lib):
    """Functions with the type hints PyTorch's tutorial and documentation use, by name."""
    T, Number = lib.Tensor, NUMBER[lib]

    def plain(x: T) -> T: ...
    def everything(x: T, y: Optional[T], zs: list[T], w: Sequence[int], a: float = 1.0, b: int = 2,
                   c: bool = False, d: str = "x", e: lib.dtype = lib.float32, g: lib.device = lib.device("cpu"),
                   n: Optional[List[float]] = None, *, k: int = 3, s: Number = 2.5) -> tuple[T, int]: ...
    def returns_list(x: T, y: Optional[T]) -> list[T]: ...
    def one_tuple(x: T) -> tuple[T]: ...
    def strings(x: "Tensor", ts: list[Optional[T]], z: typing.Union[int, None]) -> "Tensor": ...  # noqa: F821
    def nothing(x: T, xs: List[T]) -> None: ...
    def scalars(a: int, b: float, c: bool) -> tuple[int, float, bool]: ...
    return dict(plain=plain, everything=everything, returns_list=returns_list, one_tuple=one_tuple,
                strings=strings, nothing=nothing, scalars=scalars)


@pytest.mark.parametrize("name", ["plain", "everything", "returns_list", "one_tuple", "strings", "nothing",
                                  "scalars"])
@pytest.mark.parametrize("mutates", [(), "unknown", "first"])
def test_infer_schema_equals_torchs(name, mutates):
    inferred = []
    for lib in LIBS:
        function = signatures(lib)[name]
        mutates_args = {next(iter(function.__annotations__))} if mutates == "first" else mutates
        try:
            inferred.append(lib.library.infer_schema(function, mutates_args=mutates_args, op_name="op"))
        except ValueError:   # a string annotation naming nothing global, a number marked as mutated
            inferred.append(raised(lambda: lib.library.infer_schema(function, mutates_args=mutates_args)))
    assert inferred[0] == inferred[1]


SCHEMAS = [
    "f(Tensor x, float a=1.0, float b=0.5, float c=1e-5, float d=-2.0, int e=3, bool f=True, str g=\"hi\", "
    "ScalarType? h=None, Device dev=\"cpu\", Scalar s=1, int[] l=[1, 2], int[2] k=1, SymInt[] m=[], "
    "float[]? n=None, *, Tensor(a!) out) -> Tensor(a!)",
    "g.overload(Tensor[] xs, Tensor? w=None, Tensor?[] ys) -> (Tensor, Tensor)",
    "h(Tensor(a) x) -> Tensor(a)",
    "i(Tensor x) -> (Tensor a, Tensor b)",
    "j(Tensor x)->()",
    "k(Tensor x) -> Tensor[]",
    "l(int x, float y, bool z) -> (int, float)",
    "m(Tensor(a!)[] x) -> ()",
    "n(Tensor x, ScalarType dtype=float32, Layout? layout=None, MemoryFormat mf=contiguous_format) -> Tensor",
    "o(Tensor x, float y=1e10, float z=0.1, float w=100., float v=3.14159) -> Tensor",
    "p(Tensor x) -> ((Tensor))",
    "q(Tensor x, Scalar s=2.5, Scalar t=-1, float f=1, Device d=\"cuda:0\", str q='sq', ScalarType dt=bfloat16, "
    "bool[3] b=[True, False, True], float[] fl=[1.0, 0.5]) -> (Tensor)",
    "r(Tensor(a1!)? y, Tensor(b)[] z) -> Tensor(b)[]",
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_defined_schema_prints_as_torchs(schema):
    ns = namespace()
    printed = []
    for lib in LIBS:
        library = lib.library.Library(ns, "DEF")
        name = library.define(schema)
        overload_name = schema.split("(")[0].partition(".")[2] or "default"
        overload = getattr(getattr(getattr(lib.ops, ns), name), overload_name)
        printed.append((name, str(overload._schema), overload.overloadpacket.overloads()))
        library._destroy()
    assert printed[0] == printed[1]


@pytest.mark.parametrize("schema", ["bad schema", "f(Tensor x", "f(Tensor) -> Tensor", "f(Tensor x) Tensor",
                                    "f(Tensor x) ->"])
def test_parse_errors_equal_torchs(schema):
    ns = namespace()
    errors = []
    for lib in LIBS:
        library = lib.library.Library(ns, "FRAGMENT")
        errors.append(raised(lambda: library.define(schema)))
    assert errors[0] == errors[1]

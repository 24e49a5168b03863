"""Plain pickles (``pickle``, ``copy``) of tensors made under ``ember run`` take PyTorch's form, so a real-PyTorch
process loads them as its own tensors; ember loads PyTorch's and its own, under the alias and outside it. Each
check runs one program under ``ember run`` and the same program on PyTorch, which is the reference."""
import io
import pickle

import pytest

import ember
from tests.test_run import ember_run, python, write

# The tensors a program pickles: views of one storage, non-contiguous strides, conj/neg bits, the dtypes with their
# own storages, requires_grad (a non-leaf's too), Parameters, buffers, a subclass and a tensor with attributes, meta,
# sparse and quantized tensors, and the objects around them (a module, a generator, dtypes, devices, sizes).
DUMP = '''
    import pickle, sys
    import torch
    from kinds import MyTensor
    base = torch.arange(12.)
    x = torch.ones(2, requires_grad=True)
    p = torch.nn.Parameter(torch.tensor([1.5, -2.0]))
    p.note = "kept"
    tagged = torch.tensor([1, 2])
    tagged.foo = 7
    meta_tagged = torch.empty(3, device="meta")
    meta_tagged.foo = 8
    layer = torch.nn.Linear(2, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(6.).reshape(3, 2))
        layer.bias.fill_(0.5)
    objects = {
        "base": base, "view": base[2:8].view(2, 3), "transposed": base.view(3, 4).t(), "strided": base[::3],
        "scalar": torch.tensor(3.25), "empty": torch.empty(0, 4), "flipped": torch.arange(4.).flip(0),
        "bool": torch.tensor([True, False]), "int8": torch.tensor([-3, 4], dtype=torch.int8),
        "half": torch.tensor([0.5, 2.0], dtype=torch.float16), "bf16": torch.tensor([1.5, -8.0], dtype=torch.bfloat16),
        "complex": torch.tensor([1 + 2j, -3j]), "conj": torch.tensor([1 + 2j, -3j]).conj(),
        "neg": torch.tensor([1 + 2j, -3j]).conj().imag, "double": torch.tensor([1e-300], dtype=torch.float64),
        "leaf": x, "nonleaf": x * 3, "param": torch.nn.Parameter(torch.ones(2, 2)), "frozen": p.requires_grad_(False),
        "buffer": torch.nn.Buffer(torch.tensor([4.0]), persistent=False), "tagged": tagged,
        "sub": torch.tensor([5.0, 6.0]).as_subclass(MyTensor), "meta": torch.empty(2, 3, device="meta"),
        "meta_tagged": meta_tagged,
        "coo": torch.sparse_coo_tensor([[0, 1], [1, 0]], [3.0, 4.0], (2, 2)),
        "csr": torch.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse_csr(),
        "qtensor": torch.quantize_per_tensor(torch.tensor([0.5, 1.0]), 0.1, 3, torch.quint8),
        "qchannel": torch.quantize_per_channel(torch.tensor([[0.5, 1.0], [2.0, 3.0]]), torch.tensor([0.1, 0.2]),
                                               torch.tensor([0, 1]), 0, torch.qint8),
        "layer": layer, "generator": torch.Generator(), "dtype": torch.bfloat16, "device": torch.device("cpu"),
        "size": torch.Size([2, 3]), "layout": torch.sparse_coo,
    }
    objects["sub"].label = "mine"
    with open(sys.argv[1], "wb") as f:
        pickle.dump(objects, f)
    '''

# What a loaded object is, printed alike by ember under the alias and by PyTorch.
LOAD = '''
    import pickle, sys, warnings
    import torch
    from kinds import MyTensor
    warnings.simplefilter("ignore")
    with open(sys.argv[1], "rb") as f:
        objects = pickle.load(f)
    for name, value in objects.items():
        if isinstance(value, torch.nn.Module):
            print(name, type(value), type(value.weight), value.weight.tolist(), value.bias.tolist())
        elif not isinstance(value, torch.Tensor):
            print(name, type(value), value if not isinstance(value, torch.Generator) else "")
        else:
            kind = "Parameter" if isinstance(value, torch.nn.Parameter) else type(value).__name__
            shown = [name, kind if kind in ("Parameter", "MyTensor") else "Tensor", value.dtype, value.layout,
                     tuple(value.shape), value.device, value.requires_grad, value.is_leaf,
                     {key: getattr(value, key, None) for key in ("note", "foo", "label", "persistent", "_is_buffer")}]
            if value.is_quantized:
                shown += [value.int_repr().tolist(), value.qscheme(), value.dequantize().tolist()]
            elif value.layout != torch.strided:
                shown += [value.to_dense().tolist()]
            elif not value.is_meta:
                shown += [value.detach().resolve_conj().resolve_neg().tolist()]
                if "storage" in sys.argv:   # the layout in memory: what PyTorch reads from the pickle
                    shown += [value.stride(), value.storage_offset(), value.untyped_storage().nbytes()]
            print(*shown)
    if "storage" in sys.argv:   # each tensor loads with its own copy of its storage, as PyTorch's
        print("views share storage:", objects["base"].data_ptr() == objects["view"].data_ptr() - 8)
    '''

KINDS = '''
    import torch
    class MyTensor(torch.Tensor):
        pass
    '''


def _programs(tmp_path):
    for name, source in (("dump.py", DUMP), ("load.py", LOAD), ("kinds.py", KINDS)):
        write(tmp_path, name, source)


def _ok(*runs):
    for run in runs:
        assert run.returncode == 0, run.stderr
    return [run.stdout for run in runs]


def test_pickles_made_under_ember_run_load_in_pytorch_as_pytorchs_own(tmp_path):
    """Each object a program pickles under ``ember run`` loads in PyTorch as the one PyTorch pickles: same class,
    dtype, shape, strides, storage offset and size, requires_grad, attributes and values."""
    _programs(tmp_path)
    _ok(ember_run(tmp_path, "dump.py", "mine.pkl"), python(tmp_path, "dump.py", "theirs.pkl"))
    mine, theirs = _ok(python(tmp_path, "load.py", "mine.pkl", "storage"),
                       python(tmp_path, "load.py", "theirs.pkl", "storage"))
    assert mine == theirs
    assert "[[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]] (3, 1) 2 48" in mine   # a view pickles its base's whole storage
    assert "<class 'torch.nn.modules.linear.Linear'> <class 'torch.nn.parameter.Parameter'>" in mine
    assert b"ember" not in (tmp_path / "mine.pkl").read_bytes()


def test_ember_run_loads_pytorchs_pickles_and_its_own(tmp_path):
    """Under ``ember run`` a program loads what PyTorch pickled, and what it pickled itself, as PyTorch loads them
    (a conj() view or its imag, a neg view, holds the values its bits stand for). How ember lays the loaded values
    out in memory is its own: the layout is compared where PyTorch loads."""
    _programs(tmp_path)
    _ok(ember_run(tmp_path, "dump.py", "mine.pkl"), python(tmp_path, "dump.py", "theirs.pkl"))
    reference, = _ok(python(tmp_path, "load.py", "theirs.pkl"))
    loaded = _ok(ember_run(tmp_path, "load.py", "theirs.pkl"), ember_run(tmp_path, "load.py", "mine.pkl"))
    assert loaded == [reference, reference]


def test_float8_pickles_under_ember_run_load_in_pytorch(tmp_path):
    """A float8 tensor (no typed storage in PyTorch) pickles as bytes that both libraries load: PyTorch's own
    UntypedStorage form does not load back in PyTorch 2.13."""
    write(tmp_path, "dump.py", '''
        import pickle, torch
        x = torch.tensor([1.0, -0.5, 448.0, 3.3])
        pickle.dump([x.to(torch.float8_e4m3fn), x.to(torch.float8_e5m2)[1:]], open("f8.pkl", "wb"))
        ''')
    write(tmp_path, "load.py", '''
        import pickle, sys, torch
        for t in pickle.load(open("f8.pkl", "rb")):
            layout = [t.stride(), t.storage_offset()] if "storage" in sys.argv else []
            print(t.dtype, t.shape, t.float().tolist(), *layout)
        x = torch.tensor([1.0, -0.5, 448.0, 3.3])
        print(torch.float8_e4m3fn, torch.Size([4]), x.to(torch.float8_e4m3fn).float().tolist(), (1,), 0)
        print(torch.float8_e5m2, torch.Size([3]), x.to(torch.float8_e5m2)[1:].float().tolist(), (1,), 1)
        ''')
    _ok(ember_run(tmp_path, "dump.py"))
    theirs, mine = _ok(python(tmp_path, "load.py", "storage"), ember_run(tmp_path, "load.py"))
    lines = theirs.splitlines()
    assert lines[:2] == lines[2:]
    assert mine.splitlines()[:2] == [line.rsplit(" (1,)", 1)[0] for line in lines[:2]]


def test_copy_under_ember_run_shares_memory_as_pytorchs(tmp_path):
    """``copy.copy`` goes through the same reduction: the copy views the original's memory, as in PyTorch."""
    write(tmp_path, "prog.py", '''
        import copy, torch
        base = torch.arange(6.)
        view = copy.copy(base[1:])
        view[0] = 100
        p = copy.copy(torch.nn.Parameter(torch.ones(2)))
        print(base.tolist(), type(view), type(p), p.requires_grad)
        ''')
    mine, theirs = _ok(ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py"))
    assert mine == theirs and "100.0" in mine


def test_plain_ember_pickles_keep_ember_format_and_load_under_the_alias(tmp_path):
    """Outside the alias a tensor still pickles in ember's own format (no torch names, so no torch is needed to
    load it); such a pickle also loads under ``ember run``."""
    t = ember.arange(6.).view(2, 3).t()
    data = pickle.dumps({"t": t, "p": ember.nn.Parameter(ember.ones(2))})
    assert b"torch" not in data
    back = pickle.loads(data)
    assert back["t"].tolist() == t.tolist() and type(back["p"]) is ember.nn.Parameter
    (tmp_path / "plain.pkl").write_bytes(data)
    write(tmp_path, "prog.py", '''
        import pickle, torch
        back = pickle.load(open("plain.pkl", "rb"))
        print(back["t"].tolist(), type(back["p"]), back["p"].requires_grad)
        ''')
    mine, = _ok(ember_run(tmp_path, "prog.py"))
    assert mine == "[[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]] <class 'torch.nn.parameter.Parameter'> True\n"


def test_weights_only_load_allows_no_global_pytorch_refuses(tmp_path):
    """The globals plain pickles name (and ``ember/_utils.py`` now holds) are allowed by ``ember.load(weights_only=
    True)`` only where ``torch.load`` allows them; ``torch.storage._load_from_bytes`` (a full unpickling) never."""
    torch = pytest.importorskip("torch")
    names = [("torch.storage", "_load_from_bytes"), ("torch._utils", "_rebuild_device_tensor_from_cpu_tensor"),
             ("torch._utils", "_rebuild_sparse_tensor"), ("torch._tensor", "_rebuild_from_type_v2"),
             ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter")]
    for module, name in names:
        buffer = io.BytesIO()
        torch.save({"f": getattr(__import__(module, fromlist=[name]), name)}, buffer)
        outcomes = []
        for load in (torch.load, ember.load):
            try:
                load(io.BytesIO(buffer.getvalue()), weights_only=True)
                outcomes.append(True)
            except pickle.UnpicklingError:
                outcomes.append(False)
        assert outcomes[1] <= outcomes[0], f"ember allows {module}.{name}, which torch refuses"
        if name == "_load_from_bytes":
            assert outcomes == [False, False]


def test_device_tensor_form_loads_under_ember_run(tmp_path):
    """``torch._utils._rebuild_device_tensor_from_cpu_tensor`` (how ember pickles a CUDA tensor under the alias, and
    PyTorch a tensor of a device without storage) loads in ember as in PyTorch: the CPU tensor moved and cast."""
    write(tmp_path, "dump.py", '''
        import pickle, torch
        class Moved:
            def __reduce__(self):
                return torch._utils._rebuild_device_tensor_from_cpu_tensor, (torch.arange(3.), torch.float64, "cpu",
                                                                               True)
        pickle.dump(Moved(), open("moved.pkl", "wb"))
        ''')
    write(tmp_path, "load.py", '''
        import pickle, torch
        t = pickle.load(open("moved.pkl", "rb"))
        print(type(t), t.dtype, t.device, t.requires_grad, t.is_leaf, t.tolist())
        ''')
    _ok(python(tmp_path, "dump.py"))
    mine, theirs = _ok(ember_run(tmp_path, "load.py"), python(tmp_path, "load.py"))
    assert mine == theirs == "<class 'torch.Tensor'> torch.float64 cpu True True [0.0, 1.0, 2.0]\n"


def test_pickling_a_tensor_with_hooks_warns_as_pytorch(tmp_path):
    """Gradient hooks are not pickled; as PyTorch, pickling a tensor that has one warns, unless the hook is marked
    ``unserializable_hook`` (a Parameter pickles its data, without the hooks, silently)."""
    write(tmp_path, "prog.py", '''
        import pickle, re, warnings
        import torch
        from torch.utils.hooks import unserializable_hook
        x, y = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
        p = torch.nn.Parameter(torch.ones(1))
        x.register_hook(lambda g: g)
        y.register_hook(unserializable_hook(lambda g: g))
        p.register_hook(lambda g: g)
        for value in (x, y, p):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                back = pickle.loads(pickle.dumps(value))
            print(back.tolist(), [re.sub("0x[0-9a-f]+", "0x", str(w.message)) for w in caught])
        ''')
    mine, theirs = _ok(ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py"))
    assert mine == theirs
    assert "backward hook <function <lambda> at 0x> on tensor will not be serialized." in mine


def test_classes_are_found_by_their_module_name_under_ember_run(tmp_path):
    """Under ``ember run`` ``sys.modules[cls.__module__]`` holds each class ember shows under a torch name, as in
    PyTorch, so tools that look classes up there (cloudpickle, inspect) treat them as importable."""
    write(tmp_path, "prog.py", '''
        import inspect, sys
        import torch
        kinds = [torch.nn.Linear, torch.nn.Module, torch.nn.Parameter, torch.Tensor, torch.optim.Adam,
                 torch.utils.data.DataLoader, torch.distributions.Normal, type(torch.float32), torch.Size]
        for kind in kinds:
            module = sys.modules.get(kind.__module__)
            print(kind.__qualname__, module is not None and getattr(module, kind.__qualname__) is kind,
                  inspect.getmodule(kind) is module)
        ''')
    mine, theirs = _ok(ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py"))
    assert mine == theirs and "False" not in mine
    for name in ("torch.utils.checkpoint", "torch.nn.modules.linear"):   # listed, yet -m runs them as before
        run = ember_run(tmp_path, "-m", name)
        assert run.returncode == 0 and run.stderr == "", run.stderr


def test_cloudpickles_made_under_ember_run_load_in_pytorch_and_back(tmp_path):
    """cloudpickle pickles a ``__main__`` module class and a lambda by value, and torch's classes, functions and the
    ``torch`` module they use by reference: the file loads and runs in PyTorch and under ``ember run``, and
    PyTorch's under ``ember run``."""
    pytest.importorskip("cloudpickle")
    write(tmp_path, "dump.py", '''
        import sys, cloudpickle, torch
        class Box(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = torch.nn.Linear(2, 2)
                with torch.no_grad():
                    self.lin.weight.fill_(0.25)
                    self.lin.bias.fill_(-1)
            def forward(self, x):
                return torch.relu(self.lin(x)) + x * 2
        triple = lambda t: t * 3
        with open(sys.argv[1], "wb") as f:
            f.write(cloudpickle.dumps({"box": Box(), "f": triple, "t": torch.arange(4.).reshape(2, 2).t()}))
        ''')
    write(tmp_path, "load.py", '''
        import pickle, sys, torch
        with open(sys.argv[1], "rb") as f:
            loaded = pickle.load(f)
        box, t = loaded["box"], loaded["t"]
        print(type(box).__name__, isinstance(box, torch.nn.Module), type(box.lin.weight))
        print(box(torch.ones(1, 2)).tolist(), loaded["f"](t).tolist(), t.stride())
        ''')
    _ok(ember_run(tmp_path, "dump.py", "mine.pkl"), python(tmp_path, "dump.py", "theirs.pkl"))
    runs = _ok(python(tmp_path, "load.py", "mine.pkl"), ember_run(tmp_path, "load.py", "mine.pkl"),
               ember_run(tmp_path, "load.py", "theirs.pkl"), python(tmp_path, "load.py", "theirs.pkl"))
    assert runs[:3] == runs[3:] * 3

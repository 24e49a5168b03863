"""Under ``ember run`` a program prints PyTorch's names (``torch.Size``, ``torch.float32``, ``torch.FloatTensor``) as
it does on PyTorch; without the alias ember prints its own."""
import ember
from tests.test_run import ember_run, python, write


def test_reprs_under_ember_run_print_what_pytorch_prints(tmp_path):
    write(tmp_path, "prog.py", '''
        import torch
        x = torch.ones(2, 3)
        print(x.shape, repr(x.size()), x.shape[1:], [x.shape], f"{torch.Size([4])}")
        print(x.dtype, torch.int64, repr(torch.bfloat16), x.type(), torch.FloatTensor, torch.zeros(2, dtype=torch.int32))
        print(type(x), torch.Tensor, x.layout, torch.sparse_coo, torch.Tensor.__module__)
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "torch.Size([2, 3])" in mine.stdout


def test_reprs_without_the_alias_name_ember():
    x = ember.ones(2, 3)
    assert (repr(x.shape), repr(x.dtype), x.type()) == ("ember.Size([2, 3])", "ember.float32", "ember.FloatTensor")
    assert (repr(type(x)), repr(x.layout)) == ("<class 'ember.Tensor'>", "ember.strided")


def test_python_object_reprs_name_the_pytorch_class(tmp_path):
    """Objects printed by object.__repr__ in PyTorch (pruning methods, benchmark Measurements, Generators) name the
    PyTorch-family class under ``ember run``, ember's without the alias."""
    write(tmp_path, "prog.py", '''
        import re
        import torch
        import torch.nn.utils.prune as prune
        from torch.utils.benchmark import Timer
        layer = torch.nn.Linear(2, 2)
        prune.l1_unstructured(layer, "weight", amount=1)
        measurement = Timer("1 + 1").timeit(1)
        for shown in (layer._forward_pre_hooks, repr(measurement).splitlines()[0], torch.Generator()):
            print(re.sub("0x[0-9a-f]+", "0x", str(shown)))
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<torch.utils.benchmark.utils.common.Measurement object at 0x>" in mine.stdout
    method = ember.nn.utils.prune.L1Unstructured(amount=1)
    assert repr(method).startswith("<ember.nn.utils.prune.L1Unstructured object at 0x")
    assert repr(ember.Generator()).startswith("<ember.Generator object at 0x")


def test_custom_function_nodes_print_as_pytorch_classes(tmp_path):
    """A custom autograd.Function's node prints as a Python class of torch.autograd.function (built-in nodes print
    their bare name), and a hook's handle as torch.utils.hooks.RemovableHandle, as in PyTorch; without the alias they
    name ember."""
    write(tmp_path, "prog.py", '''
        import torch
        class Double(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        y = Double.apply(torch.ones(2, requires_grad=True))
        handle = y.register_hook(lambda g: g)
        print(repr(y.grad_fn).split(" object at ")[0], repr(y.sum().grad_fn).split(" object at ")[0], y)
        print(repr(handle).split(" object at ")[0])
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<torch.autograd.function.DoubleBackward <SumBackward0" in mine.stdout
    assert "<torch.utils.hooks.RemovableHandle" in mine.stdout
    node = type("Triple", (ember.autograd.Function,), {"forward": staticmethod(lambda ctx, x: x * 3),
                                                       "backward": staticmethod(lambda ctx, g: g * 3)})
    assert repr(node.apply(ember.ones(1, requires_grad=True)).grad_fn).startswith(
        "<ember.autograd.function.TripleBackward object at ")


def test_parameter_classes_print_as_pytorchs_under_ember_run(tmp_path):
    """``type(net[0].bias)`` (d2l's parameters chapter) prints torch.nn.parameter's class under ``ember run``, also
    where the module loaded before ``import torch``; a saved parameter still loads in both."""
    write(tmp_path, "prog.py", '''
        import pickle
        import torch
        from torch import nn
        p = nn.Linear(2, 1).bias
        print(type(p), nn.Parameter, nn.parameter.Buffer, type(nn.LazyLinear(3).weight), nn.UninitializedBuffer)
        torch.save(p, "p.pt")
        print(type(torch.load("p.pt")), type(pickle.loads(pickle.dumps(p))))
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<class 'torch.nn.parameter.Parameter'>" in mine.stdout
    assert repr(type(ember.nn.Parameter(ember.ones(1)))) == "<class 'ember.nn.parameter.Parameter'>"
    write(tmp_path, "late.py", '''
        import ember.nn
        ember.install_torch_alias()
        import torch
        print(torch.nn.Parameter, torch.nn.parameter.UninitializedParameter)
        ''')
    late = python(tmp_path, "late.py")
    assert late.stdout == ("<class 'torch.nn.parameter.Parameter'> "
                           "<class 'torch.nn.parameter.UninitializedParameter'>\n"), late.stderr


def test_ember_classes_show_pytorch_module_names_under_ember_run(tmp_path):
    """Every ember class outside its op layer shows its PyTorch-family ``__module__`` under ``ember run`` (layers,
    optimizers, datasets, distributions, top-level classes, torchvision's), also for modules ember loads later; fx
    still keeps ember's layers as leaves, user Functions still run under func transforms, and a pickled layer loads."""
    write(tmp_path, "prog.py", '''
        import pickle
        import torch
        from torch import nn
        from torch.fx import symbolic_trace
        layer = nn.Linear(2, 3)
        print(type(layer), type(layer).__module__, torch.optim.SGD, torch.utils.data.TensorDataset)
        print(torch.distributions.Normal, torch.autograd.Function, torch.finfo, torch.nn.Module, torch.fx.GraphModule)
        print(type(torch.max(torch.ones(2, 2), 0)), nn.TransformerEncoderLayer, nn.modules.pooling.MaxPool2d)
        print(symbolic_trace(nn.Sequential(nn.Linear(2, 2), nn.ReLU())).code.strip().splitlines()[-2:])
        class Square(torch.autograd.Function):
            @staticmethod
            def forward(x):
                return x * x
            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])
            @staticmethod
            def backward(ctx, grad):
                return 2 * ctx.saved_tensors[0] * grad
        print(torch.func.grad(lambda x: Square.apply(x).sum())(torch.tensor([3.0])))
        print(type(pickle.loads(pickle.dumps(layer))), pickle.dumps(layer).count(b"torch.nn.modules.linear"))
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<class 'torch.optim.sgd.SGD'>" in mine.stdout
    assert repr(ember.optim.SGD) == "<class 'ember.optim.sgd.SGD'>"


def test_core_classes_of_private_modules_show_torch_under_ember_run(tmp_path):
    """Classes ember defines in private modules and exports at the top (layout, qscheme, finfo) print as torch's
    C-defined ones (``<class 'torch.layout'>``), also those exported on first use; Generator as ``torch._C``'s."""
    write(tmp_path, "prog.py", '''
        import torch
        print(type(torch.strided), type(torch.per_tensor_affine), type(torch.channels_last), torch.Generator)
        print(type(torch.iinfo(torch.int8)), torch.finfo, torch.device, torch.dtype, torch.Size)
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<class 'torch.qscheme'>" in mine.stdout


def test_autograd_node_classes_show_pytorchs_names_under_ember_run(tmp_path):
    """``type(y.grad_fn)`` prints PyTorch's C++ node class (``<class 'AddBackward0'>``, module ``builtins``), also for
    nodes ember renames or makes on first use and for a leaf's AccumulateGrad; a custom Function's node is a class of
    torch.autograd.function. Classes a module makes on first use (swa_utils.AveragedModel) and op-layer classes a
    public module exports (linalg.LinAlgError) show no ember module."""
    write(tmp_path, "prog.py", '''
        import torch
        class Double(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        x = torch.ones(2, 2, requires_grad=True)
        nodes = [(x + 1).grad_fn, x.sum().grad_fn, (x @ x).grad_fn, x[1:].grad_fn, x.mean().grad_fn,
                 torch.nn.functional.linear(x, x).grad_fn, (x + 1).grad_fn.next_functions[0][0],
                 Double.apply(x).grad_fn]
        for node in nodes:
            kind = type(node)
            print(kind, kind.__module__, kind.__qualname__, repr(node).split(" object at ")[0])
        print(torch.optim.swa_utils.AveragedModel.__module__, torch.linalg.LinAlgError.__module__.split(".")[0])
        ''')
    mine, theirs = ember_run(tmp_path, "prog.py"), python(tmp_path, "prog.py")
    assert mine.returncode == theirs.returncode == 0, mine.stderr + theirs.stderr
    assert mine.stdout == theirs.stdout
    assert "<class 'AddBackward0'> builtins AddBackward0 <AddBackward0" in mine.stdout
    assert "<class 'torch.autograd.function.DoubleBackward'> torch.autograd.function" in mine.stdout
    assert "ember" not in mine.stdout

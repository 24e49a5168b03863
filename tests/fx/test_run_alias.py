"""An unmodified torch.fx program prints the same under ``ember run`` as under PyTorch."""
import os
import pathlib
import subprocess
import sys
import textwrap

ROOT = str(pathlib.Path(__file__).resolve().parents[2])

PROGRAM = """
    import operator
    import torch
    import torch.fx
    import torch.nn.functional as F
    from torch.fx.passes.shape_prop import ShapeProp

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)
            self.fc = torch.nn.Linear(8, 3)

        def forward(self, x):
            y = torch.relu(self.conv(x))
            return self.fc(F.max_pool2d(y, 2).flatten(1)).softmax(-1)

    gm = torch.fx.symbolic_trace(Net())
    print(gm.graph)
    print(gm.code)
    for node in gm.graph.nodes:
        if node.target is torch.relu:
            with gm.graph.inserting_after(node):
                new = gm.graph.call_function(F.gelu, node.args)
            node.replace_all_uses_with(new)
            gm.graph.erase_node(node)
    gm.recompile()
    ShapeProp(gm).propagate(torch.zeros(2, 1, 6, 6))
    gm.print_readable()
    print([(n.name, tuple(n.meta["tensor_meta"].shape)) for n in gm.graph.nodes if "tensor_meta" in n.meta])
    print(gm(torch.zeros(2, 1, 6, 6)).shape, type(gm).__name__)
"""


FUSER = """
    # PyTorch's "Building a Convolution/Batch Norm fuser in FX" tutorial, shortened.
    import copy
    import torch
    import torch.fx as fx
    import torch.nn as nn
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def _parent_name(target):
        *parent, name = target.rsplit(".", 1)
        return parent[0] if parent else "", name

    def replace_node_module(node, modules, new_module):
        parent_name, name = _parent_name(node.target)
        setattr(modules[parent_name], name, new_module)

    def fuse(model):
        model = copy.deepcopy(model)
        fx_model = fx.symbolic_trace(model)
        modules = dict(fx_model.named_modules())
        for node in fx_model.graph.nodes:
            if node.op != "call_module":
                continue
            if type(modules[node.target]) is nn.BatchNorm2d and type(modules[node.args[0].target]) is nn.Conv2d:
                if len(node.args[0].users) > 1:
                    continue
                conv, bn = modules[node.args[0].target], modules[node.target]
                replace_node_module(node.args[0], modules, fuse_conv_bn_eval(conv, bn))
                node.replace_all_uses_with(node.args[0])
                fx_model.graph.erase_node(node)
        fx_model.graph.lint()
        fx_model.delete_all_unused_submodules()
        fx_model.recompile()
        return fx_model

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
            self.conv = nn.Conv2d(4, 4, 1)
            self.bn = nn.BatchNorm2d(4)

        def forward(self, x):
            return self.bn(self.conv(self.block(x))).mean()

    torch.manual_seed(0)
    model = Net().eval()
    fused = fuse(model)
    print(fused.code)
    print(fused)
    x = torch.randn(2, 3, 8, 8)
    print(torch.allclose(fused(x), model(x), atol=1e-5), [n for n, _ in fused.named_modules()])
"""


DOC_EXAMPLES = """
    # torch.fx documentation examples: retargeting nodes, and decomposition through Proxies on a fresh graph.
    import operator
    import torch
    import torch.fx as fx
    import torch.nn.functional as F

    class M(torch.nn.Module):
        def forward(self, x, y):
            return F.relu(torch.add(x, y)) + torch.add(x, 2)

    traced = fx.symbolic_trace(M())
    for node in traced.graph.nodes:
        if node.op == "call_function" and node.target == torch.add:
            node.target = torch.mul
    traced.recompile()
    print(traced.code)

    def relu_decomposition(x):
        return (x > 0) * x

    rules = {F.relu: relu_decomposition}
    graph, new_graph, env = traced.graph, fx.Graph(), {}
    tracer = torch.fx.proxy.GraphAppendingTracer(new_graph)
    for node in graph.nodes:
        if node.op == "call_function" and node.target in rules:
            args = [fx.Proxy(env[a.name], tracer) if isinstance(a, fx.Node) else a for a in node.args]
            env[node.name] = rules[node.target](*args).node
        else:
            env[node.name] = new_graph.node_copy(node, lambda a: env[a.name])
    decomposed = fx.GraphModule(traced, new_graph)
    print(decomposed.code)
    print(new_graph)
    x, y = torch.tensor([-1.0, 2.0]), torch.tensor([3.0, -4.0])
    print(decomposed(x, y), traced(x, y))

    class Cats(torch.nn.Module):   # replace_pattern's documentation example
        def forward(self, x, w1, w2):
            m1 = torch.cat([w1, w2]).sum()
            m2 = torch.cat([w1, w2]).sum()
            return x + torch.max(m1) + torch.max(m2)

    cats = fx.symbolic_trace(Cats())
    matches = fx.replace_pattern(cats, lambda w1, w2: torch.cat([w1, w2]), lambda w1, w2: torch.stack([w1, w2]))
    print([(m.anchor.name, sorted((k.name, v.name) for k, v in m.nodes_map.items())) for m in matches])
    print(cats.code, cats(torch.ones(1), torch.ones(2), torch.ones(2)))
"""


def run(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_fx_program_prints_as_under_pytorch(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM))
    under_torch = run(tmp_path, "prog.py")
    under_ember = run(tmp_path, "-m", "ember", "run", "prog.py")
    assert under_torch.returncode == 0, under_torch.stderr
    assert under_ember.returncode == 0, under_ember.stderr
    assert under_ember.stdout == under_torch.stdout


def test_conv_bn_fuser_tutorial_prints_as_under_pytorch(tmp_path):
    (tmp_path / "fuser.py").write_text(textwrap.dedent(FUSER))
    under_torch = run(tmp_path, "fuser.py")
    under_ember = run(tmp_path, "-m", "ember", "run", "fuser.py")
    assert under_torch.returncode == 0, under_torch.stderr
    assert under_ember.returncode == 0, under_ember.stderr
    assert under_ember.stdout == under_torch.stdout
    assert "True" in under_ember.stdout


def test_documentation_examples_print_as_under_pytorch(tmp_path):
    (tmp_path / "docs.py").write_text(textwrap.dedent(DOC_EXAMPLES))
    under_torch = run(tmp_path, "docs.py")
    under_ember = run(tmp_path, "-m", "ember", "run", "docs.py")
    assert under_torch.returncode == 0, under_torch.stderr
    assert under_ember.returncode == 0, under_ember.stderr
    assert under_ember.stdout == under_torch.stdout


def test_torchvision_feature_extraction_under_ember_run(tmp_path):
    (tmp_path / "fe.py").write_text(textwrap.dedent("""
        import torch
        from torchvision.models import resnet18
        from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names
        model = resnet18().eval()
        print(get_graph_node_names(model)[1][:6])
        features = create_feature_extractor(model, {"layer2": "mid", "avgpool": "pooled"})(torch.zeros(1, 3, 64, 64))
        print({k: tuple(v.shape) for k, v in features.items()})
    """))
    result = run(tmp_path, "-m", "ember", "run", "fe.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['x', 'conv1', 'bn1', 'relu', 'maxpool', 'layer1.0.conv1']",
                                          "{'mid': (1, 128, 8, 8), 'pooled': (1, 512, 1, 1)}"]

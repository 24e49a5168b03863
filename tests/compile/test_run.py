"""An unmodified PyTorch program calling ``torch.compile`` runs under ``ember run``."""
import os
import pathlib
import subprocess
import sys
import textwrap

import ember

ROOT = str(pathlib.Path(__file__).resolve().parent.parent.parent)


def test_ember_run_script_with_torch_compile(tmp_path):
    (tmp_path / "prog.py").write_text(textwrap.dedent('''
        import torch
        import torch._dynamo
        import torch.nn as nn

        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
        compiled = torch.compile(model, mode="max-autotune")
        optimizer = torch.optim.SGD(compiled.parameters(), lr=0.1)
        x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
        for step in range(3):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(compiled(x), y)
            loss.backward()
            optimizer.step()

        @torch.compile(fullgraph=True)
        def f(a):
            return torch.sin(a) + torch.cos(a)

        torch._dynamo.reset()
        torch.compiler.reset()
        print(type(compiled).__name__, sorted(compiled.state_dict())[0], f"{loss.item():.6f}",
              f"{f(torch.ones(2)).sum().item():.6f}", torch.compiler.is_compiling())
    '''))
    env = {**os.environ, "PYTHONPATH": ROOT}
    ours = subprocess.run([sys.executable, "-m", "ember", "run", "prog.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.split()[:2] == ["OptimizedModule", "_orig_mod.0.bias"]
    assert abs(float(ours.stdout.split()[3]) - 2 * (0.8414709848 + 0.5403023059)) < 1e-5
    assert ours.stdout.split()[4] == "False"
    uncompiled = ("import ember; ember.install_torch_alias(); "
                  "exec(open('prog.py').read().replace('torch.compile(model, mode=\"max-autotune\")', 'model'))")
    theirs = subprocess.run([sys.executable, "-c", uncompiled], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout.split()[2] == theirs.stdout.split()[2]   # the same loss as the uncompiled program


def test_compiled_writes_follow_new_inputs():
    """Writes made without grad (x[mask] = v, out=, in-place ops on views, index ops) are replayed, not frozen."""
    class Model(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = ember.nn.Linear(4, 4)

        def forward(self, x):
            y = self.linear(x)
            y[y > 0] = 0.5
            y[:, 0] = y[:, 1] * 2
            ember.add(x[2], 1, out=y[2])
            y.t()[3].mul_(x[:, 0])
            return y.index_fill(1, (x[0, :2].abs() * 2).long().clamp(max=3), -1.0)
    model = Model()
    compiled = ember.compile(model)
    for seed in range(4):
        ember.manual_seed(seed)
        x = ember.randn(3, 4)
        with ember.no_grad():
            assert ember.equal(compiled(x), model(x))

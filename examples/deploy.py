"""Deployment: train the seeds' CNN briefly, trace and save it, load it in a fresh process that has no model class,
export it to ONNX, then compare the three outputs and time each path.

    python examples/deploy.py [--steps 20] [--out deploy_out]

Trains on Fashion-MNIST when it is on disk (see fashion_mnist.py), else on random images (the point here is the
deployment path, not the accuracy). The ONNX part needs ``pip install ember[onnx]``.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy
from mnist_cnn import Net

import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader, TensorDataset

LOADER = """
import sys, time, numpy, ember
model = ember.jit.load(sys.argv[1])          # no Net class exists in this process
x = ember.from_numpy(numpy.load(sys.argv[2]))
with ember.no_grad():
    out = model(x)
    start = time.perf_counter()
    for _ in range(int(sys.argv[4])):
        model(x)
numpy.save(sys.argv[3], out.numpy())
print((time.perf_counter() - start) / int(sys.argv[4]))
"""


def training_data(limit):
    """Fashion-MNIST's first ``limit`` images when available, else random ones with random labels."""
    try:
        from fashion_mnist import data_root

        from ember.vision import datasets, transforms
        root, download = data_root()
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.2860,), (0.3530,))])
        dataset = datasets.FashionMNIST(root, train=True, download=download, transform=transform)
        images = torch.stack([dataset[i][0] for i in range(limit)])
        labels = torch.tensor([dataset[i][1] for i in range(limit)])
    except (OSError, RuntimeError, ImportError):
        images, labels = torch.randn(limit, 1, 28, 28), torch.randint(0, 10, (limit,))
    return TensorDataset(images, labels)


def latency(function, x, repeats):
    function(x)
    start = time.perf_counter()
    for _ in range(repeats):
        function(x)
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="training steps of batch 32")
    parser.add_argument("--repeats", type=int, default=20, help="timed forward passes per path")
    parser.add_argument("--out", default="deploy_out", help="folder for model.pt and model.onnx")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)

    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(training_data(args.steps * 32), batch_size=32, shuffle=True)
    for images, labels in loader:
        optimizer.zero_grad()
        loss = nn.functional.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"trained {args.steps} steps, last loss {loss.item():.3f}")

    model.eval()
    example = torch.randn(1, 1, 28, 28)
    traced = torch.jit.trace(model, example)
    path = os.path.join(args.out, "model.pt")
    traced.save(path)
    print(f"saved the traced model to {path}")

    x = torch.randn(8, 1, 28, 28)
    numpy.save(os.path.join(args.out, "x.npy"), x.numpy())
    with torch.no_grad():
        eager = model(x).numpy()
        eager_time = latency(model, x, args.repeats)
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(here))
    result = subprocess.run([sys.executable, "-c", LOADER, path, os.path.join(args.out, "x.npy"),
                             os.path.join(args.out, "loaded.npy"), str(args.repeats)], capture_output=True, text=True,
                            timeout=300, env=env, check=True)
    loaded = numpy.load(os.path.join(args.out, "loaded.npy"))
    loaded_time = float(result.stdout.strip().splitlines()[-1])

    print(f"eager vs loaded (fresh process): max |difference| {numpy.abs(eager - loaded).max():.3g}")
    print(f"latency, batch {len(x)}: eager {eager_time * 1e3:.2f} ms, loaded trace {loaded_time * 1e3:.2f} ms")
    try:
        import onnxruntime
    except ImportError:
        print("onnxruntime is not installed: pip install ember[onnx] for the ONNX path")
        return
    onnx_path = os.path.join(args.out, "model.onnx")
    torch.onnx.export(model, (example,), onnx_path, input_names=["image"], output_names=["log_probs"],
                      dynamic_axes={"image": {0: "batch"}, "log_probs": {0: "batch"}})
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    feed = {"image": x.numpy()}
    exported = session.run(None, feed)[0]
    onnx_time = latency(lambda _: session.run(None, feed), None, args.repeats)
    print(f"eager vs ONNX Runtime: max |difference| {numpy.abs(eager - exported).max():.3g}")
    print(f"latency, batch {len(x)}: ONNX Runtime {onnx_time * 1e3:.2f} ms")


if __name__ == "__main__":
    main()

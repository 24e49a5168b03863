"""Test accuracy of the seeds' MLP and CNN on Fashion-MNIST, trained by ember and by PyTorch with the same settings.

MLP: batch 64, SGD lr 0.001 momentum 0.9, 2 epochs, inputs normalized with (0.5, 0.5).
CNN: batch 100, SGD lr 0.01 momentum 0.9, 1 epoch, inputs normalized with (0.1307, 0.3081).
Both libraries see the same arrays and, from the same seed, draw the same random numbers (ember reproduces
PyTorch's CPU generator): the same initial weights, shuffling and dropout masks. The accuracies then differ by
float round-off alone, amplified over the run.
    PYTHONPATH=. python bench/compare_accuracy.py [--seeds 0 1 2] [--only mlp]
"""
import argparse

import numpy

import ember
from bench_training import cnn, mlp, read_idx

try:
    import torch
except ImportError:
    torch = None

ROOT = "/usr/share/datasets/fashion-mnist"


def arrays(split, mean, std):
    images = read_idx(f"{ROOT}/{split}-images-idx3-ubyte.gz").astype(numpy.float32)[:, None] / 255.0
    return (images - mean) / std, read_idx(f"{ROOT}/{split}-labels-idx1-ubyte.gz").astype(numpy.int64)


def train_and_test(lib, build, batch_size, lr, epochs, loss_name, mean, std, seed):
    lib.manual_seed(seed)
    model = build(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    criterion = getattr(lib.nn, loss_name)()
    data = lib.utils.data
    train = data.TensorDataset(*(lib.tensor(a) for a in arrays("train", mean, std)))
    test = data.TensorDataset(*(lib.tensor(a) for a in arrays("t10k", mean, std)))
    model.train()
    for _ in range(epochs):
        for inputs, targets in data.DataLoader(train, batch_size=batch_size, shuffle=True):
            optimizer.zero_grad()
            criterion(model(inputs), targets).backward()
            optimizer.step()
    model.eval()
    correct = 0
    with lib.no_grad():
        for inputs, targets in data.DataLoader(test, batch_size=1000):
            correct += (model(inputs).argmax(1) == targets).sum().item()
    return 100.0 * correct / len(test)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", choices=["mlp", "cnn"])
    args = parser.parse_args()
    cases = [("mlp", mlp, 64, 0.001, 2, "CrossEntropyLoss", 0.5, 0.5),
             ("cnn", cnn, 100, 0.01, 1, "NLLLoss", 0.1307, 0.3081)]
    for name, build, batch, lr, epochs, loss, mean, std in cases:
        if args.only and name != args.only:
            continue
        for seed in args.seeds:
            e = train_and_test(ember, build, batch, lr, epochs, loss, mean, std, seed)
            t = train_and_test(torch, build, batch, lr, epochs, loss, mean, std, seed) if torch else float("nan")
            print(f"{name} seed {seed}: ember {e:.2f}%  torch {t:.2f}%", flush=True)


if __name__ == "__main__":
    main()

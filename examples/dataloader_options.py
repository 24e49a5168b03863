"""Seed 000's DataLoader options on Fashion-MNIST: num_workers, pin_memory, drop_last and SubsetRandomSampler."""
import time

import ember as torch
from ember.utils.data import DataLoader, SubsetRandomSampler
from ember.vision import datasets, transforms

from fashion_mnist import data_root


def timed_pass(loader):
    """Batches and samples seen in one pass, and the seconds it took."""
    start, batches, samples = time.perf_counter(), 0, 0
    for images, labels in loader:
        batches, samples = batches + 1, samples + len(labels)
    return batches, samples, time.perf_counter() - start


def main():
    torch.manual_seed(0)
    root, download = data_root()
    dataset = datasets.FashionMNIST(root, train=False, download=download, transform=transforms.ToTensor())
    for workers in (0, 2):
        loader = DataLoader(dataset, batch_size=128, shuffle=True, num_workers=workers)
        batches, samples, seconds = timed_pass(loader)
        print(f"num_workers={workers}: {batches} batches, {samples} samples in {seconds:.2f} s")
    loader = DataLoader(dataset, batch_size=128, pin_memory=True)
    images, _ = next(iter(loader))
    print(f"pin_memory=True: batch {tuple(images.shape)}, pinned: {images.is_pinned()}  (pinning needs a GPU)")
    for drop_last in (False, True):
        loader = DataLoader(dataset, batch_size=128, drop_last=drop_last)
        sizes = [len(labels) for _, labels in loader]
        print(f"drop_last={drop_last}: {len(sizes)} batches, the last has {sizes[-1]} samples")
    loader = DataLoader(dataset, batch_size=4, sampler=SubsetRandomSampler([10, 20]))
    for images, labels in loader:
        print(f"SubsetRandomSampler([10, 20]): loaded samples with labels {labels.tolist()}")


if __name__ == "__main__":
    main()

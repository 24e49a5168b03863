"""The seeds' CNN (mnist_cnn.py) trained on Fashion-MNIST with DistributedDataParallel; start it any of three ways:

    mpiexec -n 2 python examples/ddp_fashion_mnist.py
    python -m ember.distributed.run --nproc-per-node 2 examples/ddp_fashion_mnist.py
    python examples/ddp_fashion_mnist.py --spawn 2

Each rank reads its share of every epoch through DistributedSampler (batch 100 across all ranks, so the training is
the single-process one of mnist_cnn.py whatever the number of ranks), DDP averages the gradients, and the ranks add up
their test counts with all_reduce. Rank 0 prints.
"""
import argparse
import os

import ember as torch
import ember.distributed as dist
import ember.multiprocessing as mp
import ember.nn as nn
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler
from ember.vision import datasets, transforms

from fashion_mnist import data_root
from mnist_cnn import Net


def run(rank, world_size, args):
    """One rank's training; ``rank``/``world_size`` are -1 when MPI (mpiexec or ember.distributed.run) supplies them."""
    os.environ.setdefault("MASTER_ADDR", "localhost")
    os.environ.setdefault("MASTER_PORT", "29500")
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if rank == 0:
        root, download = data_root()   # rank 0 links (or downloads) the files while the others wait
    dist.barrier()
    if rank != 0:
        root, download = data_root()
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    trainset = datasets.FashionMNIST(root, train=True, download=download, transform=transform)
    testset = datasets.FashionMNIST(root, train=False, download=download, transform=transform)
    train_sampler = DistributedSampler(trainset, shuffle=True, seed=0)
    trainloader = DataLoader(trainset, batch_size=100 // world_size, sampler=train_sampler)
    testloader = DataLoader(testset, batch_size=100, sampler=DistributedSampler(testset, shuffle=False))

    torch.manual_seed(0)
    model = DDP(Net())
    criterion = nn.NLLLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for epoch in range(args.epochs):
        model.train()
        train_sampler.set_epoch(epoch)
        running = torch.zeros(2, dtype=torch.float64)   # loss sum, batches
        for i, (inputs, labels) in enumerate(trainloader):
            if args.limit and i == args.limit:
                break
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
            running += torch.tensor([loss.item(), 1.0], dtype=torch.float64)
        dist.all_reduce(running)
        if rank == 0:
            print(f"Epoch: {epoch + 1} loss: {running[0].item() / running[1].item():.4f}", flush=True)

    model.eval()
    counts = torch.zeros(2, dtype=torch.int64)   # correct, total
    with torch.no_grad():
        for i, (images, labels) in enumerate(testloader):
            if args.test_limit and i == args.test_limit:
                break
            predicted = model(images).argmax(1)
            counts += torch.tensor([(predicted == labels).sum().item(), labels.size(0)])
    dist.all_reduce(counts)
    if rank == 0:
        print(f"Accuracy on {counts[1].item()} test images: {100 * counts[0].item() / counts[1].item():.2f} % "
              f"({world_size} ranks)", flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="train on this many batches per epoch (0: all)")
    parser.add_argument("--test-limit", type=int, default=0, help="test this many batches per rank (0: all)")
    parser.add_argument("--spawn", type=int, default=0, help="start this many ranks with ember.multiprocessing.spawn")
    args = parser.parse_args()
    if args.spawn:
        mp.spawn(run, args=(args.spawn, args), nprocs=args.spawn)
    else:
        run(-1, -1, args)


if __name__ == "__main__":
    main()

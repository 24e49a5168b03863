"""Hogwild: two processes train one model whose parameters live in shared memory; the parent, which never trains,
sees the trained weights. Each worker also takes a shared counter from a Queue and adds one to it in place."""
import sys

import ember
import ember.multiprocessing as mp
from ember import nn

TRUE_W, TRUE_B = [[1.5, -2.0, 0.5, 3.0]], [0.25]


def train(rank, model, x, y, steps, queue, lock):
    ember.manual_seed(rank)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        idx = ember.randint(0, x.shape[0], (16,))
        opt.zero_grad()
        nn.functional.mse_loss(model(x[idx]), y[idx]).backward()
        opt.step()
    counter = queue.get()
    with lock:
        counter.add_(1)


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    ember.manual_seed(0)
    x = ember.randn(256, 4)
    y = x @ ember.tensor(TRUE_W).T + ember.tensor(TRUE_B)
    model = nn.Linear(4, 1).share_memory()
    before = nn.functional.mse_loss(model(x), y).item()
    queue, lock = ctx.Queue(), ctx.Lock()
    workers = [ctx.Process(target=train, args=(r, model, x, y, 60, queue, lock)) for r in range(2)]
    for w in workers:
        w.start()
    counter = ember.zeros(3).share_memory_()
    for _ in workers:
        queue.put(counter)
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    after = nn.functional.mse_loss(model(x), y).item()
    assert after < before / 100, (before, after)
    assert ember.allclose(model.weight, ember.tensor(TRUE_W), atol=0.05), model.weight
    assert counter.tolist() == [2.0, 2.0, 2.0], counter
    print(f"hogwild ok {before:.3f} -> {after:.5f}", flush=True)

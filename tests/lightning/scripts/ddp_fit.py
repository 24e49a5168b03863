"""A LightningModule fitted with strategy="ddp" on 2 processes: started by mpiexec ("launched") or from one process
by the Trainer itself ("spawn"). Rank 0 (or the lone parent) saves the final weights and metrics under argv[1]."""
import json
import pathlib
import sys

import numpy as np

import ember
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset

OUT, MODE = pathlib.Path(sys.argv[1]), sys.argv[2]


def data(seed, n):
    rng = np.random.RandomState(seed)
    return rng.randn(n, 5), rng.randint(0, 3, n)


def initial_weights():
    rng = np.random.RandomState(7)
    return {"net.0.weight": rng.randn(8, 5) * 0.5, "net.0.bias": rng.randn(8) * 0.1,
            "net.2.weight": rng.randn(3, 8) * 0.5, "net.2.bias": rng.randn(3) * 0.1}


class Net(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        self.load_state_dict({k: ember.tensor(v) for k, v in initial_weights().items()})

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = nn.functional.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self.net(x), y), sync_dist=True)
        self.log("val_max", self.net(x).max(), reduce_fx="max", sync_dist=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", nn.functional.cross_entropy(self.net(x), y), sync_dist=True)

    def configure_optimizers(self):
        return ember.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


if __name__ == "__main__":
    train, val = (TensorDataset(*(ember.tensor(a) for a in data(seed, n))) for seed, n in ((0, 32), (1, 10)))
    model = Net()
    trainer = pl.Trainer(strategy="ddp" if MODE == "launched" else "ddp_spawn", devices=2, max_epochs=2,
                         accumulate_grad_batches=2, num_sanity_val_steps=0, enable_progress_bar=False,
                         enable_model_summary=False, logger=pl.loggers.CSVLogger(OUT), default_root_dir=OUT,
                         callbacks=[pl.callbacks.ModelCheckpoint(monitor="val_loss", save_top_k=1)])
    trainer.fit(model, DataLoader(train, batch_size=4), DataLoader(val, batch_size=4))
    fitted = {k: float(v) for k, v in trainer.callback_metrics.items()}
    tested = trainer.test(model, DataLoader(val, batch_size=4), verbose=False)
    if trainer.is_global_zero:
        np.savez(OUT / "weights.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
        (OUT / "result.json").write_text(json.dumps({
            "metrics": fitted,
            "global_step": trainer.global_step, "world_size": trainer.world_size,
            "best": trainer.checkpoint_callback.best_model_path, "test": tested}))
    print(f"rank {trainer.global_rank} of {trainer.world_size} ok")

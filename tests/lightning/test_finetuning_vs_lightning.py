"""BaseFinetuning and BackboneFinetuning against real Lightning 2.6: what is frozen, the param groups added at each
milestone and their learning rates, the metadata kept in checkpoints, and a resumed fit rebuilding the groups."""
import json

import numpy

from .lightning_oracle import run_lightning

PROGRAM = """
import json, warnings
warnings.simplefilter("ignore")


class Milestones(BaseFinetuning):
    def freeze_before_training(self, pl_module):
        self.freeze(pl_module.backbone, train_bn=False)

    def finetune_function(self, pl_module, epoch, optimizer):
        if epoch == 1:
            self.unfreeze_and_add_param_group(pl_module.backbone[-3:], optimizer, train_bn=False)
        elif epoch == 2:
            self.unfreeze_and_add_param_group(pl_module.backbone[:-3], optimizer, lr=0.05, train_bn=True)


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 6),
                                      nn.BatchNorm1d(6), nn.ReLU())
        self.head = nn.Linear(6, 1)

    def forward(self, x):
        return self.head(self.backbone(x))

    def training_step(self, batch, batch_idx):
        return self(batch[0]).pow(2).mean()

    def configure_optimizers(self):
        optimizer = torch.optim.SGD([p for p in self.parameters() if p.requires_grad], lr=0.1, momentum=0.9)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5)]


def groups(trainer):
    return [[len(g["params"]), g["lr"]] for g in trainer.optimizers[0].param_groups]


loader = DataLoader(TensorDataset(torch.randn(16, 4, generator=torch.Generator().manual_seed(0))), batch_size=4)
result = {}
for name, make in (("milestones", Milestones), ("backbone", lambda: BackboneFinetuning(1, verbose=False))):
    torch.manual_seed(0)
    model = Model()
    trainer = pl.Trainer(max_epochs=2, logger=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[make(), ModelCheckpoint(dirpath=name, save_last=True)])
    trainer.fit(model, loader)
    saved = torch.load(trainer.checkpoint_callback.last_model_path, weights_only=False)["callbacks"]
    meta = {k: v for k, v in saved.items() if "Finetuning" in k or "Milestones" in k}
    torch.manual_seed(0)
    resumed = Model()
    again = pl.Trainer(max_epochs=4, logger=False, enable_progress_bar=False, enable_model_summary=False,
                       callbacks=[make(), ModelCheckpoint(dirpath=name, save_last=True)])
    again.fit(resumed, loader, ckpt_path="last")
    result[name] = {"groups": groups(trainer), "meta": json.loads(json.dumps(meta, default=str)),
                    "trainable": [n for n, p in model.named_parameters() if p.requires_grad],
                    "tracking": [m.track_running_stats for m in model.modules() if isinstance(m, nn.BatchNorm1d)],
                    "resumed_groups": groups(again),
                    "weights": {k: v.tolist() for k, v in resumed.state_dict().items()}}
print(json.dumps(result))
"""

EMBER = """
import ember as torch
import ember.lightning as pl
from ember import nn
from ember.utils.data import DataLoader, TensorDataset
from ember.lightning.callbacks import BackboneFinetuning, ModelCheckpoint
from ember.lightning.callbacks.finetuning import BaseFinetuning
"""

TORCH = """
import torch
import pytorch_lightning as pl
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from pytorch_lightning.callbacks import BackboneFinetuning, ModelCheckpoint
from pytorch_lightning.callbacks.finetuning import BaseFinetuning
"""


def test_finetuning_callbacks_match_lightning_through_a_resume(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    theirs = run_lightning(TORCH + PROGRAM, tmp_path)
    for folder in ("milestones", "backbone"):
        for path in (tmp_path / folder).glob("*"):
            path.unlink()
    exec(compile(EMBER + PROGRAM, "program", "exec"), {})
    ours = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for name in ("milestones", "backbone"):
        for key in ("groups", "meta", "trainable", "tracking", "resumed_groups"):
            assert ours[name][key] == theirs[name][key], (name, key)
        for key, value in theirs[name]["weights"].items():
            numpy.testing.assert_allclose(ours[name]["weights"][key], value, rtol=1e-4, atol=1e-6, err_msg=key)

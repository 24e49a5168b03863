"""Lightning's ThroughputMonitor callback and Fabric's Throughput/measure_flops run by ember.lightning and by real
PyTorch Lightning 2.x: the metrics logged (names, steps, counts; rates and times differ, so they are masked), the
warning for a module without ``flops_per_batch``, Throughput's rates from given times, its errors, and the FLOPs."""
import json

import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import EMBER_IMPORTS, MODEL, TORCH_IMPORTS, make_data

EMBER_THROUGHPUT = EMBER_IMPORTS + """
from ember.lightning.callbacks import ThroughputMonitor
from ember.lightning.utilities import measure_flops
from ember.lightning.utilities.throughput import Throughput
"""

TORCH_THROUGHPUT = TORCH_IMPORTS + """
from pytorch_lightning.callbacks import ThroughputMonitor
from pytorch_lightning.utilities import measure_flops
from lightning_fabric.utilities.throughput import Throughput
"""

PROGRAM = MODEL + """
import csv, tempfile, warnings


class Counted(Model):
    def __init__(self):
        super().__init__()
        self.flops_per_batch = measure_flops(self.net, lambda: self.net(torch.randn(8, 4)), lambda y: y.sum())

    def predict_step(self, batch, batch_idx):
        return self(batch[0])


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as error:
        return [type(error).__name__, str(error)]
    return None


def counts_only(row):   # times and rates differ between runs: only their presence is compared
    return {key: value if key in ("step", "epoch") or key.endswith(("batches", "samples", "lengths")) else "rate"
            for key, value in row.items() if value != ""}


result = {}
folder = tempfile.mkdtemp()
monitor = ThroughputMonitor(batch_size_fn=lambda batch: batch[0].shape[0],
                            length_fn=lambda batch: 2 * batch[0].shape[0], window_size=3, separator="|")
trainer = pl.Trainer(max_epochs=2, callbacks=[monitor], logger=CSVLogger(folder), log_every_n_steps=2,
                     enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False,
                     accumulate_grad_batches=2, accelerator="cpu", devices=1)
model = Counted()
train, evaluation = DataLoader(TensorDataset(x, y), batch_size=8), DataLoader(TensorDataset(x, y), batch_size=16)
trainer.fit(model, train, evaluation)
trainer.validate(model, evaluation, verbose=False)
trainer.test(model, evaluation, verbose=False)
trainer.predict(model, evaluation)
with open(os.path.join(trainer.log_dir, "metrics.csv")) as file:
    result["rows"] = [counts_only(row) for row in csv.DictReader(file)]
result["logged"] = sorted(trainer.logged_metrics)
result["flops"] = model.flops_per_batch

with warnings.catch_warnings(record=True) as caught:   # no flops_per_batch: warned once
    warnings.simplefilter("always")
    pl.Trainer(max_epochs=1, callbacks=[ThroughputMonitor(batch_size_fn=len)], logger=False, limit_val_batches=0,
               enable_progress_bar=False, enable_checkpointing=False, enable_model_summary=False, accelerator="cpu",
               devices=1).fit(Model(), train)
result["warnings"] = [str(w.message) for w in caught if "ThroughputMonitor" in str(w.message)]

throughput = Throughput(available_flops=50, world_size=2, window_size=2)
computed = []
for step, (seconds, batches, samples, lengths, flops) in enumerate([(1.0, 1, 4, 8, 10), (1.5, 2, 8, 20, 10),
                                                                     (2.5, 3, 12, 30, 20)]):
    throughput.update(time=seconds, batches=batches, samples=samples, lengths=lengths, flops=flops)
    computed.append(throughput.compute())
result["computed"] = computed
result["errors"] = [error_of(throughput.update, time=2.0, batches=4, samples=16),
                    error_of(throughput.update, time=3.0, batches=5, samples=4),
                    error_of(throughput.update, time=3.0, batches=5, samples=20, lengths=10)]
throughput.reset()
throughput.update(time=1.0, batches=1, samples=1)
result["after_reset"] = throughput.compute()
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    make_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.timeout(900)
def test_throughput_monitor_and_throughput_match_lightning(workdir):
    namespace = {}
    exec(compile(EMBER_THROUGHPUT + PROGRAM, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH_THROUGHPUT + PROGRAM + "\nprint(json.dumps(result))", workdir)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == theirs[key], key

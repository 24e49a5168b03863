"""Lightning's profilers run by ember.lightning and by real PyTorch Lightning 2.x on the same programs: the actions
the SimpleProfiler records (names and counts), the report's layout and files, the AdvancedProfiler's sections and
dumps, the PyTorchProfiler's report and traces, and the errors. Times differ, so numbers are masked."""
import json
import re

import pytest

from .lightning_oracle import run_lightning
from .test_trainer_vs_lightning import EMBER_IMPORTS, MODEL, TORCH_IMPORTS, make_data

EMBER_PROFILERS = EMBER_IMPORTS + """
from ember.lightning.profilers import (AdvancedProfiler, PassThroughProfiler, Profiler, PyTorchProfiler,
                                       SimpleProfiler)
"""

TORCH_PROFILERS = TORCH_IMPORTS + """
from pytorch_lightning.profilers import (AdvancedProfiler, PassThroughProfiler, Profiler, PyTorchProfiler,
                                         SimpleProfiler)
"""

COMMON = MODEL + """
import logging, tempfile, warnings


def trainer(**kwargs):
    options = dict(enable_progress_bar=False, logger=False, num_sanity_val_steps=2, accelerator="cpu", devices=1,
                   max_epochs=1, limit_train_batches=3, limit_val_batches=2)
    options.update(kwargs)
    return pl.Trainer(**options)


def rows(profiler):
    return {action: len(durations) for action, durations in profiler.recorded_durations.items()}


def error_of(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except Exception as error:   # (a set in the message prints in hash order)
        return [type(error).__name__, str(error).split("{")[0]]
    return None


def read(path):
    with open(path) as file:
        return file.read()


def files(folder):
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, _, names in os.walk(folder) for name in names)


class Reports(logging.Handler):   # the reports the profilers log
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        if "Profiler Report" in record.getMessage():
            self.messages.append(record.getMessage())


reports = Reports()
logging.getLogger(pl.__name__).addHandler(reports)
"""

ACTIONS = COMMON + """
class Clipped(Model):   # records what configure_gradient_clipping gets (Lightning calls it every step)
    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        clip_calls.append([gradient_clip_val, gradient_clip_algorithm])
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def on_save_checkpoint(self, checkpoint):
        pass

    def predict_step(self, batch, batch_idx):
        return self(batch[0])


class Manual(Model):
    def __init__(self):
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers()
        x, y = batch
        loss = nn.functional.cross_entropy(self(x), y)
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        self.log("train_loss", loss)


class Data(pl.LightningDataModule):
    def prepare_data(self):
        pass

    def setup(self, stage):
        self.data = TensorDataset(x, y)

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=8)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=16)

    def test_dataloader(self):
        return DataLoader(self.data, batch_size=32)

    def predict_dataloader(self):
        return DataLoader(self.data, batch_size=32)


folder = tempfile.mkdtemp()
result, clip_calls = {}, []
torch.manual_seed(0)
profiler = SimpleProfiler()
run = trainer(profiler=profiler, max_epochs=2, default_root_dir=folder, enable_progress_bar=True,
              callbacks=[ModelCheckpoint(dirpath=folder, monitor="val_loss", save_last=True)])
model = Clipped()
run.fit(model, datamodule=Data())
result["fit"] = rows(profiler)
run.validate(model, datamodule=Data(), verbose=False)
result["validate"] = rows(profiler)
run.test(model, datamodule=Data(), verbose=False)
result["test"] = rows(profiler)
run.predict(model, datamodule=Data())
result["predict"] = rows(profiler)
result["clip_calls"] = clip_calls[:2]
clip_calls.clear()
trainer(gradient_clip_val=0.5, gradient_clip_algorithm="value", enable_checkpointing=False).fit(
    Clipped(), datamodule=Data())
result["clip_calls_set"] = clip_calls[:2]

# a fit resumed from the end-of-epoch checkpoint runs the sanity check again, as Lightning's
profiler = SimpleProfiler()
with warnings.catch_warnings(record=True) as caught:   # the checkpoint's ModelCheckpoint is not given again
    warnings.simplefilter("always")
    trainer(profiler=profiler, max_epochs=3, limit_val_batches=1, enable_checkpointing=False).fit(
        Clipped(), datamodule=Data(), ckpt_path=os.path.join(folder, "last.ckpt"))
result["resumed"] = rows(profiler)
result["resume_warnings"] = [str(w.message)[:80] for w in caught if "ckpt_path" in str(w.message)]

# manual optimization: each optimizer.step() is "optimizer_step", manual_backward is not profiled; the sanity check
# runs min(num_sanity_val_steps, limit_val_batches) batches, or all of them with -1
profiler = SimpleProfiler()
train = DataLoader(TensorDataset(x, y), batch_size=16)
validation = DataLoader(TensorDataset(x, y), batch_size=16)
trainer(profiler=profiler, limit_val_batches=1, enable_checkpointing=False).fit(Manual(), train, validation)
result["manual"] = rows(profiler)
profiler = SimpleProfiler()
trainer(profiler=profiler, num_sanity_val_steps=-1, limit_val_batches=1.0, enable_checkpointing=False).fit(
    Model(), train, validation)
result["all_sanity"] = rows(profiler)
"""


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    make_data(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def both(program, workdir):
    namespace = {}
    exec(compile(EMBER_PROFILERS + program, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH_PROFILERS + program + "\nprint(json.dumps(result))", workdir)
    return ours, theirs


@pytest.mark.timeout(900)
def test_simple_profiler_records_lightnings_actions(workdir):
    ours, theirs = both(ACTIONS, workdir)
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert ours[key] == theirs[key], key


def mask(text):
    """The report with its numbers as N, runs of spaces as one space (numbers' widths differ)."""
    return re.sub(r" +", " ", re.sub(r"\d+(\.\d+)?(e-?\d+)?", "N", text))


LAYOUT = COMMON + """
folder = tempfile.mkdtemp()
result = {}
torch.manual_seed(0)
model = Model()
profiler = SimpleProfiler(filename="perf")
run = trainer(profiler=profiler, default_root_dir=folder, enable_checkpointing=False)
run.fit(model, DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y), batch_size=32))
run.test(model, DataLoader(TensorDataset(x, y), batch_size=32), verbose=False)
result["files"] = files(folder)
reports_text = [read(os.path.join(folder, name)) for name in result["files"]]
# the rows come sorted by time: their order differs, their names do not
result["lines"] = [[line for line in text.splitlines() if not line.startswith("|  [") and
                    not line.startswith("|  run_")] for text in reports_text]
result["actions"] = [sorted(line.split("|")[1].strip() for line in text.splitlines() if line.startswith("|"))
                     for text in reports_text]
result["header"] = [text.splitlines()[3] for text in reports_text]
result["rule"] = [len(text.splitlines()[2]) for text in reports_text]
result["logged"] = len(reports.messages)

narrow = SimpleProfiler(extended=False)
trainer(profiler=narrow, enable_checkpointing=False, enable_model_summary=False).validate(
    model, DataLoader(TensorDataset(x, y), batch_size=32), verbose=False)
result["narrow"] = [line.split("|")[1].strip() for line in reports.messages[-1].splitlines()
                    if line.startswith("|")][:1]
result["narrow_header"] = reports.messages[-1].splitlines()[3]
result["empty"] = [SimpleProfiler().summary(), PassThroughProfiler().summary()]
bare = SimpleProfiler()
bare.start("a")
result["errors"] = [error_of(bare.start, "a"), error_of(bare.stop, "b"), error_of(pl.Trainer, profiler="fast"),
                    error_of(pl.Trainer, profiler="simple", barebones=True),
                    error_of(AdvancedProfiler().stop, "never"),
                    error_of(PyTorchProfiler, sort_by_key="speed"),
                    error_of(PyTorchProfiler, table_kwargs={"row_limit": 3}),
                    error_of(PyTorchProfiler, schedule=3)]
with bare.profile("b") as name:
    result["profile_yields"] = name
result["string_profilers"] = [type(pl.Trainer(profiler=name, logger=False).profiler).__name__
                              for name in ("simple", "Advanced", "pytorch")]
result["default"] = type(pl.Trainer(logger=False).profiler).__name__

advanced = AdvancedProfiler(dirpath=os.path.join(folder, "advanced"), filename="adv", dump_stats=True,
                            line_count_restriction=2)
trainer(profiler=advanced, enable_checkpointing=False, enable_model_summary=False, num_sanity_val_steps=0).fit(
    Model(), DataLoader(TensorDataset(x, y), batch_size=16))
result["advanced_files"] = files(os.path.join(folder, "advanced"))
text = read(os.path.join(folder, "advanced", "fit-adv.txt"))
result["advanced_sections"] = [line for line in text.splitlines() if line.startswith(("Profile stats for",
                                                                                       "FIT Profiler"))]
"""


@pytest.mark.timeout(900)
def test_profiler_reports_files_and_errors_match_lightning(workdir):
    ours, theirs = both(LAYOUT, workdir)
    for key in ("files", "actions", "rule", "logged", "narrow", "empty", "errors", "profile_yields",
                "string_profilers", "default", "advanced_files", "advanced_sections"):
        assert ours[key] == theirs[key], key
    assert [[mask(line) for line in report] for report in ours["lines"]] == [
        [mask(line) for line in report] for report in theirs["lines"]]
    assert [mask(line) for line in ours["header"]] == [mask(line) for line in theirs["header"]]
    assert mask(ours["narrow_header"]) == mask(theirs["narrow_header"])


PYTORCH = COMMON + """
import warnings
folder = tempfile.mkdtemp()
result = {}
torch.manual_seed(0)
profiler = PyTorchProfiler(filename="ops", row_limit=5)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    trainer(profiler=profiler, default_root_dir=folder, enable_checkpointing=False, enable_model_summary=False).fit(
        Model(), DataLoader(TensorDataset(x, y), batch_size=16), DataLoader(TensorDataset(x, y), batch_size=32))
result["warnings"] = sorted({str(w.message) for w in caught if "Profiler" in str(w.message)})
result["files"] = [re.sub(r"\\.\\d+\\.pt\\.trace", ".N.pt.trace", name) for name in files(folder)]
text = read(os.path.join(folder, "fit-ops.txt"))
result["head"] = text.splitlines()[:2]
result["has_epoch_row"] = any("[pl][profile]run_training_epoch" in line for line in text.splitlines())
trace = [name for name in files(folder) if name.endswith(".json")][0]
events = json.loads(read(os.path.join(folder, trace)))
events = events["traceEvents"] if isinstance(events, dict) else events
result["trace_modules"] = sorted({e["name"].replace("ember.nn.", "torch.nn.") for e in events
                                  if e.get("name", "").startswith("[pl][module]")})
"""


@pytest.mark.timeout(900)
def test_pytorch_profiler_report_and_traces_match_lightning(workdir):
    namespace = {}
    exec(compile(EMBER_PROFILERS + "import re\n" + PYTORCH, "program", "exec"), namespace)
    ours = json.loads(json.dumps(namespace["result"]))
    theirs = run_lightning(TORCH_PROFILERS + "import re\n" + PYTORCH + "\nprint(json.dumps(result))", workdir)
    assert ours == theirs

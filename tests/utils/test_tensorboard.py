"""SummaryWriter's event files, read back with TensorBoard's own EventAccumulator: every value is what was logged."""
import os
import re
import socket
import warnings

import numpy
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read(folder):
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0,
                                                                                 "histograms": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def test_scalars_histograms_images_and_text_round_trip(tmp_path):
    ember.manual_seed(0)
    values = ember.randn(1000)
    image_chw = ember.rand(3, 8, 6)
    image_hwc = (ember.rand(5, 4, 3) * 255).to(ember.uint8)
    with SummaryWriter(tmp_path) as writer:
        for step in range(5):
            writer.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
        writer.add_scalar("lr", 0.25, 7)
        writer.add_histogram("weights", values, 3)
        writer.add_image("chw", image_chw, 1)
        writer.add_image("hwc", image_hwc, 2, dataformats="HWC")
        writer.add_text("note", "hello **tensorboard**", 4)
    events = read(tmp_path)
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == list(range(5))
    assert [e.value for e in loss] == pytest.approx([1.0 / (s + 1) for s in range(5)])
    assert [(e.step, e.value) for e in events.Scalars("lr")] == [(7, 0.25)]
    histogram = events.Histograms("weights")[0]
    assert histogram.step == 3
    assert histogram.histogram_value.num == 1000
    assert histogram.histogram_value.min == pytest.approx(values.min().item())
    assert histogram.histogram_value.max == pytest.approx(values.max().item())
    assert histogram.histogram_value.sum == pytest.approx(values.sum().item(), rel=1e-5)
    chw, hwc = events.Images("chw")[0], events.Images("hwc")[0]
    assert (chw.step, chw.height, chw.width) == (1, 8, 6) and (hwc.step, hwc.height, hwc.width) == (2, 5, 4)
    from PIL import Image
    import io
    decoded = numpy.asarray(Image.open(io.BytesIO(hwc.encoded_image_string)))
    assert numpy.array_equal(decoded, image_hwc.numpy())
    decoded = numpy.asarray(Image.open(io.BytesIO(chw.encoded_image_string)))
    expected = (image_chw.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(numpy.uint8)
    assert numpy.abs(decoded.astype(int) - expected.astype(int)).max() <= 1
    text = events.Tensors("note/text_summary")[0]
    assert text.step == 4 and text.tensor_proto.string_val[0] == b"hello **tensorboard**"


def test_add_scalars_writes_one_run_per_tag(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("curves", {"train": step * 1.0, "val": ember.tensor(step * 2.0)}, step)
    runs = sorted(os.listdir(tmp_path))
    assert [r for r in runs if r.startswith("curves")] == ["curves_train", "curves_val"]
    assert [e.value for e in read(tmp_path / "curves_val").Scalars("curves")] == [0.0, 2.0, 4.0]


def test_default_log_dir_is_named_as_pytorch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    assert writer.log_dir.startswith("runs" + os.sep) and writer.log_dir.endswith("_lr0.1")
    assert os.path.isdir(writer.log_dir)


def test_lightning_tensorboard_logger_writes_the_trainers_metrics(tmp_path):
    import ember.lightning as pl
    from ember.lightning.loggers import TensorBoardLogger
    from ember.utils.data import DataLoader, TensorDataset

    class Model(pl.LightningModule):
        def __init__(self, lr=0.1):
            super().__init__()
            self.save_hyperparameters()
            self.layer = ember.nn.Linear(3, 1)

        def training_step(self, batch, batch_idx):
            loss = (self.layer(batch[0]) - batch[1]).pow(2).mean()
            self.log("loss", loss)
            self.logged = getattr(self, "logged", []) + [loss.item()]
            return loss

        def configure_optimizers(self):
            return ember.optim.SGD(self.parameters(), lr=self.hparams.lr)

    ember.manual_seed(0)
    data = TensorDataset(ember.randn(12, 3), ember.randn(12, 1))
    model = Model()
    logger = TensorBoardLogger(tmp_path)
    pl.Trainer(max_epochs=2, logger=logger, log_every_n_steps=1, enable_progress_bar=False,
               enable_model_summary=False, enable_checkpointing=False).fit(model, DataLoader(data, batch_size=4))
    assert logger.log_dir == str(tmp_path / "lightning_logs" / "version_0")
    events = read(logger.log_dir)
    assert [e.step for e in events.Scalars("loss")] == list(range(6))
    assert [e.value for e in events.Scalars("loss")] == pytest.approx(model.logged)
    assert (tmp_path / "lightning_logs" / "version_0" / "hparams.yaml").read_text().strip() == "lr: 0.1"


def test_add_graph_writes_the_traced_graph_with_pytorchs_scopes(tmp_path):
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard._pytorch_graph import graph as torch_graph

    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.seq = nn.Sequential(nn.ReLU(), nn.Linear(3, 2))

            def forward(self, x):
                return self.seq(self.fc(x)).softmax(-1)
        return Net()

    model = build(ember.nn)
    x = ember.randn(5, 4)
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, x)
    assert model.training   # traced in eval mode, then put back
    nodes = {node.name: node for node in read(tmp_path).Graph().node}
    for node in nodes.values():
        assert all(name in nodes for name in node.input), node.name
    assert nodes["input/x"].op == "IO Node"   # named after forward's parameter, as PyTorch names it
    output = nodes["output/output.1"]
    softmax = nodes[output.input[0]]
    assert softmax.op == "ember::Softmax" and [d.size for d in softmax.attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    linear = nodes[next(name for name in softmax.input if nodes[name].op == "ember::Linear")]
    assert linear.name.startswith("Net/Sequential[seq]/Linear[1]/")
    assert [nodes[name].op for name in linear.input] == ["ember::Relu", "prim::GetAttr", "prim::GetAttr"]
    weight = nodes[linear.input[1]]
    assert [d.size for d in weight.attr["_output_shapes"].list.shape[0].dim] == [2, 3]

    def scopes(names):
        return {name.rsplit("/", 1)[0] for name in names if not name.startswith(("input/", "output/"))}
    # the module scopes are PyTorch's for the same model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch.jit.trace's deprecation notice
        reference = torch_graph(build(torch.nn), (torch.randn(5, 4),))[0]
    assert scopes(nodes) == scopes(node.name for node in reference.node)


def test_event_files_are_named_as_pytorch_names_them(tmp_path):
    import re
    torch_tensorboard = pytest.importorskip("torch.utils.tensorboard")

    def names(writer_class, folder):
        with writer_class(folder / "a", filename_suffix=".x") as writer:
            writer.add_scalar("s", 1.0, 0)
            writer.add_scalars("main", {"one": 1.0, "two": 2.0}, 0)
        host = re.escape(socket.gethostname())
        shape = r"events\.out\.tfevents\.\d{10}\." + host + rf"\.{os.getpid()}\.\d+\.x$"
        found = sorted(os.path.relpath(os.path.join(root, name), folder) for root, _, files in os.walk(folder)
                       for name in files)
        assert all(re.match(shape, os.path.basename(name)) for name in found), found
        return [os.path.dirname(name) for name in found]

    assert names(SummaryWriter, tmp_path / "ember") == names(torch_tensorboard.SummaryWriter, tmp_path / "torch")


@pytest.mark.parametrize("hparam_dict, domains", [
    ({"lr": 0.1, "layers": 3, "act": "relu", "bn": True, "skip": None}, None),
    ({"lr": 0.1, "act": "relu", "n": 2}, {"act": ["relu", "tanh"], "n": [1, 2, 4]}),
    ({"scale": "tensor"}, None),
])
def test_hparams_summaries_are_pytorchs(hparam_dict, domains):
    torch_summary = pytest.importorskip("torch.utils.tensorboard.summary")
    import torch
    from ember.utils.tensorboard.summary import hparams
    def values(lib):
        return {k: lib.tensor([2.5, 1.0]) if v == "tensor" else v for k, v in hparam_dict.items()}
    theirs = torch_summary.hparams(values(torch), {"acc": 0.5, "loss": 1}, domains)
    ours = hparams(values(ember), {"acc": 0.5, "loss": 1}, domains)
    assert _plugin_data(ours) == _plugin_data(theirs)


def _plugin_data(summaries):
    """Each summary's tag, plugin name and hparams plugin data (parsed: the order of map entries is not fixed)."""
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    return [(value.tag, value.metadata.plugin_data.plugin_name,
             HParamsPluginData.FromString(value.metadata.plugin_data.content))
            for summary in summaries for value in summary.value]


def test_hparams_refuses_what_pytorch_refuses():
    torch_summary = pytest.importorskip("torch.utils.tensorboard.summary")
    from ember.utils.tensorboard.summary import hparams
    for args in [([1], {}), ({}, None), ({"a": 1}, {}, {"a": [1.5]}), ({"a": 1}, {}, {"b": [1]}), ({"a": [1]}, {}),
                 ({"a": 1}, {}, [1])]:
        with pytest.raises(Exception) as theirs:
            torch_summary.hparams(*args)
        with pytest.raises(type(theirs.value), match=f"^{re.escape(str(theirs.value))}$"):
            hparams(*args)


def test_add_hparams_and_file_writer_summaries(tmp_path):
    from ember.utils.tensorboard.summary import hparams
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.01, "opt": "adam"}, {"hparam/acc": 0.75}, {"opt": ["adam", "sgd"]},
                           run_name="trial", global_step=3)
        for summary in hparams({"gamma": 0.99}, {"reward": 1.0}):   # as stable-baselines3's logger writes them
            writer.file_writer.add_summary(summary)
        assert writer.file_writer.get_logdir() == str(tmp_path)
    assert writer.file_writer is None
    run = read(tmp_path / "trial")
    assert [(e.step, e.value) for e in run.Scalars("hparam/acc")] == [(3, 0.75)]
    assert set(read(tmp_path).PluginTagToContent("hparams")) == {
        "_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info"}
    with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary."):
        writer.add_hparams([], {})


def test_summary_writer_imports_from_the_writer_module_as_in_pytorch(tmp_path):
    torch_writer = pytest.importorskip("torch.utils.tensorboard.writer")
    import torch.utils.tensorboard as torch_tensorboard
    from ember.utils.tensorboard import writer
    assert torch_writer.SummaryWriter is torch_tensorboard.SummaryWriter and writer.SummaryWriter is SummaryWriter
    with writer.SummaryWriter(tmp_path) as summary:
        summary.add_scalar("loss", 0.5, 1)
    assert [(event.step, event.value) for event in read(tmp_path).Scalars("loss")] == [(1, 0.5)]

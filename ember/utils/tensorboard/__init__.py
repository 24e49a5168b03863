"""``SummaryWriter`` with PyTorch's API, writing standard TensorBoard event files through tensorboardX's writer (an
optional extra: ``pip install ember[tensorboard]``). ember tensors are handed over as NumPy arrays."""
import itertools
import os
import socket
import time
from datetime import datetime

import ember

__all__ = ["SummaryWriter"]


def _plain(value):
    """Tensors (also inside lists, tuples and dicts) as NumPy arrays; everything else unchanged."""
    if isinstance(value, ember.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _writer_class():
    try:
        from tensorboardX import SummaryWriter as writer
    except ImportError as error:
        raise ImportError("ember.utils.tensorboard writes event files with tensorboardX; install it with "
                          "`pip install tensorboardX` (or ember[tensorboard])") from error
    return writer


_file_ids = itertools.count()


def _event_file_suffix(filename_suffix=""):
    """What tensorboardX's ``events.out.tfevents.<time>.<host>`` needs after it to be PyTorch's event file name:
    ``.<pid>.<n>`` (n counts the event files this process opened) and the user's suffix."""
    return f".{os.getpid()}.{next(_file_ids)}{filename_suffix}"


class SummaryWriter:
    """Writes scalars, histograms, images, figures, text, hyperparameters and embeddings for TensorBoard under
    ``log_dir`` (default ``runs/<date>_<host><comment>``, as PyTorch names it)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = os.fspath(log_dir)
        self._writer = _writer_class()(logdir=self.log_dir, purge_step=purge_step, max_queue=max_queue,
                                       flush_secs=flush_secs, filename_suffix=_event_file_suffix(filename_suffix))
        self._runs, self._max_queue, self._flush_secs = {}, max_queue, flush_secs   # add_scalars' runs
        self.filename_suffix = filename_suffix

    def get_logdir(self):
        """The folder the event files go to."""
        return self.log_dir

    def _get_file_writer(self):
        return self._writer._get_file_writer()

    @property
    def file_writer(self):
        """The writer of this run's event file: ``add_summary(summary, global_step)`` writes a Summary protocol
        buffer (``torch.utils.tensorboard.summary``'s) as it is; None once the writer is closed."""
        return self._writer.file_writer

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """One scalar under ``tag`` at ``global_step``."""
        value = scalar_value.item() if isinstance(scalar_value, ember.Tensor) else scalar_value
        self._writer.add_scalar(tag, value, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several scalars that share a chart; each goes to its own ``log_dir/main_tag_tag`` run."""
        for tag, value in tag_scalar_dict.items():
            run = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            if run not in self._runs:
                self._runs[run] = _writer_class()(logdir=run, max_queue=self._max_queue, flush_secs=self._flush_secs,
                                                  filename_suffix=_event_file_suffix(self.filename_suffix))
            value = value.item() if isinstance(value, ember.Tensor) else value
            self._runs[run].add_scalar(main_tag, value, global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """A histogram of ``values``."""
        self._writer.add_histogram(tag, _plain(values), global_step, bins, walltime, max_bins)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image (floats in [0, 1] or uint8) laid out as ``dataformats`` (CHW, HWC, HW)."""
        self._writer.add_image(tag, _plain(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """A batch of images, shown as a grid."""
        self._writer.add_images(tag, _plain(img_tensor), global_step, walltime, dataformats=dataformats)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them), rendered to an image."""
        self._writer.add_figure(tag, figure, global_step, close, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A piece of (markdown) text."""
        self._writer.add_text(tag, text_string, global_step, walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """A run's hyperparameters and final metrics, for TensorBoard's HParams tab, in the run ``log_dir/run_name``
        (the time by default), as PyTorch writes them."""
        from .summary import hparams
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        summaries = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        with SummaryWriter(log_dir=os.path.join(self.log_dir, run_name or str(time.time()))) as run:
            for summary in summaries:
                run.file_writer.add_summary(summary, global_step)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Points for the projector: ``mat`` (N x D) with optional labels and thumbnails."""
        self._writer.add_embedding(_plain(mat), metadata, _plain(label_img), global_step, tag, metadata_header)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        """A precision-recall curve of ``predictions`` against binary ``labels``."""
        self._writer.add_pr_curve(tag, _plain(labels), _plain(predictions), global_step, num_thresholds,
                                  _plain(weights), walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's graph (traced by ember.jit.trace on ``input_to_model``) for TensorBoard's Graphs tab."""
        from tensorboardX.proto.event_pb2 import Event

        from ._graph import graph_def
        graph = graph_def(model, input_to_model, strict=use_strict_trace)
        if verbose:
            print(graph)
        self._writer._get_file_writer().add_event(Event(graph_def=graph.SerializeToString()))

    def flush(self):
        """Writes pending events to disk."""
        for writer in (self._writer, *self._runs.values()):
            writer.flush()

    def close(self):
        """Flushes and closes the event files."""
        for writer in (self._writer, *self._runs.values()):
            writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

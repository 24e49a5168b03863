"""The model summary table Lightning prints when fitting starts: each submodule's type, parameter count, mode and
FLOPs (and its input and output sizes when the module has an ``example_input_array``), with the totals below."""
import contextlib
import math
from collections import OrderedDict

PARAMETER_NUM_UNITS = [" ", "K", "M", "B", "T"]
UNKNOWN_SIZE = "?"
LEFTOVER_PARAMS_NAME = "other params"
NOT_APPLICABLE = "n/a"
_PRECISION_BITS = {"64": 64, "32": 32, "16": 16, "bf16": 16, "16-true": 16, "bf16-true": 16, "32-true": 32,
                   "64-true": 64}


class LayerSummary:
    """One submodule's row: its type, parameter count, mode, and (after a forward pass) its input and output
    sizes, recorded by a forward hook that removes itself after the first call."""

    def __init__(self, module):
        self._module = module
        self._in_size = self._out_size = None
        self._hook_handle = module.register_forward_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs, out):
        inp = (*args, *kwargs.values()) if kwargs is not None else args
        if len(inp) == 1:
            inp = inp[0]
        self._in_size, self._out_size = parse_batch_shape(inp), parse_batch_shape(out)
        self._hook_handle.remove()

    def __del__(self):
        self.detach_hook()

    def detach_hook(self):
        """Removes the forward hook if the forward pass did not."""
        if getattr(self, "_hook_handle", None) is not None:
            self._hook_handle.remove()

    @property
    def in_size(self):
        return self._in_size or UNKNOWN_SIZE

    @property
    def out_size(self):
        return self._out_size or UNKNOWN_SIZE

    @property
    def layer_type(self):
        """The module's class name."""
        return str(self._module.__class__.__name__)

    @property
    def num_parameters(self):
        """How many parameters the module holds."""
        return sum(p.numel() for p in self._module.parameters())

    @property
    def training(self):
        """Whether the module is in training mode."""
        return self._module.training


class ModelSummary:
    """The summary of a LightningModule down to ``max_depth`` (-1: every module, 0: none); ``str()`` is the
    table."""

    def __init__(self, model, max_depth=1):
        from ember.utils.flop_counter import FlopCounterMode
        self._model = model
        if not isinstance(max_depth, int) or max_depth < -1:
            raise ValueError(f"`max_depth` can be -1, 0 or > 0, got {max_depth}.")
        self._flop_counter = FlopCounterMode(display=False, depth=max_depth + 1)
        self._max_depth = max_depth
        self._layer_summary = self.summarize()
        trainer = getattr(model, "_trainer", None)
        precision = getattr(trainer, "precision", None) if trainer is not None else None
        if trainer is not None and precision not in _PRECISION_BITS:
            from .rank_zero import rank_zero_warn
            rank_zero_warn(f"Precision {precision} is not supported by the model summary.  Estimated model size in "
                           "MB will not be accurate. Using 32 bits instead.", category=UserWarning)
        self._precision_megabytes = (_PRECISION_BITS.get(precision, 32) / 8.0) * 1e-6

    @property
    def named_modules(self):
        if self._max_depth == 0:
            return []
        if self._max_depth == 1:
            return list(self._model.named_children())
        return list(self._model.named_modules())[1:]

    @property
    def layer_names(self):
        return list(self._layer_summary.keys())

    @property
    def layer_types(self):
        return [layer.layer_type for layer in self._layer_summary.values()]

    @property
    def in_sizes(self):
        return [layer.in_size for layer in self._layer_summary.values()]

    @property
    def out_sizes(self):
        return [layer.out_size for layer in self._layer_summary.values()]

    @property
    def param_nums(self):
        return [layer.num_parameters for layer in self._layer_summary.values()]

    @property
    def training_modes(self):
        return [layer.training for layer in self._layer_summary.values()]

    @property
    def total_training_modes(self):
        """How many modules (the root excluded) are in training and in eval mode."""
        modes = [module.training for module in self._model.modules()][1:]
        return {"train": modes.count(True), "eval": modes.count(False)}

    @property
    def total_parameters(self):
        return sum(p.numel() for p in self._model.parameters())

    @property
    def trainable_parameters(self):
        return sum(p.numel() for p in self._model.parameters() if p.requires_grad)

    @property
    def total_layer_params(self):
        return sum(self.param_nums)

    @property
    def model_size(self):
        """The parameters' size in MB at the trainer's precision."""
        return self.total_parameters * self._precision_megabytes

    @property
    def total_flops(self):
        return self._flop_counter.get_total_flops()

    @property
    def flop_counts(self):
        counts = self._flop_counter.get_flop_counts()
        return {name: counts.get(f"{type(self._model).__name__}.{name}", {}) for name in self.layer_names}

    def summarize(self):
        """One LayerSummary per shown module, after running ``example_input_array`` through the model if set."""
        summary = OrderedDict((name, LayerSummary(module)) for name, module in self.named_modules)
        if getattr(self._model, "example_input_array", None) is not None:
            self._forward_example_input()
        for layer in summary.values():
            layer.detach_hook()
        if self._max_depth >= 1:
            for key in [key for key in summary if key.count(".") >= self._max_depth]:
                del summary[key]
        return summary

    def _forward_example_input(self):
        import ember
        model = self._model
        input_ = model.example_input_array
        modes = {module: module.training for module in model.modules()}
        model.eval()
        trainer = getattr(model, "_trainer", None)
        autocast = trainer._autocast() if trainer is not None else contextlib.nullcontext()
        with ember.no_grad(), autocast, self._flop_counter:
            if isinstance(input_, (list, tuple)):
                model(*input_)
            elif isinstance(input_, dict):
                model(**input_)
            else:
                model(input_)
        for module, training in modes.items():
            module.training = training

    def _get_summary_data(self):
        """The table's columns as (header, cells) pairs."""
        arrays = [(" ", [str(i) for i in range(len(self._layer_summary))]),
                  ("Name", self.layer_names),
                  ("Type", self.layer_types),
                  ("Params", [get_human_readable_count(n) for n in self.param_nums]),
                  ("Mode", ["train" if mode else "eval" for mode in self.training_modes]),
                  ("FLOPs", [get_human_readable_count(sum(x.values())) for x in self.flop_counts.values()])]
        if getattr(self._model, "example_input_array", None) is not None:
            arrays.append(("In sizes", [str(x) for x in self.in_sizes]))
            arrays.append(("Out sizes", [str(x) for x in self.out_sizes]))
        leftover = self.total_parameters - self.total_layer_params
        if leftover > 0:
            columns = dict(arrays)
            columns[" "].append(" ")
            columns["Name"].append(LEFTOVER_PARAMS_NAME)
            columns["Params"].append(get_human_readable_count(leftover))
            for key in ("Type", "Mode", "FLOPs", "In sizes", "Out sizes"):
                if key in columns:
                    columns[key].append(NOT_APPLICABLE)
        return arrays

    def __str__(self):
        return _format_summary_table(self.total_parameters, self.trainable_parameters, self.model_size,
                                     self.total_training_modes, self.total_flops, *self._get_summary_data())

    def __repr__(self):
        return str(self)


def parse_batch_shape(batch):
    """A tensor's shape as a list, nested for lists and tuples; "?" for anything else."""
    if hasattr(batch, "shape"):
        return list(batch.shape)
    if isinstance(batch, (list, tuple)):
        return [parse_batch_shape(el) for el in batch]
    return UNKNOWN_SIZE


def _format_summary_table(total_parameters, trainable_parameters, model_size, total_training_modes, total_flops,
                          *cols):
    """The columns ``cols`` ((header, cells) pairs) as a table, then the totals, in Lightning's layout."""
    n_rows = len(cols[0][1])
    widths = [max(max((len(str(a)) for a in c[1]), default=0) if n_rows else 0, len(c[0])) for c in cols]
    cell = "{:<{}}"
    total_width = sum(widths) + 3 * (1 + len(cols))
    summary = " | ".join(cell.format(c[0], w) for c, w in zip(cols, widths)) + "\n" + "-" * total_width
    for i in range(n_rows):
        summary += "\n" + " | ".join(cell.format(str(c[1][i]), w) for c, w in zip(cols, widths))
    summary += "\n" + "-" * total_width
    for value, label in ((get_human_readable_count(trainable_parameters), "Trainable params"),
                         (get_human_readable_count(total_parameters - trainable_parameters), "Non-trainable params"),
                         (get_human_readable_count(total_parameters), "Total params"),
                         (get_formatted_model_size(model_size), "Total estimated model params size (MB)"),
                         (total_training_modes["train"], "Modules in train mode"),
                         (total_training_modes["eval"], "Modules in eval mode"),
                         (get_human_readable_count(total_flops), "Total Flops")):
        summary += "\n" + cell.format(value, 10) + label
    return summary


def get_formatted_model_size(total_model_size):
    """The model size in MB with three decimals."""
    return f"{total_model_size:,.3f}"


def get_human_readable_count(number):
    """``number`` abbreviated with K, M, B, T (``1234`` -> ``'1.2 K'``, ``123`` -> ``'123  '``)."""
    assert number >= 0
    labels = PARAMETER_NUM_UNITS
    num_digits = int(math.floor(math.log10(number)) + 1 if number > 0 else 1)
    num_groups = min(int(math.ceil(num_digits / 3)), len(labels))
    number = number * (10 ** (-3 * (num_groups - 1)))
    index = num_groups - 1
    if index < 1 or number >= 100:
        return f"{int(number):,d} {labels[index]}"
    return f"{number:,.1f} {labels[index]}"


def summarize(lightning_module, max_depth=1):
    """The ModelSummary of ``lightning_module`` to ``max_depth``."""
    return ModelSummary(lightning_module, max_depth=max_depth)

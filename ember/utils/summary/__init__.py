"""Model summaries: ``summary(model, input_size=...)`` prints torchinfo's table (layer tree with depth-indexes,
shapes, parameter counts, mult-adds, memory estimates) and returns the totals; ``torchsummary.summary`` prints
torchsummary's. Both run one forward pass with hooks on every submodule."""
import math

import ember

from ._layers import Layer, collect_layers  # noqa: F401 (Layer: the records in summary_list)

__all__ = ["ModelStatistics", "summary"]

_TITLES = {"kernel_size": "Kernel Shape", "input_size": "Input Shape", "output_size": "Output Shape",
           "num_params": "Param #", "params_percent": "Param %", "mult_adds": "Mult-Adds", "trainable": "Trainable"}


class ModelStatistics:
    """What ``summary`` found: the layers, total and trainable parameters, mult-adds and memory; prints as the
    table."""

    def __init__(self, layers, input_size, input_bytes, depth, col_names, col_width, row_settings):
        self.summary_list, self.input_size, self.total_input = layers, input_size, input_bytes
        self.depth, self.col_names, self.col_width = depth, col_names, col_width
        self.show_depth, self.show_var_name = "depth" in row_settings, "var_names" in row_settings
        self.ascii_only = "ascii_only" in row_settings
        self.total_params = self.trainable_params = self.total_mult_adds = 0
        self.total_param_bytes = self.total_output_bytes = 0
        for layer in layers:
            if layer.is_leaf:
                self.total_mult_adds += layer.macs
                if layer.num_params > 0:
                    self.total_output_bytes += layer.output_bytes * 2   # x2 for gradients
                if layer.is_recursive:
                    continue
                self.total_params += max(layer.num_params, 0)
                self.total_param_bytes += layer.param_bytes
                self.trainable_params += max(layer.trainable_params, 0)
            elif not layer.is_recursive:
                self.total_params += max(layer.leftover("num_params"), 0)
                self.trainable_params += max(layer.leftover("trainable_params"), 0)
        self.name_width = 40
        longest = max((len(self._name(layer)) + layer.depth * 5 + 1 for layer in layers), default=0)
        if longest >= self.name_width:
            self.name_width = math.ceil(longest / 5) * 5

    def _name(self, layer):
        name = layer.class_name
        if self.show_var_name and layer.var_name:
            name += f" ({layer.var_name})"
        if self.show_depth and layer.depth > 0:
            name += f": {layer.depth}" + (f"-{layer.depth_index}" if layer.depth_index is not None else "")
        return name

    def _prefix(self, depth):
        if depth == 0:
            return ""
        if depth == 1:
            return "+ " if self.ascii_only else "├─"
        return ("|    " if self.ascii_only else "│    ") * (depth - 1) + ("+ " if self.ascii_only else "└─")

    def _row(self, name, values):
        line = f"{name:<{self.name_width}} " + "".join(f"{values.get(c, ''):<{self.col_width}} "
                                                       for c in self.col_names)
        return line.rstrip() + "\n"

    def _layer_row(self, layer):
        at_max = layer.depth == self.depth
        text = lambda value: str(value) if value else "--"  # noqa: E731
        values = {"kernel_size": text(layer.kernel_size), "input_size": text(layer.input_size),
                  "output_size": text(layer.output_size), "num_params": layer.params_text(at_max),
                  "params_percent": layer.percent_text(self.total_params, at_max),
                  "mult_adds": layer.macs_text(at_max), "trainable": text(layer.trainable)}
        return self._row(self._prefix(layer.depth) + self._name(layer), values)

    @staticmethod
    def _count(number, auto_units):
        if auto_units:
            units, number = ("T", number / 1e12) if number >= 1e12 else (
                ("G", number / 1e9) if number >= 1e9 else ("M", number / 1e6))
        else:
            units = None
        if float(number).is_integer():
            number = int(number)
        shown = f"{number:,d}" if isinstance(number, int) else f"{number:,.2f}"
        return (f" ({units})" if units else "") + f": {shown}"

    def __repr__(self):
        divider = "=" * (len(self.col_names) * self.col_width + self.name_width)
        header = "Layer (type" + (" (var_name)" if self.show_var_name else "") + (
            ":depth-idx" if self.show_depth else "") + ")"
        rows = "".join(self._layer_row(layer) for layer in self.summary_list if layer.depth <= self.depth)
        text = (f"{divider}\n{self._row(header, _TITLES)}{divider}\n{rows}{divider}\n"
                f"Total params{self._count(self.total_params, False)}\n"
                f"Trainable params{self._count(self.trainable_params, False)}\n"
                f"Non-trainable params{self._count(self.total_params - self.trainable_params, False)}\n")
        if self.input_size:
            total = self.total_input + self.total_output_bytes + self.total_param_bytes
            text += (f"Total mult-adds{self._count(self.total_mult_adds, True)}\n{divider}\n"
                     f"Input size (MB): {self.total_input / 1e6:0.2f}\n"
                     f"Forward/backward pass size (MB): {self.total_output_bytes / 1e6:0.2f}\n"
                     f"Params size (MB): {self.total_param_bytes / 1e6:0.2f}\n"
                     f"Estimated Total Size (MB): {total / 1e6:0.2f}\n")
        return text + divider

    __str__ = __repr__


def _input_sizes(input_size):
    if not isinstance(input_size, (list, tuple)):
        raise TypeError("Input_size is not a recognized type. Please ensure input_size is valid.\nFor multiple inputs "
                        "to the network, ensure input_size is a list of tuple sizes.")
    flat = list(_flatten(input_size))
    if not flat or any(size <= 0 for size in flat):
        raise ValueError("Input_data is invalid, or negative size found in input_data.")
    if isinstance(input_size, list) and isinstance(input_size[0], int):
        return [tuple(input_size)]
    if isinstance(input_size, list):
        return input_size
    if isinstance(input_size, tuple) and isinstance(input_size[0], (tuple, list)):
        return list(input_size)
    return [input_size]


def _flatten(nested):
    for item in nested:
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def summary(model, input_size=None, input_data=None, batch_dim=None, cache_forward_pass=None, col_names=None,
            col_width=25, depth=3, device=None, dtypes=None, mode=None, row_settings=None, verbose=None, **kwargs):
    """torchinfo's summary: runs ``model`` once on ``input_data`` (or random inputs of ``input_size``, batch
    included) and prints the layer table to ``depth``; returns the ModelStatistics."""
    given = input_data is not None or input_size is not None
    col_names = tuple(col_names) if col_names is not None else (("output_size", "num_params") if given
                                                               else ("num_params",))
    unknown = [c for c in col_names if c not in _TITLES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a valid ColumnSettings")
    row_settings = set(row_settings) if row_settings is not None else {"depth"}
    verbose = 1 if verbose is None else verbose
    inputs, sizes = None, []
    if input_data is not None:
        inputs = [input_data] if isinstance(input_data, ember.Tensor) else input_data
        sizes = [list(t.shape) for t in inputs if isinstance(t, ember.Tensor)]
    if input_size is not None:
        sizes = _input_sizes(input_size)
        dtypes = dtypes or [ember.float32] * len(sizes)
        inputs = [ember.rand(*size).to(dtype) for size, dtype in zip(sizes, dtypes)]
        if batch_dim is not None:
            inputs = [x.unsqueeze(batch_dim) for x in inputs]
    layers = collect_layers(model, inputs, batch_dim, mode or "eval", kwargs)
    input_bytes = sum(x.numel() * x.element_size() for x in (inputs or []) if isinstance(x, ember.Tensor))
    statistics = ModelStatistics(layers, sizes, input_bytes, depth, col_names, col_width, row_settings)
    if verbose > 0:
        print(statistics)
    return statistics


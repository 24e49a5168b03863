"""ModelSummary: prints the model's submodules and parameter counts when fitting starts."""
from .callback import Callback


def summarize(model, max_depth=1):
    """The summary table (as text) of ``model``'s submodules down to ``max_depth``, with parameter totals."""
    rows = [(name, type(module).__name__, sum(p.numel() for p in module.parameters()),
             "train" if module.training else "eval")
            for name, module in model.named_modules() if name and name.count(".") < max_depth]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    header = ("", "Name", "Type", "Params", "Mode")
    table = [header] + [(str(i), name, kind, _human(count), mode) for i, (name, kind, count, mode) in enumerate(rows)]
    widths = [max(len(row[c]) for row in table) for c in range(len(header))]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in table]
    rule = "-" * max(len(line) for line in lines)
    size_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 1e6
    return "\n".join([lines[0], rule, *lines[1:], rule, f"{_human(trainable):<10}Trainable params",
                      f"{_human(total - trainable):<10}Non-trainable params", f"{_human(total):<10}Total params",
                      f"{size_mb:<10.3f}Total estimated model params size (MB)"])


def _human(count):
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return str(count)


class ModelSummary(Callback):
    """Prints ``summarize(model, max_depth)`` at the start of fit."""

    def __init__(self, max_depth=1):
        self.max_depth = max_depth

    def on_fit_start(self, trainer, pl_module):
        if self.max_depth and trainer.is_global_zero:
            print(summarize(pl_module, self.max_depth))

"""RichModelSummary: the model summary as a table drawn by ``rich`` (an optional dependency, imported when used)."""
import importlib.util

from .model_summary import ModelSummary


class RichModelSummary(ModelSummary):
    """Prints the summary of the LightningModule's layers (down to ``max_depth``) as a ``rich`` table, with the totals
    in a grid below it; ``header_style`` (a summarize keyword) styles the header. Needs ``rich``."""

    def __init__(self, max_depth=1, **summarize_kwargs):
        if importlib.util.find_spec("rich") is None:
            raise ModuleNotFoundError(
                "`RichModelSummary` requires `rich` to be installed. Install it by running `pip install -U rich`.")
        super().__init__(max_depth, **summarize_kwargs)

    @staticmethod
    def summarize(summary_data, total_parameters, trainable_parameters, model_size, total_training_modes, total_flops,
                  **summarize_kwargs):
        from rich import get_console
        from rich.table import Table

        from ..utilities.model_summary import get_formatted_model_size, get_human_readable_count
        console = get_console()
        column_names = list(zip(*summary_data))[0]
        table = Table(header_style=summarize_kwargs.get("header_style", "bold magenta"))
        table.add_column(" ", style="dim")
        table.add_column("Name", justify="left", no_wrap=True)
        table.add_column("Type")
        table.add_column("Params", justify="right")
        if "Params per Device" in column_names:
            table.add_column("Params per Device", justify="right")
        table.add_column("Mode")
        table.add_column("FLOPs", justify="right")
        for name in ("In sizes", "Out sizes"):
            if name in column_names:
                table.add_column(name, justify="right", style="white")
        for row in zip(*(cells for _, cells in summary_data)):
            table.add_row(*row)
        console.print(table)
        counts = [f"{get_human_readable_count(int(n)):<10}" for n in
                  (trainable_parameters, total_parameters - trainable_parameters, total_parameters)]
        grid = Table.grid(expand=True)
        grid.add_column()
        grid.add_column()
        grid.add_row(f"[bold]Trainable params[/]: {counts[0]}")
        grid.add_row(f"[bold]Non-trainable params[/]: {counts[1]}")
        grid.add_row(f"[bold]Total params[/]: {counts[2]}")
        grid.add_row(f"[bold]Total estimated model params size (MB)[/]: {get_formatted_model_size(model_size):<10}")
        grid.add_row(f"[bold]Modules in train mode[/]: {total_training_modes['train']}")
        grid.add_row(f"[bold]Modules in eval mode[/]: {total_training_modes['eval']}")
        grid.add_row(f"[bold]Total FLOPs[/]: {get_human_readable_count(total_flops)}")
        console.print(grid)

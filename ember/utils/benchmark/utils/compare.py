"""``Compare``: many Measurements printed as tables, one per label, in PyTorch's layout: a row per sub_label (else
statement) and env, grouped under a ``N threads:`` line per thread count, and a column per description; cells are
medians in one unit per table."""
import collections
import enum
import math

from . import common

__all__ = ["Colorize", "Compare"]

BEST = "\033[92m"
GOOD = "\033[34m"
BAD = "\033[2m\033[91m"
VERY_BAD = "\033[31m"
BOLD = "\033[1m"
TERMINATE = "\033[0m"

_UNSPECIFIED_ENV = "Unspecified env"
_VARIANCE_NOTE = "(! XX%) Measurement has high variance, where XX is the IQR / median * 100."


class Colorize(enum.Enum):
    """How ``Compare`` colours cells: not at all, against the best median of each column within a thread group, or
    against the best median of each row."""
    NONE = "none"
    COLUMNWISE = "columnwise"
    ROWWISE = "rowwise"


def _env(m):
    # PyTorch's Measurement.env is None when no env was given, and its tables then fail to sort or measure a mix of
    # None and named envs; ember shows such rows as "Unspecified env".
    return _UNSPECIFIED_ENV if m.env is None else m.env


def _paint(segment, value, best):
    """A cell wrapped in ANSI colours by how far its median is from the best one."""
    if value <= best * 1.01 or value <= best + 100e-9:
        return BEST + BOLD + segment + TERMINATE * 2
    if value <= best * 1.1:
        return GOOD + BOLD + segment + TERMINATE * 2
    if value >= best * 5:
        return VERY_BAD + BOLD + segment + TERMINATE * 2
    if value >= best * 2:
        return BAD + segment + TERMINATE * 2
    return segment


class _ColumnFormat:
    """The number format of one table column: enough integer digits for its largest median and, when trimming, as
    many decimals as its least certain entry supports; with warnings highlighted, room for `` (! NN%)``."""

    def __init__(self, entries, scale, trim, highlight):
        present = [m for m in entries if m is not None]
        self.trim = trim
        self.highlight = highlight and any(m.has_warnings for m in present)
        leading = [math.ceil(common._log10_single(m.median / scale)) for m in present]
        decimals = min(max(m.significant_figures - digits, 0) for m, digits in zip(present, leading)) if trim else 1
        width = max(leading) + decimals + (1 if decimals else 0)
        self.template = f"{{:>{width}.{decimals}f}}{{:>{7 if self.highlight else 0}}}"

    def cell(self, value, figures, spread):
        """One formatted median (blank of the same width for a missing entry)."""
        if value is None:
            return " " * len(self.cell(1, figures, None))
        if self.trim:
            value = common.trim_sigfig(value, figures)
        note = f" (! {spread * 100:.0f}%)" if self.highlight and spread is not None else ""
        return self.template.format(value, note)


class _Table:
    """One label's measurements laid out and rendered."""

    def __init__(self, results, colorize, trim, highlight):
        self.results = results
        self.colorize = colorize
        self.highlight = highlight
        self.label = results[0].label
        self.unit, self.scale = common.select_unit(min(m.median for m in results))

        row_keys = common.ordered_unique((m.num_threads, _env(m), m.as_row_name) for m in results)
        row_keys.sort(key=lambda key: key[:2])
        self.row_keys = row_keys
        self.column_keys = common.ordered_unique(m.description for m in results)
        rows = {key: i for i, key in enumerate(row_keys)}
        columns = {key: j for j, key in enumerate(self.column_keys)}
        self.grid = [[None] * len(self.column_keys) for _ in row_keys]
        for m in results:
            self.grid[rows[(m.num_threads, _env(m), m.as_row_name)]][columns[m.description]] = m

        # Rows are grouped by thread count; COLUMNWISE colours compare within a group.
        self.groups = []
        previous = None
        for i, (threads, _, _) in enumerate(row_keys):
            if threads != previous:
                self.groups.append([])
                previous = threads
            self.groups[-1].append(i)
        self.group_of = {i: g for g, members in enumerate(self.groups) for i in members}
        self.formats = [_ColumnFormat([self.grid[i][j] for i in range(len(row_keys))], self.scale, trim, highlight)
                        for j in range(len(self.column_keys))]

    def _row_cells(self, i, show_env, env_width):
        row = self.grid[i]
        name = next(m for m in row if m is not None).as_row_name
        env = f"({self.row_keys[i][1]})" if show_env else ""
        cells = ["  " + env.ljust(env_width + 4) + name]
        for m, fmt in zip(row, self.formats):
            if m is None:
                cells.append(fmt.cell(None, 1, None))
            else:
                cells.append(fmt.cell(m.median / self.scale, m.significant_figures,
                                      m.iqr / m.median if m.has_warnings else None))
        return cells

    def _best(self, i):
        """The median each cell of row ``i`` is coloured against (None where a column has no entry to compare)."""
        row = self.grid[i]
        if self.colorize == Colorize.ROWWISE:
            best = min(m.median for m in row if m is not None)
            return [best] * len(row)
        members = self.groups[self.group_of[i]]
        medians = [[self.grid[k][j].median for k in members if self.grid[k][j] is not None]
                   for j in range(len(row))]
        return [min(values) if values else None for values in medians]

    def render(self):
        envs = {_env(m) for m in self.results}
        many_envs = len(envs) > 1
        env_width = max(len(e) for e in envs) if many_envs else 0

        body = []
        previous_env = ""
        for i, (threads, env, _) in enumerate(self.row_keys):
            starts_group = self.groups[self.group_of[i]][0] == i
            if starts_group:
                previous_env = ""
            body.append((i, starts_group, self._row_cells(i, many_envs and env != previous_env, env_width)))
            previous_env = env

        header = [""] + ["" if key is None else key for key in self.column_keys]
        width_of = [max(len(cells[j]) for cells in [header] + [cells for _, _, cells in body])
                    for j in range(len(header))]
        lines = ["  |  ".join(text.center(w) for text, w in zip(header, width_of))]
        overall = len(lines[0])
        for i, starts_group, cells in body:
            if starts_group:
                lines.append(f"{self.row_keys[i][0]} threads: ".ljust(overall, "-"))
            out = [cells[0].ljust(width_of[0])]
            best = self._best(i) if self.colorize != Colorize.NONE else [None] * len(self.formats)
            for text, w, m, b in zip(cells[1:], width_of[1:], self.grid[i], best):
                text = text.center(w)
                if m is not None and b is not None:
                    text = _paint(text, m.median, b)
                out.append(text)
            lines.append("  |  ".join(out))

        noted = self.highlight and any(m.has_warnings for m in self.results)
        title = f" {self.label or ''} ".center(overall - 2, "-")
        return (f"[{title}]\n" + "\n".join(lines) + "\n\n"
                f"Times are in {common.unit_to_english(self.unit)}s ({self.unit}).\n"
                + (_VARIANCE_NOTE + "\n" if noted else ""))


class Compare:
    """Formats many Measurements as tables, as PyTorch's ``torch.utils.benchmark.Compare``.

    Replicates of one task (equal TaskSpecs) are merged first. Each label gets a table; rows are sub_labels (else
    statements) and envs, grouped by ``num_threads``; columns are descriptions; cells are medians in the unit that
    suits the table's fastest entry. ``str(compare)`` or ``print()`` gives the text; ``trim_significant_figures``,
    ``colorize`` and ``highlight_warnings`` change the formatting.
    """

    def __init__(self, results):
        self._results = []
        self.extend_results(results)
        self._trim_significant_figures = False
        self._colorize = Colorize.NONE
        self._highlight_warnings = False

    def __str__(self):
        return "\n".join(self._render())

    def extend_results(self, results):
        """Adds more Measurements (ValueError for anything else)."""
        for r in results:
            if not isinstance(r, common.Measurement):
                raise ValueError(f"Expected an instance of `Measurement`, got {type(r)} instead.")
        self._results.extend(results)

    def trim_significant_figures(self):
        """Prints each median with no more digits than its estimated significant figures support."""
        self._trim_significant_figures = True

    def colorize(self, rowwise=False):
        """Colours cells by how they compare with the best median of their column (within a thread group), or of
        their row when ``rowwise``."""
        self._colorize = Colorize.ROWWISE if rowwise else Colorize.COLUMNWISE

    def highlight_warnings(self):
        """Marks cells whose IQR is large relative to the median with ``(! NN%)``."""
        self._highlight_warnings = True

    def print(self):
        """Prints the tables."""
        print(str(self))

    def _render(self):
        by_label = collections.defaultdict(list)
        for m in common.Measurement.merge(self._results):
            by_label[m.label].append(m)
        return [_Table(group, self._colorize, self._trim_significant_figures, self._highlight_warnings).render()
                for group in by_label.values()]

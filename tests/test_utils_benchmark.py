"""ember.utils.benchmark beside torch.utils.benchmark. Timers run on a fake clock that only the statement advances,
so block sizes and raw times are exact and equal to torch's; Measurement statistics, reprs and Compare tables are
checked against torch's for the same raw times. No test depends on how long anything really takes."""
import builtins
import pickle
import random
import subprocess
import sys

import pytest
import torch.utils.benchmark as theirs
from torch.utils.benchmark.utils import common as their_common

import ember
import ember.utils.benchmark as ours
from ember.utils.benchmark.utils import common as our_common


class Clock:
    """A clock that moves only when told to: ``tick()`` advances it by the next of a seeded series of durations,
    and each reading costs ``overhead``."""

    def __init__(self, seed=0, base=1e-3, jitter=0.0, overhead=0.0):
        self.now, self.base, self.jitter, self.overhead = 0.0, base, jitter, overhead
        self.random = random.Random(seed)

    def __call__(self):
        self.now += self.overhead
        return self.now

    def tick(self):
        self.now += self.base * (1 + self.jitter * self.random.random())


def both(method, *args, clock_args=(), timer_kwargs=None, **kwargs):
    """The same fake-clock measurement through torch's Timer and ember's."""
    results = []
    for module in (theirs, ours):
        clock = Clock(*clock_args)
        timer = module.Timer("clock.tick()", timer=clock, globals={"clock": clock}, **(timer_kwargs or {}))
        results.append(getattr(timer, method)(*args, **kwargs))
    return results


def body(measurement):
    """A Measurement's repr without its first line (the object's class path and address)."""
    return repr(measurement).split("\n", 1)[1]


@pytest.mark.parametrize("number", [1, 7, 100, 12345])
def test_timeit_measures_one_replicate_of_number_runs(number):
    t, e = both("timeit", number)
    assert (e.number_per_run, e.raw_times) == (t.number_per_run, t.raw_times)
    assert e.number_per_run == number and e.raw_times == [pytest.approx(number * 1e-3)]
    assert body(e) == body(t)


@pytest.mark.parametrize("clock_args", [(0, 1e-3), (1, 2e-5, 0.5), (2, 1e-3, 0.1, 1e-6), (3, 0.5, 0.0, 1e-4)])
@pytest.mark.parametrize("min_run_time", [0.2, 0.01, 2.0])
def test_blocked_autorange_block_size_and_replicates_match_torch(clock_args, min_run_time):
    t, e = both("blocked_autorange", clock_args=clock_args, min_run_time=min_run_time)
    assert e.number_per_run == t.number_per_run
    assert e.raw_times == t.raw_times and len(e.raw_times) >= 1
    assert body(e) == body(t)


@pytest.mark.parametrize("clock_args", [(0, 1e-3), (1, 2e-6, 0.5), (2, 4e-6, 0.05, 1e-8)])
@pytest.mark.parametrize("threshold", [0.1, 0.01])
def test_adaptive_autorange_matches_torch(clock_args, threshold):
    t, e = both("adaptive_autorange", threshold, clock_args=clock_args, max_run_time=0.05)
    assert (e.number_per_run, e.raw_times) == (t.number_per_run, t.raw_times)
    assert len(e.raw_times) > 3 or sum(e.raw_times) > 0.05


def test_callbacks_see_each_block():
    calls = {theirs: [], ours: []}
    for module in calls:
        clock = Clock(0, 1e-5)
        module.Timer("clock.tick()", timer=clock, globals={"clock": clock}).blocked_autorange(
            callback=lambda number, time, seen=calls[module]: seen.append((number, time)), min_run_time=0.1)
    assert calls[ours] == calls[theirs] and len(calls[ours]) > 1


def test_blocked_autorange_block_size_with_a_stepping_clock():
    # Each reading costs 1 ms and each run 2 ms, so the clock's share of a block stays far above 1e-4 and blocks
    # grow tenfold until one takes more than min_run_time: 100 runs, 0.201 s, which alone covers min_run_time.
    clock = Clock(0, 2e-3, 0.0, 1e-3)
    m = ours.Timer("clock.tick()", timer=clock, globals={"clock": clock}).blocked_autorange(min_run_time=0.2)
    assert m.number_per_run == 100 and m.raw_times == [pytest.approx(0.201)]


def test_setup_runs_before_each_block_and_nothing_is_compiled_while_measuring(monkeypatch):
    log = []
    timer = ours.Timer("log.append('stmt')", setup="log.append('setup')", globals={"log": log})
    compiled = []
    real = builtins.compile
    monkeypatch.setattr(builtins, "compile", lambda *a, **k: compiled.append(a) or real(*a, **k))
    timer.timeit(3)
    assert compiled == []
    assert log == ["setup", "stmt", "stmt", "setup", "stmt", "stmt", "stmt"]


def test_syntax_errors_surface_when_the_timer_is_built():
    for module in (theirs, ours):
        with pytest.raises(SyntaxError):
            module.Timer("x = = 1")


def test_multiline_statements_are_dedented():
    stmt = """
        y = 1
        z = y + 1
    """
    t, e = theirs.Timer(stmt, setup="\n    x = 1\n"), ours.Timer(stmt, setup="\n    x = 1\n")
    assert e._task_spec.stmt == t._task_spec.stmt == "y = 1\nz = y + 1"
    assert e._task_spec.setup == t._task_spec.setup == "x = 1"


def test_num_threads_is_set_for_the_measurement_and_restored():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(3)
        seen, clock = [], Clock(0, 1e-3)
        timer = ours.Timer("clock.tick(); seen.append(ember.get_num_threads())", timer=clock,
                           globals={"seen": seen, "clock": clock}, num_threads=2)
        timer.timeit(5)
        timer.blocked_autorange(min_run_time=0.01)
        timer.adaptive_autorange(min_run_time=0.01)
        assert seen and set(seen) == {2}
        assert ember.get_num_threads() == 3

        failing = ours.Timer("seen.append(ember.get_num_threads()); 1 / 0", globals={"seen": seen}, num_threads=1)
        with pytest.raises(ZeroDivisionError):
            failing.timeit(1)
        assert seen[-1] == 1 and ember.get_num_threads() == 3
    finally:
        ember.set_num_threads(before)


def test_set_torch_threads_restores_the_prior_count():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(2)
        with pytest.raises(KeyError):
            with ours.set_torch_threads(1):
                assert ember.get_num_threads() == 1
                raise KeyError
        assert ember.get_num_threads() == 2
    finally:
        ember.set_num_threads(before)


def test_globals_are_copied():
    given = {"x": 1, "out": []}
    timer = ours.Timer("global y; y = x; out.append(x)", globals=given)
    given["x"] = 5
    timer.timeit(2)
    assert sorted(given) == ["out", "x"]
    assert given["out"] == [1] * 4
    assert timer._globals["torch"] is ember and timer._globals["ember"] is ember
    assert "y" not in timer._globals


def test_a_given_torch_name_is_kept():
    sentinel = object()
    assert ours.Timer(globals={"torch": sentinel})._globals["torch"] is sentinel


def test_the_default_clock_and_language():
    assert isinstance(ours.timer(), float)
    assert ours.Timer.__init__.__defaults__[3] is ours.timer
    assert [(m.name, m.value) for m in ours.Language] == [(m.name, m.value) for m in theirs.Language]


def test_the_default_clock_waits_for_the_gpu_once_cuda_is_in_use(monkeypatch):
    from ember.utils.benchmark.utils import timer as timer_module
    synced = []
    monkeypatch.setattr(ember.cuda, "synchronize", lambda device=None: synced.append(device))
    monkeypatch.setattr(ember.accelerator, "is_available", lambda: True)
    timer_module._gpu_present.cache_clear()
    try:
        monkeypatch.setattr(ember.cuda, "is_initialized", lambda: False)
        ours.timer()
        assert synced == []
        monkeypatch.setattr(ember.cuda, "is_initialized", lambda: True)
        ours.timer()
        assert synced == [None]
    finally:
        timer_module._gpu_present.cache_clear()


def errors(make):
    """The type and message ``make(module)`` raises for torch and for ember."""
    found = []
    for module in (theirs, ours):
        with pytest.raises(Exception) as info:
            make(module)
        found.append((type(info.value), str(info.value)))
    return found


@pytest.mark.parametrize("make", [
    lambda b: b.Timer(lambda: 1),
    lambda b: b.Timer("x", language="java"),
    lambda b: b.Timer("x", global_setup="#include <vector>"),
    lambda b: b.Timer("x").repeat(),
    lambda b: b.Timer("x").repeat(3, 10),
    lambda b: b.Timer("x").autorange(),
    lambda b: b.Timer("x").timeit(1),
    lambda b: b.Timer("pass").collect_callgrind(1, repeats=0),
    lambda b: b.Timer("undefined_name").collect_callgrind(),
    lambda b: b.Compare([1.0]),
    lambda b: b.trim_sigfig(1.0, 1.5),
])
def test_errors_match_torch(make):
    theirs_error, ours_error = errors(make)
    assert ours_error == theirs_error


@pytest.mark.parametrize("language", [ours.Language.CPP, "cpp", "c++"])
def test_cpp_statements_are_refused(language):
    with pytest.raises(ValueError, match="runs only Python statements"):
        ours.Timer("x", language=language)


def test_callgrind_is_unavailable():
    with pytest.raises(OSError, match="Callgrind"):
        ours.Timer("pass").collect_callgrind(10)


RAW = [
    [1e-3],
    [1e-3, 2e-3],
    [3e-6, 1e-6, 2e-6],
    [1e-3, 2e-3, 1.5e-3, 1.2e-3],
    [5.0e-6 * (1 + 0.01 * i) for i in range(10)],
    [2.5e-8 * (1 + 0.3 * ((7 * i) % 11) / 11) for i in range(37)],
    [1.7 + 0.001 * i for i in range(6)],
    [4e-4, 4e-4, 4e-4, 4e-4, 4e-4],
]
SPECS = [
    dict(stmt="x + 1", setup="pass"),
    dict(stmt="f(x)", setup="x = 1", label="Add", sub_label="float", description="n=4", num_threads=4),
    dict(stmt="y = 1\nz = 2", setup="a = 1\nb = 2", sub_label="multi", env="A"),
    dict(stmt="", setup="", description="empty"),
    dict(stmt="g()", setup="pass", label="L", num_threads=2),
]


@pytest.mark.parametrize("raw", RAW)
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("number_per_run", [1, 10, 1000])
def test_measurement_statistics_and_repr_match_torch(raw, spec, number_per_run):
    t = their_common.Measurement(number_per_run, list(raw), their_common.TaskSpec(**spec))
    e = our_common.Measurement(number_per_run, list(raw), our_common.TaskSpec(**spec))
    assert e.times == t.times
    assert (e.median, e.iqr) == (t.median, t.iqr)
    assert e.mean == pytest.approx(t.mean, rel=1e-14)
    assert e.significant_figures == t.significant_figures
    assert e.has_warnings == t.has_warnings
    assert e.meets_confidence() == t.meets_confidence() and e.meets_confidence(0.3) == t.meets_confidence(0.3)
    assert (e.title, e.as_row_name, e.env) == (t.title, t.as_row_name, t.env)
    assert (e.stmt, e.setup, e.label, e.sub_label, e.description, e.num_threads) == \
        (t.stmt, t.setup, t.label, t.sub_label, t.description, t.num_threads)
    assert repr(e).startswith("<ember.utils.benchmark.utils.common.Measurement object at ")
    assert body(e) == body(t)


def test_measurement_statistics_on_random_data_match_torch():
    rng = random.Random(0)
    for _ in range(300):
        raw = [10 ** rng.uniform(-9, 1)] * rng.choice([1, 3, 4, 9, 40])
        raw = [r * (1 + rng.choice([0.0, 0.02, 0.2, 2.0]) * rng.random()) for r in raw]
        spec = dict(stmt="f()", setup="pass", num_threads=rng.choice([1, 8]))
        t = their_common.Measurement(rng.choice([1, 3, 100]), raw, their_common.TaskSpec(**spec))
        e = our_common.Measurement(t.number_per_run, list(raw), our_common.TaskSpec(**spec))
        assert (e.median, e.iqr, e.significant_figures, e.has_warnings) == \
            (t.median, t.iqr, t.significant_figures, t.has_warnings)
        assert body(e) == body(t)


def test_unit_helpers_match_torch():
    rng = random.Random(1)
    values = [10.0 ** k * (1 + d) for k in range(-10, 3) for d in (-1e-7, -3e-8, 0.0, 3e-8, 1e-7)]
    values += [10 ** rng.uniform(-10, 3) for _ in range(2000)] + [0.5, 1.5, 2.5, 12.5, 99.95, 0.9995]
    for v in values:
        assert our_common.select_unit(v) == their_common.select_unit(v)
        for n in range(1, 5):
            assert our_common.trim_sigfig(v, n) == their_common.trim_sigfig(v, n)
    assert [ours.unit_to_english(u) for u in ("ns", "us", "ms", "s")] == \
        [theirs.unit_to_english(u) for u in ("ns", "us", "ms", "s")]
    assert ours.ordered_unique([3, 1, 3, 2, 1]) == theirs.ordered_unique([3, 1, 3, 2, 1]) == [3, 1, 2]


def test_merge_pools_replicates_like_torch():
    specs = [dict(stmt="a", setup="pass", label="L"), dict(stmt="b", setup="pass", label="L"),
             dict(stmt="a", setup="pass", label="L", env="other")]
    data = [(10, [1e-3, 2e-3], 0), (1, [5e-4], 1), (100, [3e-2], 0), (4, [1e-3], 2)]
    t = their_common.Measurement.merge(
        [their_common.Measurement(n, r, their_common.TaskSpec(**specs[i])) for n, r, i in data])
    e = our_common.Measurement.merge(
        [our_common.Measurement(n, r, our_common.TaskSpec(**specs[i]), metadata={"k": 1}) for n, r, i in data])
    assert [(m.number_per_run, m.raw_times, m.stmt, m.env, m.metadata) for m in e] == \
        [(m.number_per_run, m.raw_times, m.stmt, m.env, m.metadata) for m in t]


def test_measurements_pickle():
    m = our_common.Measurement(10, [1e-3, 2e-3, 3e-3, 4e-3], our_common.TaskSpec("x", "pass", label="L"), {"a": 1})
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.median == m.median and back.label == "L" and back.metadata == {"a": 1}


def table_pair(rows, **options):
    """Compare text from torch and from ember for Measurements built from the same (number, raw, spec) rows."""
    texts = []
    for module, common in ((theirs, their_common), (ours, our_common)):
        compare = module.Compare([common.Measurement(n, list(r), common.TaskSpec(**s)) for n, r, s in rows])
        if options.get("trim"):
            compare.trim_significant_figures()
        if options.get("colorize") is not None:
            compare.colorize(rowwise=options["colorize"])
        if options.get("highlight"):
            compare.highlight_warnings()
        texts.append(str(compare))
    return texts


def recipe_rows(env=None, spread=0.0):
    """A table like PyTorch's benchmark recipe's: labels, sub_labels per size, descriptions per method, 1 and 4
    threads, and some replicates split over two Measurements."""
    rows = []
    for label in ("Batched dot", "Matmul"):
        for k, size in enumerate(("[1, 1]", "[64, 64]", "[1024, 10000]")):
            for j, method in enumerate(("mul/sum", "bmm")):
                for threads in (1, 4):
                    base = 10 ** (-6 + 1.5 * k) * (1 + 0.3 * j) / threads ** 0.5
                    raw = [base * (1 + spread * ((i * 7 + j) % 5) / 5) for i in range(7)]
                    spec = dict(stmt=f"{method}(x)", setup="pass", label=label, sub_label=size, description=method,
                                num_threads=threads, env=env)
                    rows.append((10, raw[:4], spec))
                    rows.append((100, raw[4:], spec))
    return rows


@pytest.mark.parametrize("spread", [0.0, 0.05, 0.5])
@pytest.mark.parametrize("options", [{}, {"trim": True}, {"colorize": False}, {"colorize": True},
                                     {"highlight": True}, {"trim": True, "colorize": False, "highlight": True}])
def test_compare_table_matches_torch(spread, options):
    theirs_text, ours_text = table_pair(recipe_rows(spread=spread), **options)
    assert ours_text == theirs_text


def test_compare_table_text():
    rows = [(1, [2e-6, 2.1e-6, 2.2e-6, 2.3e-6], dict(stmt="f(x)", setup="pass", label="Op", sub_label=s,
                                                      description=d, num_threads=1))
            for s in ("float", "int") for d in ("n=1", "n=8")]
    theirs_text, ours_text = table_pair(rows)
    assert ours_text == theirs_text == (
        "[----------- Op ----------]\n"
        "             |  n=1  |  n=8\n"
        "1 threads: ----------------\n"
        "      float  |  2.1  |  2.1\n"
        "      int    |  2.1  |  2.1\n"
        "\n"
        "Times are in microseconds (us).\n")


def test_compare_with_envs_missing_entries_and_several_labels_matches_torch():
    rows = recipe_rows(env="A") + [(r[0], [x * 1.7 for x in r[1]], {**r[2], "env": "B2"}) for r in recipe_rows()]
    rows = [r for i, r in enumerate(rows) if i % 5]
    rows.append((1, [3e-3], dict(stmt="solo()", setup="pass", description="extra", env="A", num_threads=2)))
    for options in ({}, {"trim": True, "highlight": True}, {"colorize": False}):
        theirs_text, ours_text = table_pair(rows, **options)
        assert ours_text == theirs_text


def test_compare_on_random_tables_matches_torch():
    rng = random.Random(2)
    for _ in range(60):
        envs = rng.choice([[None], ["A", "B"], ["", "xyz"]])
        rows = []
        for _ in range(rng.randint(1, 10)):
            spec = dict(stmt=rng.choice(["f(x)", "g(x)", "a\nb", ""]), setup="pass",
                        label=rng.choice([None, "L1", "L2"]), sub_label=rng.choice([None, "s1", "a longer name"]),
                        description=rng.choice(["n=1", "n=10", "a wide description"]),
                        num_threads=rng.choice([1, 2, 4]), env=rng.choice(envs))
            base = 10 ** rng.uniform(-8, 0)
            spread = rng.choice([0.0, 0.01, 0.3])
            rows.append((rng.choice([1, 10]), [base * (1 + spread * rng.random()) for _ in range(rng.choice([1, 5]))],
                         spec))
        options = {"trim": rng.random() < 0.5, "highlight": rng.random() < 0.5,
                   "colorize": rng.choice([None, False, True])}
        theirs_text, ours_text = table_pair(rows, **options)
        assert ours_text == theirs_text


def test_compare_renders_what_torch_cannot():
    # torch's Compare fails on a missing description (len(None)) and on a mix of env=None and named envs
    # (sorting None against str); ember prints an empty column header and "Unspecified env".
    spec = dict(stmt="f()", setup="pass", label="L")
    plain = ours.Compare([our_common.Measurement(1, [1e-3], our_common.TaskSpec(**spec))])
    assert str(plain).splitlines()[1] == " " * 9 + "  |  " + " " * 3
    mixed = ours.Compare([our_common.Measurement(1, [1e-3], our_common.TaskSpec(**spec, description="d")),
                          our_common.Measurement(1, [2e-3], our_common.TaskSpec(**spec, description="d", env="E"))])
    lines = str(mixed).splitlines()
    assert lines[3].startswith("  (E)") and lines[4].startswith("  (Unspecified env)")


def test_compare_print_and_extend(capsys):
    rows = [(1, [1e-3], our_common.TaskSpec("f()", "pass", label="L", description="d"))]
    compare = ours.Compare([our_common.Measurement(*row) for row in rows])
    compare.extend_results([our_common.Measurement(1, [2e-3], our_common.TaskSpec("g()", "pass", label="L",
                                                                                   description="d"))])
    compare.print()
    assert capsys.readouterr().out == str(compare) + "\n"
    assert "g()" in str(compare)


def test_public_names_have_docstrings():
    names = ["Timer", "Measurement", "TaskSpec", "Compare", "Colorize", "Language", "timer", "select_unit",
             "unit_to_english", "trim_sigfig", "ordered_unique", "set_torch_threads"]
    assert all(name in vars(ours) for name in names)
    for name in names:
        assert getattr(ours, name).__doc__
    for cls, methods in ((ours.Timer, ["timeit", "repeat", "autorange", "blocked_autorange", "adaptive_autorange",
                                       "collect_callgrind"]),
                         (ours.Compare, ["print", "colorize", "trim_significant_figures", "highlight_warnings",
                                         "extend_results"]),
                         (ours.Measurement, ["times", "median", "mean", "iqr", "significant_figures", "has_warnings",
                                             "meets_confidence", "title", "env", "merge"])):
        for method in methods:
            assert getattr(cls, method).__doc__, method


def test_importing_the_package_leaves_torch_unloaded():
    code = ("import sys, ember, ember.utils.benchmark; assert 'torch' not in sys.modules; "
            "assert ember.utils.benchmark.Timer.__module__ == 'ember.utils.benchmark.utils.timer'; "
            "import ember.utils; assert ember.utils.benchmark is sys.modules['ember.utils.benchmark']")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

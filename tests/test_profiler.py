"""ember.profiler / ember.autograd.profiler: per-op events recorded at the dispatch point, record_function blocks,
key_averages().table() in PyTorch's layout, schedules as torch.profiler's, Chrome traces."""
import json

import pytest
import torch
import torch.profiler

import ember
from ember.autograd.function import dispatch_hooks


def workload(lib, x):
    with lib.profiler.record_function("block"):
        for _ in range(3):
            y = x * x
        return y.sum()


def test_op_counts_and_nesting_match_torch_for_ember_ops():
    x = ember.randn(4, 4)
    with ember.profiler.profile(activities=[ember.profiler.ProfilerActivity.CPU]) as prof:
        workload(ember, x)
    assert not dispatch_hooks   # the hook is gone once the context exits
    averages = {a.key: a for a in prof.key_averages()}
    assert averages["aten::mul"].count == 3 and averages["aten::sum"].count == 1 and averages["block"].count == 1
    tx = torch.randn(4, 4)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as tprof:
        workload(torch, tx)
    torch_counts = {a.key: a.count for a in tprof.key_averages()}
    for name in ("aten::mul", "aten::sum", "block"):
        assert averages[name].count == torch_counts[name]
    block = averages["block"]
    children = averages["aten::mul"].cpu_time_total + averages["aten::sum"].cpu_time_total
    assert block.cpu_time_total >= children
    assert block.self_cpu_time_total == pytest.approx(block.cpu_time_total - children, rel=1e-6, abs=1e-3)
    events = prof.events()
    assert [e.name for e in events] == ["block", "aten::mul", "aten::mul", "aten::mul", "aten::sum"]
    assert all(e.cpu_parent is events[0] for e in events[1:])


def test_table_layout_matches_torch():
    x = ember.randn(4, 4)
    with ember.profiler.profile() as prof:
        workload(ember, x)
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=2).splitlines()
    with torch.profiler.profile() as tprof:
        workload(torch, torch.randn(4, 4))
    ttable = tprof.key_averages().table(sort_by="cpu_time_total", row_limit=2).splitlines()
    assert table[1].split() == ttable[1].split()   # the column headers
    assert len(table) == 2 + 1 + 2 + 2 and table[-1].startswith("Self CPU time total: ")
    assert table[3].split()[0] == "block" and table[3].split()[-1] == "1" and "100.00%" in table[3]
    assert [len(c) for c in table[0].split()][1:] == [len(c) for c in ttable[0].split()][1:]


def test_record_shapes_grouping_decorator_and_disabled_profiles():
    @ember.profiler.record_function("decorated")
    def f(a, b):
        return a @ b
    with ember.profiler.profile(record_shapes=True) as prof:
        f(ember.ones(2, 3), ember.ones(3, 4))
        f(ember.ones(5, 3), ember.ones(3, 4))
    grouped = prof.key_averages(group_by_input_shape=True)
    shapes = sorted(str(a.input_shapes) for a in grouped if a.key != "decorated")
    assert "[[2, 3], [3, 4]]" in shapes[0] or "[[2, 3], [3, 4]]" in shapes[1]
    assert "Input Shapes" in grouped.table()
    assert [a.count for a in prof.key_averages() if a.key == "decorated"] == [2]
    with ember.autograd.profiler.profile(enabled=False) as off:
        ember.ones(3) * 2
    assert len(off.events()) == 0
    with ember.autograd.profiler.profile() as legacy:
        with ember.autograd.profiler.record_function("legacy_block"):
            ember.ones(3) * 2
    assert [e.name for e in legacy.function_events][0] == "legacy_block"


def test_schedule_and_on_trace_ready_as_torch():
    """Each saving step of torch's own schedule function hands over the ops of its ``active`` recorded steps (torch's
    profiler itself is not run with a schedule here: its tracer crashes on this host)."""
    saved = []
    sched = ember.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    with ember.profiler.profile(schedule=sched, on_trace_ready=lambda p: saved.append(
            sum(a.count for a in p.key_averages() if a.key == "aten::mul"))) as prof:
        for _ in range(10):
            ember.ones(2) * ember.ones(2)
            prof.step()
    torch_schedule = torch.profiler.schedule(wait=1, warmup=1, active=2, repeat=2)
    saves = [s for s in range(10) if torch_schedule(s) == torch.profiler.ProfilerAction.RECORD_AND_SAVE]
    assert saved == [2] * len(saves)
    for s in range(12):
        assert sched(s).name == torch_schedule(s).name


def test_chrome_trace_export(tmp_path):
    with ember.profiler.profile() as prof:
        workload(ember, ember.ones(3))
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())
    names = [e["name"] for e in trace["traceEvents"]]
    assert names.count("aten::mul") == 3 and all(e["ph"] == "X" and e["dur"] >= 0 for e in trace["traceEvents"])


@pytest.mark.parametrize("use_gzip", [False, True])
def test_tensorboard_trace_handler_writes_each_saved_trace(tmp_path, use_gzip):
    import gzip
    logdir = tmp_path / "log" / "run"   # created by the handler, as torch's does
    sched = ember.profiler.schedule(wait=0, warmup=0, active=1, repeat=2)
    handler = ember.profiler.tensorboard_trace_handler(str(logdir), worker_name="w0", use_gzip=use_gzip)
    with ember.profiler.profile(schedule=sched, on_trace_ready=handler) as prof:
        for _ in range(3):
            workload(ember, ember.ones(3))
            prof.step()
    files = sorted(logdir.iterdir())
    suffix = ".pt.trace.json" + (".gz" if use_gzip else "")
    assert len(files) == 2 and all(f.name.startswith("w0.") and f.name.endswith(suffix) for f in files)
    text = gzip.open(files[0], "rt").read() if use_gzip else files[0].read_text()
    assert [e["name"] for e in json.loads(text)["traceEvents"]].count("aten::mul") == 3


def test_profiler_capability_queries():
    assert ember.profiler.supported_activities() == {ember.profiler.ProfilerActivity.CPU}
    assert ember.profiler.kineto_available() is False


def test_profile_memory_columns_and_sort_keys_match_torch():
    """``profile_memory=True`` adds PyTorch's "CPU Mem" / "Self CPU Mem" columns before the call count; the rows sort
    by (self_)cpu_memory_usage; an op's memory is the bytes it allocated net of those released while it ran (the
    children's only in the total), in PyTorch's KB/MB format."""
    tables, usage = [], []
    for lib in (ember, torch):
        x = lib.ones(1000)
        with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
            with lib.profiler.record_function("block"):
                (x * x).exp()
        averages = {a.key: a for a in prof.key_averages()}
        usage.append([(averages[k].cpu_memory_usage, averages[k].self_cpu_memory_usage)
                      for k in ("aten::mul", "aten::exp", "block")])
        tables.append([prof.key_averages().table(sort_by=key, row_limit=3)
                       for key in ("self_cpu_memory_usage", "cpu_memory_usage")])
    assert usage[0] == usage[1] == [(4000, 4000), (4000, 4000), (0, -8000)]   # the block freed both
    for ours, theirs in zip(*tables):
        assert ours.splitlines()[1].split() == theirs.splitlines()[1].split()   # the headers
        assert ours.splitlines()[3].split()[-5:] == theirs.splitlines()[3].split()[-5:]   # memory and calls


@pytest.mark.parametrize("name", ["emit_itt", "emit_nvtx"])
def test_emit_itt_and_nvtx_enter_as_torch_on_a_cpu(name):
    """The annotation contexts exist (the tuning guide turns them off); disabled they yield None, enabled emit_itt
    refuses a second entry and emit_nvtx needs CUDA, as PyTorch's on a CPU-only machine."""
    outcomes = []
    for lib in (ember, torch):
        kind = getattr(lib.autograd.profiler, name)
        with kind(enabled=False) as context:
            outcome = [context]
        annotation = kind(record_shapes=True)
        try:
            with annotation:
                with pytest.raises(RuntimeError, match="annotation context manager is not reentrant"):
                    annotation.__enter__()
                outcome.append("entered")
        except AssertionError:
            outcome.append("AssertionError")
        outcomes.append(outcome)
    assert outcomes[0] == outcomes[1]


def test_composite_ops_are_named_as_torch_names_them():
    """An op ember builds from others (max_pool2d, batch_norm) is one aten:: event under PyTorch's name."""
    keys = []
    for lib in (ember, torch):
        x = lib.ones(2, 3, 4, 4)
        with lib.profiler.profile() as prof:
            lib.nn.functional.batch_norm(lib.nn.functional.max_pool2d(x, 2), None, None, training=True)
        keys.append({a.key for a in prof.key_averages()})
    for name in ("aten::max_pool2d", "aten::batch_norm"):
        assert name in keys[0] and name in keys[1]


STEPS = """
import json, sys
x = torch.ones(4, 4)
with torch.profiler.profile(schedule=torch.profiler.schedule(wait=1, warmup=1, active=2), acc_events=True) as prof:
    for _ in range(6):
        (x + x).sum()
        prof.step()
    prof.export_chrome_trace(sys.argv[1])
with open(sys.argv[1]) as file:
    trace = json.load(file)
trace = trace["traceEvents"] if isinstance(trace, dict) else trace
print(json.dumps([sorted((a.key, a.count) for a in prof.key_averages() if a.key.startswith("Profiler")),
                  sorted({e.name for e in prof.events() if e.name.startswith("Profiler")}),
                  sorted({e["name"] for e in trace if e.get("name", "").startswith("Profiler")})]))
"""


def test_scheduled_steps_are_profiler_step_blocks_as_torch(tmp_path, monkeypatch, capsys):
    """With a schedule each step is a ``ProfilerStep#N`` block: ``ProfilerStep*`` in the events and the table (the
    steps summed), ``ProfilerStep#N`` in the Chrome trace. torch runs in a child process (its tracer with a schedule
    is not run in the suite's process)."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", "import torch\n" + STEPS, str(tmp_path / "torch.json")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    monkeypatch.setattr(sys, "argv", ["program", str(tmp_path / "ember.json")])
    exec(STEPS, {"torch": ember})
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == theirs


INTERLEAVED = """
import json
x = torch.ones(4, 4)
with torch.profiler.profile() as prof:
    outer = torch.profiler.record_function("outer")
    outer.__enter__()
    (x + x).sum()
    inner = torch.profiler.record_function("inner")
    inner.__enter__()
    x * x
    outer.__exit__(None, None, None)   # closed while "inner" is still open
    x - x
    inner.__exit__(None, None, None)
    after = torch.profiler.record_function("after")
    with after:
        x / 2
events = [e for e in prof.events() if e.name in ("outer", "inner", "after", "aten::mul", "aten::sub", "aten::div")]
print(json.dumps(sorted([e.name, e.cpu_parent.name if e.cpu_parent is not None else None,
                         e.self_cpu_time_total >= 0] for e in events)))
"""


def test_an_interval_closed_before_one_opened_inside_it_does_not_parent_it(capsys):
    """PyTorch nests events by containment: an interval still open when its enclosing one closes is not that one's
    child, and every self time stays non-negative."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", "import torch\n" + INTERLEAVED], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    exec(INTERLEAVED, {"torch": ember})
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == theirs

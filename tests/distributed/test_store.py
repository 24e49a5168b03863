"""The stores (HashStore, FileStore, PrefixStore) against torch's: the same calls on a torch store and an ember store
give the same values and raise the same error types; torch's and ember's FileStores share one file; processes
share a FileStore. Timeouts are tiny and only the error type is checked."""
import datetime
import sys
import threading

import pytest

import ember.distributed as dist

from .launch import run

torch_dist = pytest.importorskip("torch.distributed")

TINY = datetime.timedelta(milliseconds=1)


def _outcome(call):
    try:
        return "ok", call()
    except Exception as error:   # compared by type below
        return "error", type(error).__name__


def _script(store):
    """A sequence of calls exercising every Store method (timeouts made tiny), with each outcome."""
    s = store
    calls = [
        lambda: s.set("a", "1"), lambda: s.set("b", b"\xff\x00"), lambda: s.get("a"), lambda: s.get("b"),
        lambda: s.add("c", 5), lambda: s.add("c", -7), lambda: s.get("c"), lambda: s.add("a", 2),
        lambda: s.add("b", 1), lambda: s.set("f", " 7x"), lambda: s.add("f", 1), lambda: s.set("e", ""),
        lambda: s.add("e", 3), lambda: s.set("big", "99999999999999999999"), lambda: s.add("big", 1),
        lambda: s.compare_set("k", "", "v"), lambda: s.compare_set("k", "x", "w"),
        lambda: s.compare_set("k", "v", "w"), lambda: s.get("k"), lambda: s.compare_set("gone", "x", "w"),
        lambda: s.check(["a", "zz"]), lambda: s.check(["a", "k"]), lambda: s.check([]),
        lambda: s.append("ap", "x"), lambda: s.append("ap", b"y"), lambda: s.get("ap"),
        lambda: s.multi_set(["m1", "m2"], ["1", b"2"]), lambda: s.multi_get(["m1", "m2"]),
        lambda: s.set("u", "é"), lambda: s.get("u"), lambda: s.delete_key("a"), lambda: s.check(["a"]),
        lambda: s.has_extended_api(), lambda: s.timeout, lambda: s.set_timeout(TINY), lambda: s.timeout,
        lambda: s.get("missing"), lambda: s.wait(["missing"]), lambda: s.wait(["missing"], TINY),
        lambda: s.wait(["m1", "k"]), lambda: s.multi_get(["m1", "missing"]), lambda: s.wait([]),
        lambda: s.set(1, "x"), lambda: s.set("x", 5), lambda: s.add("n", "3"), lambda: s.set_timeout(5),
        lambda: s.wait(["m1"], 5),
    ]
    return [_outcome(call) for call in calls]


def _comparable(outcomes):
    """Outcomes with objects of either library's types reduced to what both share."""
    return [(kind, value if not hasattr(value, "total_seconds") else value.total_seconds())
            for kind, value in outcomes]


def test_hash_store_matches_torch():
    assert _comparable(_script(dist.HashStore())) == _comparable(_script(torch_dist.HashStore()))
    store = dist.HashStore()
    store.set("a", "1")
    assert store.num_keys() == 1 and store.delete_key("a") and not store.delete_key("a")


def test_file_store_matches_torch(tmp_path):
    ours = _script(dist.FileStore(str(tmp_path / "ours"), 1))
    theirs = _script(torch_dist.FileStore(str(tmp_path / "theirs"), 1))
    # torch's FileStore times out with its base RuntimeError; ember raises DistStoreError, a RuntimeError, for every
    # store, so code catching either works
    theirs = [("error", "DistStoreError") if o == ("error", "RuntimeError") else o for o in theirs]
    assert _comparable(ours) == _comparable(theirs)


def test_file_store_counts_and_cleanup_match_torch(tmp_path):
    for module, name in ((dist, "ours"), (torch_dist, "theirs")):
        path = str(tmp_path / name)
        first = module.FileStore(path, 2)
        keys = [first.num_keys()]
        first.set("x", "1")
        second = module.FileStore(path, 2)
        keys += [second.num_keys(), second.delete_key("x"), second.num_keys(), second.delete_key("never")]
        assert keys == [1, 2, True, 1, True], name
        del first
        assert (tmp_path / name).exists()
        del second
        assert not (tmp_path / name).exists(), name
        kept = module.FileStore(str(tmp_path / f"{name}-kept"))
        del kept   # no world_size: the file stays
        assert (tmp_path / f"{name}-kept").exists()


def test_file_store_shares_a_file_with_torch(tmp_path):
    path = str(tmp_path / "shared")
    theirs, ours = torch_dist.FileStore(path, 2), dist.FileStore(path, 2)
    theirs.set("from-torch", b"\x00\x01")
    ours.set("from-ember", "é")
    assert ours.get("from-torch") == b"\x00\x01" and theirs.get("from-ember") == "é".encode()
    assert [theirs.add("n", 2), ours.add("n", 3), theirs.add("n", 0)] == [2, 5, 5]
    ours.delete_key("from-torch")
    assert not theirs.check(["from-torch"]) and theirs.num_keys() == ours.num_keys() == 3
    assert ours.compare_set("n", "5", "6") == b"6" and theirs.get("n") == b"6"


def test_file_store_errors(tmp_path):
    with pytest.raises(dist.DistStoreError):
        dist.FileStore(str(tmp_path / "no-such-dir" / "store"), 1)
    with pytest.raises(TypeError):
        dist.FileStore(5)


def test_prefix_store_matches_torch():
    results = []
    for module in (dist, torch_dist):
        base = module.HashStore()
        store = module.PrefixStore("pre", base)
        store.set("a", "1")
        nested = module.PrefixStore("q", store)
        nested.set("z", "2")
        base.set("other", "3")
        store.set_timeout(TINY)
        results.append([base.get("pre/a"), base.get("pre/q/z"), store.num_keys(), store.check(["a"]),
                        sorted(store.list_keys()), base.timeout.total_seconds(), store.underlying_store is base,
                        store.has_extended_api(), _outcome(lambda: store.get("missing"))[1],
                        _comparable(_script(module.PrefixStore("s", module.HashStore())))])
    assert results[0] == results[1]
    with pytest.raises(TypeError):
        dist.PrefixStore("x", 5)


def test_store_base_and_tcp_store():
    class Counting(dist.Store):
        def __init__(self):
            super().__init__()
            self.data = {}

        def set(self, key, value):
            self.data[key] = value.encode() if isinstance(value, str) else value

        def get(self, key):
            return self.data[key]

        def compare_set(self, key, expected, desired):
            current = self.data.get(key)
            if (current is None and not expected) or current == expected:
                self.data[key] = desired
                return desired
            return expected if current is None else current

    store = Counting()
    store.append("k", b"a")
    store.append("k", b"b")
    store.multi_set(["x", "y"], ["1", "2"])
    assert store.multi_get(["k", "x", "y"]) == [b"ab", b"1", b"2"]
    assert store.timeout == torch_dist.Store().timeout and not store.has_extended_api()
    with pytest.raises(RuntimeError, match="does not define Store.num_keys"):
        store.num_keys()
    with pytest.raises(RuntimeError, match="FileStore"):
        dist.TCPStore("127.0.0.1", 29500, 2, True)
    assert issubclass(dist.TCPStore, dist.Store) and issubclass(dist.DistStoreError, dist.DistError)


def test_hash_store_wakes_a_waiting_thread():
    store = dist.HashStore()
    store.set_timeout(datetime.timedelta(seconds=30))
    got = []
    reader = threading.Thread(target=lambda: got.append(store.get("late")))
    reader.start()
    store.set("late", "here")
    reader.join(30)
    assert got == [b"here"]


_WORKER = """
import sys
import ember.distributed as dist
store = dist.FileStore(sys.argv[1], 3)
for _ in range(20):
    store.add("count", 1)
store.append("log", sys.argv[2])
store.set("done-" + sys.argv[2], "1")
store.wait(["done-a", "done-b"])
print(store.get("count").decode(), sorted(store.get("log").decode()))
"""


def test_processes_share_a_file_store(tmp_path):
    path = str(tmp_path / "store")
    keeper = dist.FileStore(path, 3)   # the third user, so the file outlives the workers
    started = [threading.Thread(target=lambda tag=tag: outputs.append(run([sys.executable, "-c", _WORKER, path, tag])))
               for tag in "ab"]
    outputs = []
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert result.stdout.split("\n")[0] == "40 ['a', 'b']"
    assert keeper.get("count") == b"40"

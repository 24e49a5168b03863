"""DataLoader workers reuse their shared-memory blocks: a block goes back to its worker once the main process has
read it, grows when a batch needs more room, and every block is unmapped at shutdown. Blocks are memfds that the
main process maps: this process's /proc/self/maps shows them."""
import os

import numpy
import pytest

import ember
from ember.utils.data import DataLoader, Dataset
from tests.utils.test_dataloader_workers import as_plain, no_leaks  # noqa: F401  (fixture)


class Growing(Dataset):
    """Sample i is an (i + 1) x 300 array of i, with a string and a nested dict: each batch outgrows the last."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        return {"x": numpy.full((i + 1, 300), i, dtype=numpy.float64)[:, ::2], "meta": ("s", {"i": i})}


class Mixed(Dataset):
    """Samples with no array at all between samples with tensors of several dtypes."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i % 3 == 0:
            return f"text{i}"
        return ember.full((2, 3), i, dtype=ember.int16), numpy.float32(i), ember.tensor([i > 5])


def mapped_blocks():
    """The inodes of the DataLoader blocks this process has mapped."""
    with open(f"/proc/{os.getpid()}/maps") as maps:
        return {line.split()[4] for line in maps if "/memfd:ember-dataloader" in line}


def seen_blocks(loader):
    """The batches of ``loader`` and the most blocks this process had mapped at once while they were read."""
    most, batches = 0, []
    for batch in loader:
        most = max(most, len(mapped_blocks()))
        batches.append(as_plain(batch))
    return batches, most


pytestmark = pytest.mark.skipif(not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self"),
                                reason="blocks are seen as memfds in /proc")


@pytest.mark.timeout(300)
def test_growing_batches_match_the_main_process_and_reuse_blocks(no_leaks):  # noqa: F811
    expected = [as_plain(b) for b in DataLoader(Growing(), batch_size=None)]
    batches, most = seen_blocks(DataLoader(Growing(), batch_size=None, num_workers=2, prefetch_factor=2))
    assert batches == expected
    assert 0 < most <= 2 * 2 + 2   # in flight per worker, plus one being read: not one per batch


@pytest.mark.timeout(300)
def test_batches_without_arrays_and_persistent_workers(no_leaks):  # noqa: F811
    expected = [as_plain(b) for b in DataLoader(Mixed(), batch_size=None)]
    loader = DataLoader(Mixed(), batch_size=None, num_workers=2, persistent_workers=True)
    for epoch in range(3):
        batches, most = seen_blocks(loader)
        assert batches == expected and most <= 6
    first = next(iter(loader))   # an abandoned epoch: its blocks come back when the next epoch drains it
    assert as_plain(first) == expected[0]
    assert seen_blocks(loader)[0] == expected
    del loader, first


@pytest.mark.timeout(300)
def test_collated_dicts_tuples_and_dtypes_through_blocks(no_leaks):  # noqa: F811
    batches = [as_plain(b) for b in DataLoader(Mixed(), batch_size=3, num_workers=1, collate_fn=list)]
    assert batches == [as_plain(b) for b in DataLoader(Mixed(), batch_size=3, collate_fn=list)]
    collated = list(DataLoader(Growing(), batch_size=1, num_workers=2))
    for i, batch in enumerate(collated):
        assert batch["x"].dtype == ember.float64 and tuple(batch["x"].shape) == (1, i + 1, 150)
        assert batch["x"].is_contiguous() and batch["meta"][1]["i"].tolist() == [i]
    del collated
    assert not mapped_blocks()

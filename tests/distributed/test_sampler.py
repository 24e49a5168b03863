"""DistributedSampler against torch.utils.data.DistributedSampler (run standalone with num_replicas and rank)."""
import pytest
import torch.utils.data

import ember.utils.data


@pytest.mark.parametrize("length", [0, 1, 7, 10, 33, 100])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_indices_equal_torch(length, replicas, shuffle, drop_last):
    data = list(range(length))
    for rank in range(replicas):
        for seed, epoch in [(0, 0), (0, 3), (1234, 1), (2**40 + 5, 2)]:
            ours = ember.utils.data.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            theirs = torch.utils.data.DistributedSampler(data, replicas, rank, shuffle, seed, drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs)
            assert len(ours) == len(theirs)


def test_bad_rank_is_a_value_error():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        ember.utils.data.DistributedSampler(list(range(4)), num_replicas=2, rank=2)


def test_feeds_a_dataloader():
    data = ember.utils.data.TensorDataset(ember.arange(10))
    sampler = ember.utils.data.DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in ember.utils.data.DataLoader(data, batch_size=2, sampler=sampler)]
    assert batches == [[1, 3], [5, 7], [9]]

"""Every argument of the float32 Box-Muller kernel against PyTorch: all 2**24 uniforms as radius and as angle.

Generator states are crafted so that ``normal_`` of 608 elements reads chosen 24-bit uniforms (304 radii, 304
angles); ember's and PyTorch's results must agree bit for bit. Takes a few minutes.
    PYTHONPATH=. python bench/check_randn_exhaustive.py
"""
import numpy
import torch

import ember
from tests.ops.test_random_streams import _state_drawing

ROWS = 38


def main():
    top, per_state = 1 << 24, ROWS * 8
    everything = numpy.arange(top, dtype=numpy.uint32)
    shuffled = numpy.random.default_rng(0).permutation(top).astype(numpy.uint32)
    mismatches = 0
    for start in range(0, top, per_state):
        first = numpy.resize(everything[start:start + per_state], per_state)
        second = numpy.resize(shuffled[start:start + per_state], per_state)
        state = _state_drawing(numpy.concatenate([first.reshape(ROWS, 8), second.reshape(ROWS, 8)], 1).ravel())
        torch.set_rng_state(torch.from_numpy(state))
        ember.set_rng_state(ember.tensor(state))
        expected = torch.empty(ROWS * 16).normal_().numpy().view(numpy.uint32)
        got = ember.empty(ROWS * 16).normal_().numpy().view(numpy.uint32)
        mismatches += int((got != expected).sum())
    print(f"{top} radii and {top} angles: {mismatches} values differ from PyTorch's")


if __name__ == "__main__":
    main()

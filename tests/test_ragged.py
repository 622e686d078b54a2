"""The numpy ragged helpers every view is built from."""

from __future__ import annotations

import numpy as np

from han.data import ragged


def test_take_and_gather_follow_the_given_order():
    values = np.arange(10)
    lengths = np.array([3, 0, 4, 3])
    got, got_lengths = ragged.take(values, lengths, np.array([3, 0, 1]))
    assert got.tolist() == [7, 8, 9, 0, 1, 2]
    assert got_lengths.tolist() == [3, 3, 0]


def test_clip_head_and_positions():
    values = np.arange(7)
    lengths = np.array([5, 2])
    got, got_lengths = ragged.clip(values, lengths, 3)
    assert got.tolist() == [0, 1, 2, 5, 6]
    assert got_lengths.tolist() == [3, 2]
    assert ragged.positions(lengths).tolist() == [0, 1, 2, 3, 4, 0, 1]


def test_clip_keeps_head_tail_or_both_ends():
    values = np.arange(12)
    lengths = np.array([7, 0, 2, 3])  # segments 0..6, (empty), 7 8, 9 10 11
    expected = {
        "head": [0, 1, 2, 7, 8, 9, 10, 11],
        "tail": [4, 5, 6, 7, 8, 9, 10, 11],
        "head_tail": [0, 1, 6, 7, 8, 9, 10, 11],  # ceil(3/2) from the start, floor from the end
    }
    for keep, want in expected.items():
        got, got_lengths = ragged.clip(values, lengths, 3, keep)
        assert got.tolist() == want, keep
        assert got_lengths.tolist() == [3, 0, 2, 3]


def test_wrap_recuts_lengths_only():
    new, pieces = ragged.wrap(np.array([7, 3, 0, 6]), 3)
    assert new.tolist() == [3, 3, 1, 3, 0, 3, 3]
    assert pieces.tolist() == [3, 1, 1, 2]


def test_segment_sums_with_empty_segments():
    sums = ragged.segment_sums(np.array([1, 2, 3, 4]), np.array([2, 0, 2]))
    assert sums.tolist() == [3, 0, 7]

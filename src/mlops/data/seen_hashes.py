"""A set of 64-bit hashes kept as a few sorted numpy arrays: 8 bytes per distinct value.

Used for uniqueness and duplicate-row checks across chunks. Memory grows with the number of
*distinct* values (about 8 bytes each, 16 during a merge), not with the number of rows; a
Python set would cost about 10x more. Two different values share a 64-bit hash with
probability about n^2 / 2^65 (below 1e-4 for 50 million distinct values); such a collision would
report a false duplicate, whose sample shows the actual value so it can be checked.
"""

from __future__ import annotations

import numpy as np


class SeenHashes:
    def __init__(self) -> None:
        # Sorted, mutually disjoint arrays whose sizes shrink geometrically, so there are
        # O(log n) of them and each value is re-sorted O(log n) times in total.
        self._levels: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(level) for level in self._levels)

    def add(self, hashes: np.ndarray) -> np.ndarray:
        """Add `hashes`; return a mask marking those seen before (earlier in `hashes` too)."""
        seen = np.ones(len(hashes), dtype=bool)
        if not len(hashes):
            return seen
        unique, first_index = np.unique(hashes, return_index=True)
        known = np.zeros(len(unique), dtype=bool)
        for level in self._levels:
            position = np.searchsorted(level, unique)
            np.minimum(position, len(level) - 1, out=position)
            known |= level[position] == unique
        seen[first_index[~known]] = False
        self._push(unique[~known])
        return seen

    def _push(self, new: np.ndarray) -> None:
        if not len(new):
            return
        self._levels.append(new)
        while len(self._levels) > 1 and len(self._levels[-2]) <= 2 * len(self._levels[-1]):
            top = self._levels.pop()
            below = self._levels.pop()
            merged = np.concatenate([below, top])
            merged.sort(kind="stable")
            self._levels.append(merged)

"""Hashing of category keys: `bucket_of`, and a hashed set (a Bloom filter) of which values
the reference held, in bounded memory, at any cardinality.

A key the set was built from is always found. A key it was not built from is wrongly found with
probability about (1 - exp(-k n / m))^k for n keys, m bits and k hashes; at the default 16 bits
per key and 11 hashes that is 0.05%, so an unseen-category share is under-counted by at most about
that share of the unseen values. The bit array is capped at `MAX_BITS` (1 MiB); past about 500,000
distinct reference keys the error grows (1% at 1,000,000 keys, 8% at 2,000,000).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BITS_PER_KEY = 16
N_HASHES = 11
MIN_BITS = 1 << 10
MAX_BITS = 1 << 23
_LOW = np.uint64(0xFFFFFFFF)


def _hashes(keys: pd.Index | list[str]) -> np.ndarray:
    """64-bit hashes of the keys (pandas' SipHash with its fixed key: stable across runs)."""
    return pd.util.hash_array(np.asarray(keys, dtype=object))


def bucket_of(keys: pd.Index | list[str], n_buckets: int) -> np.ndarray:
    """A bucket in [0, n_buckets) per key, from the key alone (so it is the same in every
    sample, which keeps a test on bucket counts valid)."""
    return (_hashes(keys) >> np.uint64(40)).astype(np.int64) % n_buckets


@dataclass(frozen=True, eq=False)
class HashedSet:
    bits: np.ndarray  # uint8, n_bits / 8 bytes
    n_hashes: int = N_HASHES

    @property
    def n_bits(self) -> int:
        return len(self.bits) * 8

    def _positions(self, keys: pd.Index | list[str]) -> np.ndarray:
        """Bit positions, one row per key and one column per hash (double hashing)."""
        h = _hashes(keys)
        h1, h2 = h & _LOW, (h >> np.uint64(32)) | np.uint64(1)
        steps = np.arange(self.n_hashes, dtype=np.uint64)
        with np.errstate(over="ignore"):
            pos = h1[:, None] + steps[None, :] * h2[:, None]
        return (pos & np.uint64(self.n_bits - 1)).astype(np.int64)

    @classmethod
    def from_keys(cls, keys: pd.Index | list[str]) -> HashedSet:
        """The set of these keys, sized at `BITS_PER_KEY` bits per key (a power of two, capped).

        Args:
            keys: the distinct category keys (canonical strings).

        Returns:
            A set that finds every one of them.
        """
        want = max(MIN_BITS, BITS_PER_KEY * len(keys))
        n_bits = min(MAX_BITS, 1 << (want - 1).bit_length())
        out = cls(np.zeros(n_bits // 8, dtype=np.uint8))
        if len(keys):
            pos = out._positions(keys).ravel()
            np.bitwise_or.at(out.bits, pos >> 3, (1 << (pos & 7)).astype(np.uint8))
        return out

    def contains(self, keys: pd.Index | list[str]) -> np.ndarray:
        """Per key, True when the set (probably) holds it; False means certainly not.

        Args:
            keys: category keys (canonical strings).

        Returns:
            A bool array, one entry per key.
        """
        if not len(keys):
            return np.zeros(0, dtype=bool)
        pos = self._positions(keys)
        hit = (self.bits[pos >> 3] >> (pos & 7).astype(np.uint8)) & 1
        return np.asarray(hit.all(axis=1), dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        # kept: part of the stored spec format (hashed into the fingerprint)
        return {
            "n_hashes": self.n_hashes,
            "bits": base64.b64encode(self.bits.tobytes()).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HashedSet:
        bits = np.frombuffer(base64.b64decode(data["bits"]), dtype=np.uint8).copy()
        if len(bits) * 8 < MIN_BITS or len(bits) & (len(bits) - 1):
            raise ValueError("the hashed set's size is not a power of two")
        return cls(bits, int(data["n_hashes"]))

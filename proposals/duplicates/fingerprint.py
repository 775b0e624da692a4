"""Shingles, MinHash signatures and LSH band keys of a proposal's text.

A text is folded (case, ё, punctuation and spacing) and cut into overlapping pieces of
CIVIC_DUPLICATE_SHINGLE letters; letters rather than words, so a changed ending, a typo or
a word added by the next sender of a campaign text moves few pieces. datasketch's MinHash
estimates the Jaccard similarity of two piece sets from fixed-size signatures, and its
MinHashLSH picks the bands (b bands of r rows) that make pairs above the threshold share a
band with high probability. The bands are stored as 64-bit keys in the database, so that
lookups are index reads and the index survives restarts and is shared by every process.
"""

import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH
from django.conf import settings

from proposals.suggest.stemming import KAZAKH_FOLD

_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Params:
    threshold: float
    shingle: int
    num_perm: int
    bands: int
    rows: int

    @property
    def name(self) -> str:
        # "k": Kazakh letters folded (see normalise). A change to how texts are read must
        # change the name: every strategy then regroups on the next sweep.
        return (
            f"minhash-k-c{self.shingle}-p{self.num_perm}-b{self.bands}r{self.rows}"
            f"-t{self.threshold}"
        )


@lru_cache(maxsize=8)
def _params(threshold: float, shingle: int, num_perm: int) -> Params:
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return Params(threshold, shingle, num_perm, lsh.b, lsh.r)


def params() -> Params:
    """The parameters in force, from settings."""
    return _params(
        settings.CIVIC_DUPLICATE_THRESHOLD,
        settings.CIVIC_DUPLICATE_SHINGLE,
        settings.CIVIC_DUPLICATE_NUM_PERM,
    )


def normalise(text: str) -> str:
    """Case, ё/е, punctuation, runs of spaces and Kazakh typed on a Russian keyboard (к for
    қ, о for ө) do not make two texts different."""
    return _NOT_WORD.sub(" ", text.casefold().replace("ё", "е").translate(KAZAKH_FOLD)).strip()


def text_hash(text: str) -> str:
    """Equal for texts that differ only in what `normalise` folds: the exact-text match."""
    return hashlib.blake2b(normalise(text).encode(), digest_size=16).hexdigest()


def shingles(text: str, size: int) -> set[bytes]:
    folded = normalise(text)
    if len(folded) <= size:
        return {folded.encode()} if folded else set()
    return {folded[i : i + size].encode() for i in range(len(folded) - size + 1)}


def _crc32(data: bytes) -> int:
    # A stable 32-bit hash (signatures are stored and compared across processes, which
    # Python's salted hash() would break); MinHash's permutations do the mixing.
    return zlib.crc32(data)


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> np.ndarray:
    return MinHash(num_perm=num_perm).permutations


def signatures(texts: Iterable[str], p: Params) -> list[np.ndarray]:
    """One MinHash signature (uint32 values) per text, computed in bulk."""
    minhashes = MinHash.bulk(
        (shingles(text, p.shingle) for text in texts),
        num_perm=p.num_perm,
        hashfunc=_crc32,
        permutations=_permutations(p.num_perm),
    )
    return [minhash.hashvalues.astype(np.uint32) for minhash in minhashes]


def signature(text: str, p: Params) -> np.ndarray:
    return signatures([text], p)[0]


def to_bytes(values: np.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4")


def band_keys(values: np.ndarray, p: Params) -> list[int]:
    """The signature's b band keys: a band's r values and its number, hashed to 63 bits."""
    raw = values.astype("<u4").tobytes()
    width = p.rows * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                raw[band * width : (band + 1) * width], digest_size=8, salt=band.to_bytes(2)
            ).digest(),
            "big",
            signed=True,
        )
        for band in range(p.bands)
    ]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of the two texts' shingle sets."""
    return float(np.count_nonzero(a == b)) / len(a)

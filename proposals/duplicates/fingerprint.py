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
        # "h": pieces hashed by shingle_hashes; "k": Kazakh letters folded (normalise). A change to how texts are read must
        # change the name: every strategy then regroups on the next sweep.
        return (
            f"minhash-h-k-c{self.shingle}-p{self.num_perm}-b{self.bands}r{self.rows}"
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


def proposal_text(title: str, body: str) -> str:
    """The one text of a proposal that is fingerprinted (and given to the theme suggester):
    stored and fresh signatures must be made from the same text to be compared."""
    return f"{title}\n{body}"


def normalise(text: str) -> str:
    """Case, ё/е, punctuation, runs of spaces and Kazakh typed on a Russian keyboard (к for
    қ, о for ө) do not make two texts different."""
    return _NOT_WORD.sub(" ", text.casefold().replace("ё", "е").translate(KAZAKH_FOLD)).strip()


def _hash_folded(folded: str) -> str:
    return hashlib.blake2b(folded.encode(), digest_size=16).hexdigest()


def text_hash(text: str) -> str:
    """Equal for texts that differ only in what `normalise` folds: the exact-text match."""
    return _hash_folded(normalise(text))


# Window hashes: a polynomial over the letters' code points, wrapping at 2**32, then a
# finaliser that spreads the bits. Computed for all of a text's windows at once by numpy:
# hashing each 5-letter piece in Python was half the time of a whole regrouping.
_BASE = np.uint32(1_000_003)
_MIX = np.uint32(0x9E3779B1)


def shingle_hashes(folded: str, size: int) -> list[int]:
    """The distinct 32-bit hashes of a folded text's pieces of `size` letters."""
    if not folded:
        return []
    codes = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4").astype(np.uint32)
    windows = max(len(codes) - size + 1, 1)
    hashes = np.zeros(windows, dtype=np.uint32)
    for offset in range(min(size, len(codes))):
        hashes = hashes * _BASE + codes[offset : offset + windows]
    hashes ^= hashes >> np.uint32(15)
    hashes *= _MIX
    hashes ^= hashes >> np.uint32(13)
    return np.unique(hashes).tolist()


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> np.ndarray:
    return MinHash(num_perm=num_perm).permutations


def fingerprints(texts: Iterable[str], p: Params) -> list[tuple[str, np.ndarray]]:
    """(text hash, MinHash signature of uint32 values) of each text, computed in bulk."""
    folded = [normalise(text) for text in texts]
    minhashes = MinHash.bulk(
        (shingle_hashes(text, p.shingle) for text in folded),
        num_perm=p.num_perm,
        # The pieces arrive hashed already (stable across processes, unlike hash()).
        hashfunc=int,
        permutations=_permutations(p.num_perm),
    )
    return [
        (_hash_folded(text), minhash.hashvalues.astype(np.uint32))
        for text, minhash in zip(folded, minhashes, strict=True)
    ]


def signatures(texts: Iterable[str], p: Params) -> list[np.ndarray]:
    """One MinHash signature per text."""
    return [signature for _, signature in fingerprints(texts, p)]


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

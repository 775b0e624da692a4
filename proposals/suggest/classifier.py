"""A classifier learned from the themes moderators confirmed, blended with the vocabulary.

Features are the text's word stems (and pairs of neighbouring stems) and its character
3-5-grams, hashed into a fixed space so that a model is only arrays of numbers: no word
list to keep, and a model stored in the database is loaded without unpickling anything.
The linear model is a multinomial logistic regression (scikit-learn, the saga solver: a
second for a thousand texts, where lbfgs took thirty): its probabilities
sum to one over the themes, so they blend with the vocabulary's shares of the evidence.
A proposal with several themes is one training row per theme.

How much the model counts depends on how much it learned in the text's language: with
n confirmed proposals in that language, it weighs n / (n + blend_half) against the
vocabulary's 1 - that. On day one it is nothing and the vocabulary answers alone; a
language nobody has written in yet stays with the vocabulary while another learns. The
training chooses blend_half on the city's own proposals (training.py).
"""

import io
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.utils import murmurhash3_32

from proposals.suggest.stemming import (
    KAZAKH_LETTERS,
    english_stem,
    kazakh_key,
    russian_stem,
    words,
)

# Hashed features (word stems, stem pairs and character n-grams share the space, told
# apart by a prefix): collisions are rare at this size and a model stays a few megabytes.
FEATURES = 2**19
# The model's weight in the blend is n / (n + blend_half) for n texts learned in a
# language; this until the city's proposals are enough to choose.
BLEND_HALF = 150
# Inverse regularisation strength of the logistic regression.
C = 10.0
# Texts scored together: a chunk's feature-by-theme products stay a few megabytes.
CHUNK = 256
# Passes over the data of the saga solver, at most.
MAX_ITERATIONS = 100
# A Kazakh word is keyed by its first letters: endings pile up after the stem.
KAZAKH_KEY_LETTERS = 6

Example = tuple[str, str, list[str]]  # language, text, confirmed theme slugs


def _stem(word: str) -> str:
    if word.isascii():
        return english_stem(word)
    if KAZAKH_LETTERS.intersection(word):
        return kazakh_key(word)[:KAZAKH_KEY_LETTERS]
    return russian_stem(word)


def _stems(text: str) -> list[str]:
    stems = [_stem(word) for word in words(text)]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


def _characters(text: str) -> str:
    return text.casefold().replace("ё", "е")


_CHARACTER_GRAMS = HashingVectorizer(
    analyzer="char_wb", ngram_range=(3, 5), preprocessor=_characters
).build_analyzer()


def _features(text: str) -> list[str]:
    return [f"w {stem}" for stem in _stems(text)] + _CHARACTER_GRAMS(text)


_HASHER = HashingVectorizer(
    analyzer=_features, n_features=FEATURES, alternate_sign=False, norm=None, dtype=np.float32
)


def word_feature(stem: str) -> int:
    """A stem's column: HashingVectorizer's own hash, taken directly, since asking the
    vectorizer word by word costs a hundred times more."""
    return abs(murmurhash3_32(f"w {stem}", seed=0)) % FEATURES


def _counts(texts: Sequence[str]) -> sparse.csr_matrix:
    return _HASHER.transform(texts)


def _weighted(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear term frequency times inverse document frequency, each row of length one.

    On the arrays directly: scikit-learn's and SciPy's helpers check their arguments at a
    cost above the arithmetic's for the one text of a new proposal."""
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    lengths = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
    lengths[lengths == 0] = 1.0
    data /= lengths[rows]
    return sparse.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr), counts.shape)


@dataclass
class Classifier:
    themes: list[str]
    idf: np.ndarray  # (FEATURES,) float32
    coef: np.ndarray  # (themes, FEATURES) float32
    intercept: np.ndarray  # (themes,) float32
    # Distinct confirmed texts learned per language: the weight of the model in the blend.
    learned: dict[str, int] = field(default_factory=dict)
    blend_half: float = BLEND_HALF

    def __post_init__(self) -> None:
        # Features by themes, contiguous: a text's row times this is a few thousand
        # multiplications, where the transposed view made SciPy copy the whole matrix.
        self._columns = np.ascontiguousarray(self.coef.T)

    def weight(self, language: str) -> float:
        learned = self.learned.get(language, 0)
        return learned / (learned + self.blend_half)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, themes): each row sums to one."""
        scores = np.empty((len(texts), len(self.themes)), dtype=np.float64)
        for start in range(0, len(texts), CHUNK):
            scores[start : start + CHUNK] = self._scores(texts[start : start + CHUNK])
        scores += self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def _scores(self, texts: Sequence[str]) -> np.ndarray:
        features = _weighted(_counts(texts), self.idf)
        rows = np.repeat(np.arange(len(texts)), np.diff(features.indptr))
        # Each text's score per theme: its features' weights times the themes' columns,
        # summed per text; cheaper than a sparse product for the usual batch of one.
        contributions = features.data[:, None] * self._columns[features.indices]
        scores = np.empty((len(texts), len(self.themes)), dtype=np.float64)
        for theme in range(len(self.themes)):
            scores[:, theme] = np.bincount(
                rows, weights=contributions[:, theme], minlength=len(texts)
            )
        return scores

    def words_for(self, text: str, theme: str, limit: int = 5) -> list[str]:
        """The words of the text that speak most for a theme, in the model's eyes."""
        row = self.coef[self.themes.index(theme)]
        weights: dict[str, float] = {}
        for word in dict.fromkeys(words(text)):
            index = word_feature(_stem(word))
            weights[word] = float(row[index] * self.idf[index])
        ranked = sorted(weights.items(), key=lambda item: -item[1])
        return [word for word, weight in ranked[:limit] if weight > 0]

    def to_bytes(self) -> bytes:
        # Only the features some text had: the rest of the hashed space is zero.
        used = np.flatnonzero(self.idf)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            used=used.astype(np.int32),
            idf=self.idf[used],
            coef=self.coef[:, used],
            intercept=self.intercept,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(
        cls, data: bytes, *, themes: list[str], learned: dict[str, int], blend_half: float
    ) -> "Classifier":
        arrays = np.load(io.BytesIO(data), allow_pickle=False)
        used = arrays["used"]
        idf = np.zeros(FEATURES, dtype=np.float32)
        idf[used] = arrays["idf"]
        coef = np.zeros((len(themes), FEATURES), dtype=np.float32)
        coef[:, used] = arrays["coef"]
        return cls(themes, idf, coef, arrays["intercept"], learned=learned, blend_half=blend_half)


def fit(examples: Sequence[Example]) -> Classifier | None:
    """Learn from (language, text, themes); None with fewer than two themes to tell apart."""
    rows = [(text, slug) for _, text, slugs in examples for slug in slugs]
    themes = sorted({slug for _, slug in rows})
    if len(themes) < 2:
        return None
    counts = _counts([text for _, text, _ in examples])
    # Document frequency over distinct texts, smoothed as scikit-learn's TfidfTransformer is.
    document_frequency = np.bincount(counts.indices, minlength=FEATURES)
    idf = np.where(
        document_frequency > 0,
        np.log((1 + len(examples)) / (1 + document_frequency)) + 1.0,
        0.0,
    ).astype(np.float32)
    # Only the features some text has: the solver's work and memory scale with those.
    used = np.flatnonzero(document_frequency)
    features = _weighted(counts, idf)[:, used]
    # One row per (text, theme): a proposal about two themes teaches both.
    text_rows = np.repeat(np.arange(len(examples)), [len(slugs) for _, _, slugs in examples])
    labels = np.array([themes.index(slug) for _, slug in rows])
    # A fixed seed for saga's shuffling: the same proposals always make the same model.
    model = LogisticRegression(
        C=C, solver="saga", max_iter=MAX_ITERATIONS, tol=1e-3, random_state=0
    )
    with warnings.catch_warnings():
        # Stopping at MAX_ITERATIONS before the tolerance is met costs nothing measurable.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features[text_rows], labels)
    coef = np.zeros((len(themes), FEATURES), dtype=np.float32)
    intercept = np.zeros(len(themes), dtype=np.float32)
    if len(themes) == 2:
        # Two themes: scikit-learn keeps one row, the second theme's log-odds; a softmax
        # over (0, those) gives the same probabilities.
        coef[1, used], intercept[1] = model.coef_[0], model.intercept_[0]
    else:
        coef[:, used], intercept[:] = model.coef_, model.intercept_
    return Classifier(
        themes=themes,
        idf=idf,
        coef=coef,
        intercept=intercept,
        learned=dict(Counter(language for language, _, _ in examples)),
    )

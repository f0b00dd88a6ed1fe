"""The test set's public and private parts, as Kaggle splits a competition's test set.

Until the deadline a leaderboard shows each model's accuracy on the public part only; after
it, the private part (which nobody saw scores for) decides the ranking. The split is a fixed
random draw, the same for every submission and the reference, so their figures compare.
"""

from __future__ import annotations

import numpy as np

PUBLIC_FRACTION = 0.3
SPLIT_SEED = 20_261_122


def public_mask(count: int) -> np.ndarray:
    """A boolean mask over ``count`` test images: True for the public part."""
    mask = np.zeros(count, dtype=bool)
    chosen = np.random.default_rng(SPLIT_SEED).permutation(count)[: round(count * PUBLIC_FRACTION)]
    mask[chosen] = True
    return mask

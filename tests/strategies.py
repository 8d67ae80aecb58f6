"""Hypothesis strategies shared by the test files: random softmax problems.

A problem is (W, X, y) with the kit's shapes: W (D, C), X (N, D), y (N,),
drawn in float64 with N >= 1 and C >= 2 so the edge cases N = 1 and C = 2
come up often (Hypothesis shrinks towards them).
"""

import numpy as np
from hypothesis import strategies as st

MAX_EXAMPLES = 12  # N: small keeps the naive double loop fast
MAX_FEATURES = 8  # D
MAX_CLASSES = 6  # C


@st.composite
def softmax_problems(draw, weight_scale: float = 1.0):
    """Draw (W, X, y): W (D, C), X (N, D) float64, y (N,) int64 labels in [0, C)."""
    num_train = draw(st.integers(1, MAX_EXAMPLES))
    dim = draw(st.integers(1, MAX_FEATURES))
    num_classes = draw(st.integers(2, MAX_CLASSES))
    # One seed instead of drawing every float: fast, and still shrinkable.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = weight_scale * rng.standard_normal((dim, num_classes))
    X = rng.standard_normal((num_train, dim))
    y = rng.integers(0, num_classes, size=num_train)
    return W, X, y


regs = st.sampled_from([0.0, 1e-3, 0.5, 10.0])

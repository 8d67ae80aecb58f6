"""The solution regions the self-test's suite fills, and its own correct code for each.

Every classic mistake of the rubric (instructor/grading/rubric.py) is an edit
of this code; every submission of the suite (instructor/grading/suite.py) is
this code with some edits. It is written apart from the reference solution,
so the suite keeps working when the reference is rewritten: it relies only
on the order of the regions in the instructor's graded files.
"""

from __future__ import annotations

SOFTMAX, LINEAR = "classifiers/softmax.py", "classifiers/linear_classifier.py"
# The solution regions, by file and order: softmax.py's naive then vectorized loss;
# linear_classifier.py's batch, update and predict.
NAIVE, VECTORIZED = (SOFTMAX, 0), (SOFTMAX, 1)
BATCH, UPDATE, PREDICT = (LINEAR, 0), (LINEAR, 1), (LINEAR, 2)
FUNCTION_OF = {NAIVE: "softmax_loss_naive", VECTORIZED: "softmax_loss_vectorized"}

# The suite's own correct code for every solution region: the kit's setup lines
# (loss = 0.0, dW = np.zeros_like(W), X_batch = None, ...) sit outside the regions.
# Written apart from the reference solution, so the suite keeps working when the
# reference is rewritten; it relies only on the order of the regions.
CORRECT = {
    NAIVE: """\
num_train, num_classes = X.shape[0], W.shape[1]
for i in range(num_train):
    row = X[i] @ W
    shifted = row - np.max(row)
    log_norm = np.log(np.sum(np.exp(shifted)))
    loss += log_norm - shifted[y[i]]
    for j in range(num_classes):
        p_j = np.exp(shifted[j] - log_norm)
        dW[:, j] += (p_j - (j == y[i])) * X[i]
loss = loss / num_train + reg * np.sum(W * W)
dW = dW / num_train + 2 * reg * W
""",
    VECTORIZED: """\
num_train = X.shape[0]
rows = np.arange(num_train)
scores = X @ W
scores = scores - np.max(scores, axis=1, keepdims=True)
log_norm = np.log(np.sum(np.exp(scores), axis=1))
loss = np.mean(log_norm - scores[rows, y]) + reg * np.sum(W * W)
dscores = np.exp(scores - log_norm[:, None])
dscores[rows, y] -= 1
dW = X.T @ dscores / num_train + 2 * reg * W
""",
    BATCH: """\
batch = rng.integers(0, num_train, size=batch_size)
X_batch = X[batch]
y_batch = y[batch]
""",
    UPDATE: "self.W -= learning_rate * grad\n",
    PREDICT: "y_pred = np.argmax(X @ self.W, axis=1)\n",
}


def edit(region, old: str, new: str) -> tuple:
    """Replace `old` (which must occur once) by `new` in a region's correct code."""
    return (region, old, new)


def body(region, text: str) -> tuple:
    """Replace a region's code by `text`."""
    return ("body", region, text)

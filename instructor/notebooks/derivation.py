# ---
# jupyter:
#   jupytext:
#     formats: ipynb,instructor/notebooks//py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (softmax kit)
#     language: python
#     name: softmax-kit
# ---

# %% [markdown] id="title"
# # The softmax gradient, derived and checked
#
# A companion to [assignment.ipynb](assignment.ipynb) for anyone who wants every
# step of the derivation, and proof of each one. It answers the questions people
# most often get stuck on:
#
# 1. What cross-entropy is in general, and why it becomes $-\log p_y$.
# 2. Why the gradient has a $-1$ at the correct class only; what "the derivative
#    with respect to an index" means; how the Jacobian
#    $\operatorname{diag}(p) - p\,p^\top$ turns into $p - \operatorname{onehot}(y)$.
# 3. How the older transposed code (`W` of shape (C, D), `X` of shape (D, N),
#    `0.5 * reg`) maps onto this kit's conventions.
# 4. Where `inf`, `nan` and `-inf` come from, and how log-sum-exp avoids them.
# 5. The two-class case (the sigmoid), the Hessian and convexity, and the bias.
#
# Every claim is followed by a **check cell** that tests it numerically and prints
# `PASSED` with the numbers, or stops with `FAILED` and the numbers. Run the
# cells in order (*Run All* works) on the kit's kernel, **Python (softmax kit, …)**,
# as for the assignment. Nothing here needs your code in `classifiers/`, so you can
# read it before, during or after the assignment.
#
# **What you will not find here** is the assignment's answer: everything works
# on one score vector, or on a handful of tiny examples in the older layout.
#
# **Notation.** One example has scores $s \in \mathbb{R}^C$ (one per class),
# probabilities $p = \operatorname{softmax}(s)$, and a label $y$, its correct
# class. In code these are `s`, `p` and `label`; $\operatorname{onehot}(y)$ is
# the vector with a 1 at position $y$ and 0 elsewhere, `np.eye(C)[label]`.
# $[k = y]$ is 1 when $k = y$ and 0 otherwise.

# %% id="setup"
import numpy as np

import gradient_check

# Tolerances. Each check prints the number it measured.
ROUNDING_TOL = 1e-12  # two float64 computations of the same number differ by rounding only
# Finite differences (gradient_check's centred difference, step 1e-6) on scores
# of size ~1: over 200 random score vectors of 10 classes the worst relative error
# of a correct formula was 3.5e-8 (median 3e-9); a wrong one is off by 1e-2 or more.
FINITE_DIFF_TOL = 1e-7
# A second derivative by finite differences with step 1e-4: truncation error
# ~1e-8, rounding error ~1e-16 / (1e-4)**2 = 1e-8.
SECOND_DIFF_STEP = 1e-4
SECOND_DIFF_TOL = 1e-6
FLOAT32_RTOL = 1e-6  # float32 keeps about 7 significant digits


def check(claim: str, holds: bool, numbers: str) -> None:
    """Print PASSED and the numbers if `claim` holds; otherwise stop with FAILED."""
    if not holds:
        raise AssertionError(f"FAILED: {claim} ({numbers})")
    print(f"PASSED: {claim} ({numbers})")


def log_sum_exp(s: np.ndarray) -> float:
    """log(sum_k exp(s_k)) of a score vector s of shape (C,), without overflow (section 4)."""
    m = np.max(s)
    return m + np.log(np.sum(np.exp(s - m)))


def softmax_vector(s: np.ndarray) -> np.ndarray:
    """Softmax of a score vector s of shape (C,): probabilities of shape (C,)."""
    e = np.exp(s - np.max(s))  # the max shift of section 4; it changes no probability
    return e / np.sum(e)


def cross_entropy(t: np.ndarray, s: np.ndarray) -> float:
    """H(t, softmax(s)) = -sum_j t_j log p_j for a target t and scores s, both (C,)."""
    log_p = s - log_sum_exp(s)  # log p_j = s_j - log sum_k exp(s_k), never log(0)
    return float(-np.sum(t * log_p))


C = 5  # classes in the small examples
rng = np.random.default_rng(0)
s = rng.standard_normal(C)  # the scores of one example, (C,)
label = 2  # its correct class
p = softmax_vector(s)  # (C,)
onehot = np.eye(C)[label]  # (C,)
print("s =", np.round(s, 3), "  label =", label)
print("p =", np.round(p, 3), "  sum of p =", p.sum())

# %% [markdown] id="cross-entropy"
# ## 1. Cross-entropy, in general
#
# Cross-entropy compares a **target distribution** $t$ (what the answer should
# be: $t_j \ge 0$, $\sum_j t_j = 1$) with the predicted probabilities $p$:
#
# $$ H(t, p) = -\sum_{j=1}^{C} t_j \log p_j . $$
#
# With a hard label $y$ the target is one-hot, $t = \operatorname{onehot}(y)$:
# every term but $j = y$ is multiplied by 0, which leaves
#
# $$ H(\operatorname{onehot}(y), p) = -\log p_y , $$
#
# the loss of the assignment. Soft targets occur too: label smoothing (e.g.
# 0.8 on the correct class, the rest shared among the others), or a teacher
# model's probabilities in distillation.
#
# **The gradient for any target.** Write $\log p_j = s_j - \log Z$ with
# $Z = \sum_k e^{s_k}$. Then
#
# $$ H = -\sum_j t_j s_j + \Big(\sum_j t_j\Big) \log Z , \qquad
#    \frac{\partial H}{\partial s_k} = -t_k + \Big(\sum_j t_j\Big)\, p_k
#    = p_k - t_k , $$
#
# using $\partial \log Z / \partial s_k = e^{s_k} / Z = p_k$ and, in the last
# step, $\sum_j t_j = 1$. So $\partial H / \partial s = p - t$ for every target
# distribution, and $p - \operatorname{onehot}(y)$ is the one-hot case. (If the
# target did not sum to 1, the gradient would be $(\sum_j t_j)\,p - t$.)

# %% id="check-cross-entropy" tags=["check"]
t = np.array([0.05, 0.05, 0.8, 0.05, 0.05])  # a soft target: 0.8 on the label, 0.2 shared
dH_ds = gradient_check.eval_numerical_gradient(lambda v: cross_entropy(t, v), s.copy())
soft_error = gradient_check.rel_error(p - t, dH_ds)
check("dH/ds = p - t for a soft target, against finite differences", soft_error < FINITE_DIFF_TOL,
      f"relative error {soft_error:.1e}")

one_hot_gap = abs(cross_entropy(onehot, s) - (-np.log(p[label])))
check("with a one-hot target, H(t, p) = -log p_y", one_hot_gap < ROUNDING_TOL, f"difference {one_hot_gap:.1e}")

t_half = 0.5 * t  # sums to 0.5, not a distribution
dH_half = gradient_check.eval_numerical_gradient(lambda v: cross_entropy(t_half, v), s.copy())
half_error = gradient_check.rel_error(t_half.sum() * p - t_half, dH_half)
check("a target summing to 0.5 has gradient 0.5 p - t, not p - t", half_error < FINITE_DIFF_TOL,
      f"relative error {half_error:.1e}; p - t would be off by "
      f"{gradient_check.rel_error(p - t_half, dH_half):.1e}")

# %% [markdown] id="two-routes"
# ## 2. Two routes to $\partial L / \partial s = p - \operatorname{onehot}(y)$
#
# **"The derivative with respect to an index."** An index is not a variable:
# "the derivative with respect to index $k$" is shorthand for the partial
# derivative with respect to the score $s_k$, all other scores held fixed; $k$
# only says which of the $C$ variables moves, so the answer is one formula per
# $k$, and stacking them for $k = 1, \dots, C$ gives the gradient vector.
#
# ### The direct route: log-sum-exp
#
# Write the loss of one example without the probabilities:
#
# $$ L = -\log p_y = -\log \frac{e^{s_y}}{\sum_k e^{s_k}}
#      = -s_y + \log \sum_{k=1}^{C} e^{s_k} . $$
#
# Differentiate with respect to one score $s_k$. The first term contains only
# $s_y$, so it contributes $-1$ when $k = y$ and nothing otherwise; the second
# contributes $e^{s_k} / \sum_m e^{s_m} = p_k$ for every $k$:
#
# $$ \frac{\partial L}{\partial s_k} = -[k = y] + p_k =
#    \begin{cases} p_y - 1 & k = y, \\ p_k & k \ne y. \end{cases} $$
#
# That is the whole answer to "why $-1$ at the correct class only": the correct
# score is the only one that appears outside the log-sum-exp.
#
# ### The Jacobian route
#
# First, how does each probability $p_j = e^{s_j} / Z$ move with each score
# $s_k$? The quotient rule, with $\partial Z / \partial s_k = e^{s_k}$, has two
# cases.
#
# - **Same index, $j = k$** (the diagonal): the numerator depends on $s_j$ too,
#   $$ \frac{\partial p_j}{\partial s_j} = \frac{e^{s_j} Z - e^{s_j} e^{s_j}}{Z^2}
#      = p_j - p_j^2 = p_j\,(1 - p_j) . $$
# - **Different indices, $j \ne k$** (off the diagonal): only $Z$ depends on $s_k$,
#   $$ \frac{\partial p_j}{\partial s_k} = \frac{0 \cdot Z - e^{s_j} e^{s_k}}{Z^2}
#      = -p_j\,p_k . $$
#
# Together, $J_{jk} = \partial p_j / \partial s_k$ is the $C \times C$ matrix
# $J = \operatorname{diag}(p) - p\,p^\top$: row $j$ says how $p_j$ responds to
# every score.
#
# Then the chain rule. $L = -\log p_y$ depends on the scores only through the
# single probability $p_y$, with $\partial L / \partial p_y = -1/p_y$, so
#
# $$ \frac{\partial L}{\partial s_k} = -\frac{1}{p_y}\, J_{yk} =
#    \begin{cases} -\frac{1}{p_y}\, p_y (1 - p_y) = p_y - 1 & k = y, \\[2pt]
#                  -\frac{1}{p_y}\,(-p_y\, p_k) = p_k & k \ne y, \end{cases}
#    \qquad\text{that is}\qquad
#    \frac{\partial L}{\partial s} = -\frac{J[y, :]}{p_y} . $$
#
# Only **row $y$** of $J$ is used; the other $C - 1$ rows (how the wrong classes'
# probabilities move) never enter the loss of this example. Nothing "collapses":
# one row of $J$, divided by $-p_y$, is already $p - \operatorname{onehot}(y)$.

# %% id="check-two-routes" tags=["check"]
J = np.diag(p) - np.outer(p, p)  # (C, C): J[j, k] = d p_j / d s_k
# Row j of the Jacobian is the gradient of p_j(s); the checker perturbs a copy of s.
J_numeric = np.array([
    gradient_check.eval_numerical_gradient(lambda v, j=j: softmax_vector(v)[j], s.copy()) for j in range(C)
])
off_diagonal = ~np.eye(C, dtype=bool)
diagonal_error = gradient_check.rel_error(p * (1 - p), np.diag(J_numeric))
off_diagonal_error = gradient_check.rel_error(-np.outer(p, p)[off_diagonal], J_numeric[off_diagonal])
check("diagonal: d p_j / d s_j = p_j (1 - p_j)", diagonal_error < FINITE_DIFF_TOL,
      f"relative error {diagonal_error:.1e}")
check("off the diagonal: d p_j / d s_k = -p_j p_k", off_diagonal_error < FINITE_DIFF_TOL,
      f"relative error {off_diagonal_error:.1e}")
matrix_error = gradient_check.rel_error(J, J_numeric)
check("both cases in one matrix: J = diag(p) - p p^T", matrix_error < FINITE_DIFF_TOL,
      f"relative error {matrix_error:.1e}")

dL_ds = gradient_check.eval_numerical_gradient(lambda v: log_sum_exp(v) - v[label], s.copy())
direct_error = gradient_check.rel_error(p - onehot, dL_ds)
check("direct route: dL/ds_k = p_k - [k = y], against finite differences", direct_error < FINITE_DIFF_TOL,
      f"relative error {direct_error:.1e}")
row_gap = np.max(np.abs(-J[label, :] / p[label] - (p - onehot)))
check("Jacobian route: -J[y, :] / p_y = p - onehot(y)", row_gap < ROUNDING_TOL, f"largest difference {row_gap:.1e}")

# %% [markdown] id="jacobian-sums"
# ### The sums of $J$
#
# - **Every column sums to 0.** Column $k$ holds how all the probabilities move
#   when $s_k$ moves; they always sum to 1, so their changes sum to 0:
#   $\sum_j \partial p_j / \partial s_k = \partial (\sum_j p_j) / \partial s_k
#   = \partial 1 / \partial s_k = 0$.
# - **Every row sums to 0.** Row $j$ summed is the change of $p_j$ when every
#   score moves by the same amount, and adding a constant to every score
#   changes no probability (it cancels between numerator and denominator). This
#   reason is enough on its own, and so is another: $J$ is symmetric, so its rows
#   are its columns, and the first bullet applies.
#
# Algebraically: a column sum is $p_k - p_k \sum_j p_j = 0$.

# %% id="check-jacobian-sums" tags=["check"]
column_sums, row_sums = J.sum(axis=0), J.sum(axis=1)
check("every column of J sums to 0", np.max(np.abs(column_sums)) < ROUNDING_TOL,
      f"largest |column sum| {np.max(np.abs(column_sums)):.1e}")
check("every row of J sums to 0", np.max(np.abs(row_sums)) < ROUNDING_TOL,
      f"largest |row sum| {np.max(np.abs(row_sums)):.1e}")
shift_gap = np.max(np.abs(softmax_vector(s + 123.0) - p))
check("adding 123 to every score changes no probability", shift_gap < ROUNDING_TOL,
      f"largest change {shift_gap:.1e}")

# %% [markdown] id="older-layout"
# ## 3. Reading the older code: transposed layout, `0.5 * reg`
#
# Lecture notes and many answers online store the model transposed and halve
# the penalty: `W` of shape (C, D) (class $j$'s weights are **row** $j$), `X` of
# shape (D, N) (example $i$ is **column** $i$), and the penalty
# $\tfrac12 \lambda \lVert W \rVert^2$, whose gradient is $\lambda W$. This kit
# uses `W` (D, C), `X` (N, D) and `reg * np.sum(W**2)`, whose gradient is
# `2 * reg * W`. The two penalties are equal when $\lambda = 2\,\text{reg}$.
#
# The next cell makes a tiny problem in the kit's layout (N = 6 examples of
# D = 4 features, C = 3 classes), then runs the older code, line for line as it
# is usually written, on `W.T` and `X.T` with `lam = 2 * reg` (the older code
# calls it `reg`; it is renamed here so that it does not overwrite ours).

# %% id="older-code"
N, D, C_small = 6, 4, 3
rng = np.random.default_rng(1)
X = rng.standard_normal((N, D))  # (N, D): the kit's layout, one example per row
y = rng.integers(0, C_small, size=N)  # (N,)
W = 0.5 * rng.standard_normal((D, C_small))  # (D, C)
reg = 0.1

# The older code. Layout: W (C, D), X (D, N), penalty 0.5 * lam * ||W||^2.
W_old, X_old, lam = W.T, X.T, 2 * reg  # (C, D), (D, N), lambda = 2 * reg
num_classes, num_train = W_old.shape[0], X_old.shape[1]
loss_old = 0.0
dW_old = np.zeros_like(W_old)  # (C, D)
for i in range(num_train):
    scores = W_old.dot(X_old[:, i])  # (C,)
    scores -= np.max(scores)
    p_i = np.exp(scores) / np.sum(np.exp(scores))  # older code: p
    loss_old += -np.log(p_i[y[i]])
    for j in range(num_classes):
        dW_old[j, :] += (p_i[j] - (j == y[i])) * X_old[:, i]
loss_old /= num_train
dW_old /= num_train
loss_old += 0.5 * lam * np.sum(W_old * W_old)
dW_old += lam * W_old
print(f"older code: loss {loss_old:.6f}, dW of shape {dW_old.shape}")

# %% [markdown] id="older-compare"
# What to compare it with: the kit's loss, written straight from its
# definition (the mean cross-entropy of the rows of `X`, plus
# `reg * np.sum(W**2)`), and its gradient by finite differences, so that the
# check relies on no formula of the older code. The older code's `dW_old`
# should be the transpose of that gradient.

# %% id="check-older-code" tags=["check"]
def kit_loss(W_kit: np.ndarray) -> float:
    """The kit's loss of the tiny problem above at weights W_kit (D, C)."""
    data_loss = np.mean([cross_entropy(np.eye(C_small)[y[i]], X[i] @ W_kit) for i in range(N)])
    return float(data_loss + reg * np.sum(W_kit**2))


kit_dW = gradient_check.eval_numerical_gradient(kit_loss, W.copy())  # (D, C)
loss_gap = abs(loss_old - kit_loss(W))
layout_error = gradient_check.rel_error(dW_old.T, kit_dW)
check("the older code's loss with lam = 2 * reg equals the kit's loss with reg", loss_gap < ROUNDING_TOL,
      f"{loss_old:.12f} vs {kit_loss(W):.12f}")
check("the older code's dW, transposed, is the kit's gradient", layout_error < FINITE_DIFF_TOL,
      f"relative error {layout_error:.1e}")
# The classic slip: passing our reg as their lam. The data part is unchanged, the
# penalty (and its gradient) comes out half as large.
penalty_if_lam_is_reg, kit_penalty = 0.5 * reg * np.sum(W_old * W_old), reg * np.sum(W**2)
check("with lam = reg (not 2 * reg) the older penalty is half the kit's",
      abs(penalty_if_lam_is_reg / kit_penalty - 0.5) < ROUNDING_TOL,
      f"{penalty_if_lam_is_reg:.6f} vs {kit_penalty:.6f}")

# %% [markdown] id="older-lines"
# **The older lines, one by one, in this kit's notation.** The left column is
# the cell above, line for line (with `W_old`, `X_old`, `dW_old`, `loss_old`,
# `p_i` and `lam` where the older code says `W`, `X`, `dW`, `loss`, `p` and
# `reg`). On the right, $x$ is example $i$ (a column of `X_old`, a row of our
# `X`) and $W_{dj}$ is our weight of feature $d$ for class $j$, their
# `W_old[j, d]`.
#
# | older code, `W_old` (C, D), `X_old` (D, N) | what it computes, in the kit's notation |
# |---|---|
# | `scores = W_old.dot(X_old[:, i])` | $s_j = \sum_d x_d W_{dj}$: the same C scores as $s = x W$; their row $j$ is our column $j$ |
# | `scores -= np.max(scores)` | the max shift of section 4; it changes no $p_j$ |
# | `p_i = np.exp(scores) / np.sum(np.exp(scores))` | $p = \operatorname{softmax}(s)$ |
# | `loss_old += -np.log(p_i[y[i]])` | $L_i = -\log p_y$ (the kit asks for the log-sum-exp form, section 4) |
# | `dW_old[j, :] += (p_i[j] - (j == y[i])) * X_old[:, i]` | $\partial L_i / \partial W_{dj} = x_d\,(p_j - [j = y])$ for every $d$ at once: their row $j$ of `dW` is our column $j$ |
# | `loss_old /= num_train`, `dW_old /= num_train` | the mean over the N examples, $\frac1N \sum_i$ |
# | `loss_old += 0.5 * lam * np.sum(W_old * W_old)` | $\tfrac12 \lambda \lVert W \rVert^2 = \text{reg} \sum_{d,j} W_{dj}^2$, since $\lambda = 2\,\text{reg}$ |
# | `dW_old += lam * W_old` | $\lambda W^\top = 2\,\text{reg}\,W^\top$: the penalty's gradient, transposed |
#
# **`(j == y[i])` is a number.** `j == y[i]` is a boolean, `True` or `False`,
# and in arithmetic Python counts `True` as 1 and `False` as 0 (`bool` is a
# subclass of `int`). So `p[j] - (j == y[i])` is $p_j - 1$ at the correct class
# and $p_j$ at every other: exactly $p_j - [j = y]$. With NumPy labels `y[i]`
# is an `np.int64` and the comparison gives an `np.bool_`, which NumPy also
# treats as 1 or 0 next to a float.

# %% id="check-bool" tags=["check"]
check("True counts as 1 and False as 0 in arithmetic",
      True == 1 and False == 0 and 0.25 - True == -0.75 and 0.25 - False == 0.25,
      f"0.25 - True = {0.25 - True}, 0.25 - False = {0.25 - False}")
np_bool = 2 == np.int64(2)  # what j == y[i] gives with NumPy labels
check("NumPy's bool does the same next to a float", np.float64(0.25) - np_bool == -0.75,
      f"type {type(np_bool).__name__}, np.float64(0.25) - (2 == np.int64(2)) = {np.float64(0.25) - np_bool}")
indicator = np.array([p[j] - (j == label) for j in range(C)])
check("[p_j - (j == y) for every j] is p - onehot(y)", np.array_equal(indicator, p - onehot),
      f"{np.round(indicator, 3)}")

# %% [markdown] id="stability"
# ## 4. Keeping it finite
#
# `np.exp` **overflows** to `inf` once its argument passes
# $\log(\text{largest float})$: about 709.78 in float64 and 88.72 in float32.
# At the other end it **underflows**: below about $-708$ (float64) or $-87$
# (float32) the result loses precision (subnormal numbers), and past about
# $-745$ (float64) or $-104$ (float32) it is exactly 0.
#
# Three ways to compute $L = -\log p_y$:
#
# - **naive**: `-np.log(np.exp(s[y]) / np.sum(np.exp(s)))`. One score above the
#   overflow threshold makes the sum `inf`; then `inf / inf` is `nan` (when
#   $s_y$ is that score) or `finite / inf` is 0 and `np.log(0)` is `-inf`.
# - **max shift**: subtract $m = \max_k s_k$ first. Every exponent is now at most
#   0 and the sum at least 1, so nothing overflows and $p$ is accurate. But if
#   $s_y - m$ is below the underflow threshold, $p_y$ is exactly 0 and
#   `np.log(p_y)` is still `-inf`.
# - **log-sum-exp**: never take the log of a probability:
#   $$ L = \log \sum_k e^{s_k - m} - (s_y - m) . $$
#   The sum lies between 1 and $C$, so its log is finite, and $s_y - m$ is a
#   plain difference: $L$ is finite, and accurate to rounding, for any finite
#   scores.
#
# The gradient needs $p$, not $\log p$, so the max shift is enough for it:
# $p_y = 0$ gives $p_y - 1 = -1$, the right limit.

# %% id="check-thresholds" tags=["check"]
with np.errstate(over="ignore", under="ignore"):  # the overflows below are the point
    check("float64: exp(709) is finite, exp(710) overflows to inf",
          np.isfinite(np.exp(709.0)) and np.exp(710.0) == np.inf,
          f"exp(709) = {np.exp(709.0):.3e}, log(largest float64) = {np.log(np.finfo(np.float64).max):.2f}")
    check("float32: exp(88) is finite, exp(89) overflows to inf",
          np.isfinite(np.exp(np.float32(88))) and np.exp(np.float32(89)) == np.inf,
          f"exp(88) = {np.exp(np.float32(88)):.3e}, log(largest float32) = {np.log(np.finfo(np.float32).max):.2f}")
    check("float64: exp(-740) > 0, exp(-750) underflows to 0",
          np.exp(-740.0) > 0 and np.exp(-750.0) == 0, f"exp(-740) = {np.exp(-740.0):.1e}")
    check("float32: exp(-87) > 0, exp(-110) underflows to 0",
          np.exp(np.float32(-87)) > 0 and np.exp(np.float32(-110)) == 0,
          f"exp(-87) = {np.exp(np.float32(-87)):.1e}")

# %% [markdown] id="three-forms"
# Now the three forms side by side on two classes, in both precisions. The
# table shows $\log p_y$ as the naive and the max-shift forms compute it (the
# loss is its negative) and the loss by log-sum-exp; the last column is NumPy's
# own stable two-class formula, `np.logaddexp(0, s_other - s_y)`
# $= \log(1 + e^{s_\text{other} - s_y})$, for comparison.

# %% id="check-three-forms" tags=["check"]
def log_p_naive(s_vec, k):
    return np.log(np.exp(s_vec[k]) / np.sum(np.exp(s_vec)))


def log_p_max_shift(s_vec, k):
    e = np.exp(s_vec - np.max(s_vec))
    return np.log(e[k] / np.sum(e))


def loss_log_sum_exp(s_vec, k):
    shifted = s_vec - np.max(s_vec)
    return np.log(np.sum(np.exp(shifted))) - shifted[k]


# (scores, label, log p_y of the naive form, log p_y of the max shift)
cases = [([1000.0, 0.0], 0, "nan", "finite"),  # naive: exp(1000) = inf, inf / inf = nan
         ([1000.0, 0.0], 1, "-inf", "-inf"),  # naive: 1 / inf = 0; shifted: exp(-1000) = 0
         ([0.0, -800.0], 1, "-inf", "-inf")]  # exp(-800) = 0 in both precisions
is_a = {"nan": np.isnan, "-inf": np.isneginf, "finite": np.isfinite}
rows = []
with np.errstate(all="ignore"):  # overflow, underflow, inf / inf and log(0) are the point
    for scores_list, k, naive_expected, shift_expected in cases:
        for dtype in (np.float64, np.float32):
            s_vec = np.array(scores_list, dtype=dtype)
            rows.append((scores_list, k, dtype, naive_expected, shift_expected, log_p_naive(s_vec, k),
                         log_p_max_shift(s_vec, k), loss_log_sum_exp(s_vec, k),
                         np.logaddexp(dtype(0), s_vec[1 - k] - s_vec[k])))

with np.errstate(over="ignore"):
    print("where the naive form meets inf: np.exp([1000, 0]) =", np.exp(np.array([1000.0, 0.0])),
          "in float64 and", np.exp(np.array([1000.0, 0.0], dtype=np.float32)), "in float32\n")
print(f"{'scores':>14} {'y':>2} {'dtype':>8} | {'naive log p_y':>13} {'max-shift log p_y':>17} | "
      f"{'log-sum-exp loss':>16} {'np.logaddexp':>12}")
for scores_list, k, dtype, _, _, naive, shifted, stable, reference in rows:
    print(f"{str(scores_list):>14} {k:>2} {dtype.__name__:>8} | {naive:>13.4g} {shifted + 0.0:>17.4g} | "
          f"{stable:>16.4g} {reference:>12.4g}")
print()
for scores_list, k, dtype, naive_expected, shift_expected, naive, shifted, stable, reference in rows:
    where = f"{scores_list}, y = {k}, {dtype.__name__}"
    check(f"{where}: log p_y is {naive_expected} naive, {shift_expected} with the max shift",
          is_a[naive_expected](naive) and is_a[shift_expected](shifted), f"{naive} and {shifted}")
    check(f"{where}: the log-sum-exp loss stays finite and {dtype.__name__}, and is right",
          np.isfinite(stable) and stable.dtype == dtype
          and abs(stable - reference) <= FLOAT32_RTOL * max(1.0, abs(reference)),
          f"{stable:g}, reference {reference:g}")

# %% [markdown] id="three-forms-after"
# In the `-inf` rows the probability $p_y$ came out as exactly 0, so the loss
# $-\log p_y$ would be `inf`. The true losses are 1000 and 800: large, but
# perfectly representable, and only the log-sum-exp form gets them.

# %% [markdown] id="sigmoid"
# ## 5. Two classes: the sigmoid
#
# With $C = 2$ and classes 0 and 1, divide numerator and denominator by
# $e^{s_1}$:
#
# $$ p_1 = \frac{e^{s_1}}{e^{s_0} + e^{s_1}} = \frac{1}{1 + e^{-(s_1 - s_0)}}
#        = \sigma(z), \qquad z = s_1 - s_0 , $$
#
# and $p_0 = 1 - \sigma(z)$. With a label $y \in \{0, 1\}$ the cross-entropy is
# the logistic loss $L = -y \log \sigma(z) - (1 - y) \log(1 - \sigma(z))$, and
# since $\sigma'(z) = \sigma(z)(1 - \sigma(z))$,
#
# $$ \frac{\partial L}{\partial z} = \sigma(z) - y , $$
#
# the familiar logistic-regression gradient. It agrees with section 2:
# $\partial L / \partial s = p - \operatorname{onehot}(y) =
# (\sigma(z) - y)\,(-1, 1)$, because $s_1$ enters $z$ with $+1$ and $s_0$ with $-1$.

# %% id="check-sigmoid" tags=["check"]
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


s2 = np.array([0.3, -1.1])  # two scores (s_0, s_1)
z = np.array([s2[1] - s2[0]])
sigmoid_gap = abs(softmax_vector(s2)[1] - sigmoid(z[0]))
check("softmax of (s_0, s_1) gives p_1 = sigmoid(s_1 - s_0)", sigmoid_gap < ROUNDING_TOL,
      f"difference {sigmoid_gap:.1e}")
for y2 in (0, 1):
    def logistic_loss(z_vec, y2=y2):
        q = sigmoid(z_vec[0])
        return -y2 * np.log(q) - (1 - y2) * np.log(1 - q)

    same_loss = abs(logistic_loss(z) - cross_entropy(np.eye(2)[y2], s2))
    dL_dz = gradient_check.eval_numerical_gradient(logistic_loss, z.copy())
    sigmoid_error = gradient_check.rel_error(sigmoid(z) - y2, dL_dz)
    check(f"y = {y2}: the logistic loss is the cross-entropy, and dL/dz = sigmoid(z) - y",
          same_loss < ROUNDING_TOL and sigmoid_error < FINITE_DIFF_TOL,
          f"loss difference {same_loss:.1e}, gradient relative error {sigmoid_error:.1e}")
    split_gap = np.max(np.abs(softmax_vector(s2) - np.eye(2)[y2] - (sigmoid(z[0]) - y2) * np.array([-1.0, 1.0])))
    check(f"y = {y2}: p - onehot(y) = (sigmoid(z) - y) * (-1, 1)", split_gap < ROUNDING_TOL,
          f"difference {split_gap:.1e}")

# %% [markdown] id="hessian"
# ## 6. The Jacobian is the Hessian, so the loss is convex
#
# Differentiate the gradient once more. $\partial L / \partial s =
# p - \operatorname{onehot}(y)$, and the one-hot part is a constant, so the
# matrix of second derivatives (the Hessian) in the scores is
#
# $$ \frac{\partial^2 L}{\partial s_j\, \partial s_k} = \frac{\partial p_j}{\partial s_k} = J_{jk},
#    \qquad H_s = J = \operatorname{diag}(p) - p\,p^\top . $$
#
# It is **positive semidefinite**: for any vector $v$,
#
# $$ v^\top J v = \sum_j p_j v_j^2 - \Big(\sum_j p_j v_j\Big)^2 \ \ge\ 0 , $$
#
# the variance of $v$'s entries under the probabilities $p$. It is 0 only when
# all entries of $v$ are equal (moving every score together changes nothing),
# so the smallest eigenvalue of $J$ is 0, with eigenvector $(1, \dots, 1)$.
#
# **Convex in $W$.** The scores are linear in the weights, $s = x W$. Along any
# line $W + t V$ the scores move along the line $s + t\,(xV)$, so
#
# $$ \frac{d^2}{dt^2} L(W + tV) = (xV)\, J\, (xV)^\top \ \ge\ 0 . $$
#
# A function whose second derivative along every line is nonnegative is convex;
# the mean over examples keeps that, and $\text{reg} \sum W^2$ adds
# $2\,\text{reg}\,\lVert V \rVert^2 > 0$. So with `reg > 0` the training loss
# has exactly one minimum and no other local minima: gradient descent with a
# small enough step cannot get stuck, only be slow.

# %% id="check-hessian" tags=["check"]
def second_difference(f, u, v, h=SECOND_DIFF_STEP):
    """(f(u + h v) - 2 f(u) + f(u - h v)) / h^2: the second derivative of f along v."""
    return (f(u + h * v) - 2 * f(u) + f(u - h * v)) / h**2


def loss_of_scores(v):
    return log_sum_exp(v) - v[label]


basis = np.eye(C)
hessian_numeric = np.array([[  # d2L / ds_j ds_k by the polarization identity
    (second_difference(loss_of_scores, s, basis[j] + basis[k]) - second_difference(loss_of_scores, s, basis[j] - basis[k])) / 4
    for k in range(C)] for j in range(C)])
hessian_gap = np.max(np.abs(hessian_numeric - J))
check("the Hessian of L in the scores is J = diag(p) - p p^T", hessian_gap < SECOND_DIFF_TOL,
      f"largest difference from second differences {hessian_gap:.1e}")

eigenvalues, eigenvectors = np.linalg.eigh(J)
ones_direction = np.abs(eigenvectors[:, 0] @ np.ones(C)) / np.sqrt(C)  # 1: the same direction
check("J is positive semidefinite: smallest eigenvalue 0, along (1, ..., 1)",
      eigenvalues[0] > -ROUNDING_TOL and abs(eigenvalues[0]) < ROUNDING_TOL and abs(ones_direction - 1) < 1e-9,
      f"eigenvalues {np.round(eigenvalues, 4)}")
v = rng.standard_normal(C)
variance_gap = abs(v @ J @ v - (np.sum(p * v**2) - np.sum(p * v) ** 2))
check("v^T J v is the variance of v under p", variance_gap < ROUNDING_TOL, f"difference {variance_gap:.1e}")

x = X[0]  # one example of the tiny problem in section 3, (D,)
P_x = softmax_vector(x @ W)
J_x = np.diag(P_x) - np.outer(P_x, P_x)
curvatures, predicted = [], []
for _ in range(100):  # 100 random directions V, each of W's shape (D, C)
    V = rng.standard_normal(W.shape)
    curvatures.append(second_difference(lambda W_t: cross_entropy(np.eye(C_small)[y[0]], x @ W_t), W, V))
    predicted.append((x @ V) @ J_x @ (x @ V))
curvature_gap = np.max(np.abs(np.array(curvatures) - np.array(predicted)))
check("along 100 random lines in W the curvature is (xV) J (xV)^T >= 0",
      min(curvatures) > -SECOND_DIFF_TOL and curvature_gap < SECOND_DIFF_TOL,
      f"smallest curvature {min(curvatures):.2e}, largest difference from the formula {curvature_gap:.1e}")

# %% [markdown] id="bias"
# ## 7. The bias
#
# With a separate bias, $s = x W_0 + b$, each score $s_j$ contains $b_j$ once
# with coefficient 1, so $\partial s / \partial b$ is the identity and
#
# $$ \frac{\partial L}{\partial b} = \frac{\partial L}{\partial s} = p - \operatorname{onehot}(y) : $$
#
# the bias gradient of one example is the score gradient itself (over a batch,
# its mean over the examples). The assignment folds the bias into `W` with the
# bias trick: a constant 1 appended to $x$ and $b$ stacked under $W_0$ as the
# last row. The last row of the weight gradient is then $1 \cdot (p_j - [j = y])$
# for each $j$: the same thing.

# %% id="check-bias" tags=["check"]
W0, b = W[:-1], W[-1]  # treat the last row of the tiny W as a bias: (D - 1, C), (C,)
x0 = x[:-1]  # the example without its last feature, (D - 1,)
target = np.eye(C_small)[y[0]]
p_b = softmax_vector(x0 @ W0 + b)
dL_db = gradient_check.eval_numerical_gradient(lambda b_t: cross_entropy(target, x0 @ W0 + b_t), b.copy())
bias_error = gradient_check.rel_error(p_b - target, dL_db)
check("dL/db = p - onehot(y), against finite differences", bias_error < FINITE_DIFF_TOL,
      f"relative error {bias_error:.1e}")

x1 = np.append(x0, 1.0)  # the bias trick: a constant 1 as the last feature, (D,)
W_trick = np.vstack([W0, b])  # b as the last row, (D, C)
dL_dlast_row = gradient_check.eval_numerical_gradient(
    lambda row: cross_entropy(target, x1 @ np.vstack([W0, row])), W_trick[-1].copy())
trick_error = gradient_check.rel_error(dL_db, dL_dlast_row)
check("with the bias trick, the gradient of W's last row is the bias gradient", trick_error < FINITE_DIFF_TOL,
      f"relative error {trick_error:.1e}")

# %% [markdown] id="back"
# ## Back to the assignment
#
# Every formula the assignment asks you to implement is now checked on small
# cases. In [assignment.ipynb](assignment.ipynb), section 2 puts them together
# for a whole batch; `gradient_check.check_gradient` then checks your `dW` the
# same way the cells above checked these.

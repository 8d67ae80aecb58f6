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
# # A softmax classifier for CIFAR-10
#
# You will build a linear classifier for 32×32 colour photographs: it gives each
# image ten scores, one per class, turns them into probabilities with the softmax
# function, and learns its weights by minimizing the cross-entropy loss with
# minibatch stochastic gradient descent (SGD). On the way you derive the gradient
# by hand, check it against finite differences, make it fast, tune two
# hyperparameters on held-out data, and look at what the classifier learned.
#
# **Where your code goes.** Most of your work is in two Python files; this notebook
# calls them, checks them and uses them.
#
# | file | what you write |
# |---|---|
# | `classifiers/softmax.py` | `softmax_loss_naive` (with loops) and `softmax_loss_vectorized` (no loops) |
# | `classifiers/linear_classifier.py` | the minibatch and the update step in `train`, and `predict` |
#
# A few cells below ask for a little code (accuracies, the hyperparameter search)
# or a written answer. `.venv/bin/python -m pytest` checks the Python files on
# their own, with messages that say what is wrong.
#
# **Notation.** Every file of the kit uses the same names and shapes:
#
# | name | shape | meaning |
# |---|---|---|
# | `X` | (N, D) | N examples, one per row; D = 3073 (3072 pixel values and a constant 1) |
# | `y` | (N,) | labels, integers in [0, C); C = 10 classes |
# | `W` | (D, C) | weights: column `j` belongs to class `j` |
# | `reg` | scalar | regularization strength |
# | `scores` | (N, C) | `X @ W` |
# | `probs` | (N, C) | each row of `scores` through the softmax |
# | `loss` | scalar | mean cross-entropy + `reg * np.sum(W**2)` |
# | `dW` | (D, C) | the gradient of `loss` with respect to `W` |
#
# **Kernel.** The notebook runs on the kit's own kernel, `softmax-kit`, which
# `./setup.sh` registers inside the kit's `.venv` and names after the kit's
# folder, e.g. **Python (softmax kit, ~/cs231n/softmax-kit)**. JupyterLab and
# Notebook 7 started from the kit (`.venv/bin/jupyter lab` or
# `.venv/bin/jupyter notebook`) pick it by themselves; by hand it is *Kernel* >
# *Change Kernel…*. In VS Code, *Select Kernel* (top right) > *Python
# Environments…* > `.venv`. In Colab, keep Colab's own Python 3: the next cell
# prepares it.
#
# **Time.** The whole notebook at full CIFAR-10 size runs in well under a minute
# (41 s on a shared 2-core machine, measured on the offline stand-in, which has
# CIFAR-10's exact sizes); most of that is the hyperparameter search in section 7.

# %% id="colab"
# In Google Colab, this cell works from the kit's folder on your Drive; anywhere else it does nothing.
colab_kit_folder = None  # only if your Drive holds several copies of the kit: the one to use, e.g. "cs231n/softmax-kit"
try:
    from google.colab import drive
except ImportError:  # not in Colab
    drive = None
IN_COLAB = drive is not None
if IN_COLAB:  # mount the Drive and find the kit's kit/colab.py on it, which does the rest
    import glob, os, sys
    start = os.environ.setdefault("SOFTMAX_KIT_COLAB_START", os.getcwd())  # Colab starts in /content
    drive.mount(os.path.join(start, "drive"))
    copies = [found for depth in range(4) for found in glob.glob(f"{start}/drive/MyDrive/{'*/' * depth}kit/colab.py")]
    if not copies:
        raise FileNotFoundError('no copy of the kit on your Drive: upload its whole folder (README, "Working in Google Colab")')
    sys.path.insert(0, os.path.dirname(os.path.dirname(copies[0])))
    from kit.colab import prepare
    prepare(start, colab_kit_folder)

# %% id="setup"
import os

# One BLAS thread, unless you chose otherwise: each SGD step multiplies small
# matrices (200 x 3073 by 3073 x 10), which two threads barely speed up, and when
# other programs keep the cores busy the threads wait for each other (on a shared
# 2-core machine SGD ran several times slower with two threads than with one).
# It takes effect only before NumPy is first imported, so it comes before the
# imports (%matplotlib imports NumPy too); restart the kernel to change it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Reload the kit's modules before every cell, so a change you save in
# classifiers/*.py takes effect without restarting the kernel.
# %load_ext autoreload
# %autoreload 2
# %matplotlib inline

import itertools
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

import gradient_check
from classifiers.linear_classifier import Softmax, TrainingDivergedError
from kit.progress import progress
from classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized
from data.cifar10 import SyntheticDataWarning, get_cifar10_data, label_names
from diagnose import report_loss, report_training

plt.rcParams["figure.figsize"] = (10.0, 6.0)
plt.rcParams["image.interpolation"] = "nearest"

# %% [markdown] id="parameters-intro"
# ## Parameters
#
# Everything a run may change is in the next cell, which carries the tag
# `parameters` (papermill's convention: a tool can run the notebook with other
# values by inserting a cell right after it). Nothing further down hard-codes a
# size, a grid or a seed, so a smaller dataset works unchanged.

# %% id="parameters" tags=["parameters"]
# Where the data is. None: $CIFAR10_DIR if set, else data/cifar-10-batches-py.
cifar10_dir = None

# Split sizes. CIFAR-10 has 50,000 training and 10,000 test images.
num_training = 49000  # the first 49,000 training images: fit W on these
num_validation = 1000  # the next 1,000: choose hyperparameters on these
num_test = 1000  # the first 1,000 test images: used once, at the very end
num_dev = 500  # a random subset of the training images, for quick checks
# The number type of train, val and test. float32, as deep-learning libraries use:
# half the memory of NumPy's float64 and about twice the training speed, with
# precision to spare for SGD. The dev set stays float64: the gradient checks
# compare differences of nearly equal losses, which need float64's 16 digits.
dtype = np.float32

# Hyperparameter search: every (learning rate, regularization strength) pair.
learning_rates = [1e-7, 3e-7, 1e-6, 3e-6]
regularization_strengths = [1e3, 3e3, 1e4, 3e4]
num_iters = 1500  # SGD steps per training run
batch_size = 200  # examples per SGD step

seed = 0  # seeds the dev subset, the initial weights and the minibatches

# %% [markdown] id="data-intro"
# ## 1. The data
#
# CIFAR-10 holds 60,000 colour images of 32×32 pixels, 6,000 per class, in ten
# classes. `get_cifar10_data` loads them and cuts four splits:
#
# - **train** (`X_train`, `y_train`): the examples the classifier learns from;
# - **validation** (`X_val`, `y_val`): held out from training, used to choose
#   the learning rate and the regularization strength;
# - **test** (`X_test`, `y_test`): touched once, at the end, to report how well
#   the chosen classifier does on images nothing was tuned on;
# - **dev** (`X_dev`, `y_dev`): a small random subset of train, for checks that
#   would be slow on the whole set (the naive, loop-based loss).
#
# If the dataset is missing, the next cell stops and prints the command that
# fetches it (`./setup.sh` runs it for you). To read a copy stored elsewhere, set
# `cifar10_dir` in the parameters cell, or the environment variable
# `CIFAR10_DIR` before starting Jupyter. If the folder holds the synthetic
# stand-in (`data/get_cifar10.py --synthetic`, for offline work), a red banner
# says so. The stand-in is made-up scenes that a linear classifier finds about as
# hard as CIFAR-10, so everything runs and every question can be answered on it,
# but no number below is a real photograph's.

# %% id="load-data"
try:
    with warnings.catch_warnings():
        # The banner below says it more visibly than a warning would.
        warnings.simplefilter("ignore", SyntheticDataWarning)
        data = get_cifar10_data(
            cifar10_dir,
            num_training=num_training,
            num_validation=num_validation,
            num_test=num_test,
            num_dev=num_dev,
            dtype=dtype,
            seed=seed,
        )
    class_names = label_names(cifar10_dir)
except FileNotFoundError as err:
    how = ("In Colab, run the first code cell again: it fetches CIFAR-10 into the kit's data/ folder."
           if IN_COLAB else
           "From the kit's folder, fetch it (about 170 MB, once) with:\n"
           "    .venv/bin/python data/get_cifar10.py\nthen run this cell again.")
    raise FileNotFoundError(f"{err}\n\n{how}") from None

X_train, y_train = data["X_train"], data["y_train"]
X_val, y_val = data["X_val"], data["y_val"]
X_test, y_test = data["X_test"], data["y_test"]
X_dev, y_dev = data["X_dev"].astype(np.float64), data["y_dev"]  # for the gradient checks (parameters cell)
mean_image = data["mean_image"]
num_classes = len(class_names)

if data["synthetic"]:
    banner = (
        "SYNTHETIC DATA: this folder holds the offline stand-in written by "
        "data/get_cifar10.py --synthetic, not CIFAR-10. Everything runs and the questions "
        "can be answered on it, but the accuracies, templates and chosen hyperparameters "
        "below are the stand-in's, not real photographs'. Get the real data with: "
        + ("!python data/get_cifar10.py (in a code cell)" if IN_COLAB else ".venv/bin/python data/get_cifar10.py")
    )
    html = (
        "<div style='border:2px solid #cf222e; background:#ffebe9; color:#82071e; "
        "padding:0.6em 1em; font-weight:bold'>" + banner + "</div>"
    )
    display({"text/html": html, "text/plain": banner}, raw=True)

for split, (X_split, y_split) in {
    "train": (X_train, y_train),
    "val": (X_val, y_val),
    "test": (X_test, y_test),
    "dev": (X_dev, y_dev),
}.items():
    print(f"X_{split:<5} {str(X_split.shape):>13}   y_{split:<5} {str(y_split.shape):>8}")
print("classes:", ", ".join(class_names))


# %% [markdown] id="samples-intro"
# A few training images of each class. The rows of `X` have been centred and
# given a bias column (next section), so to draw them we drop that column and
# add the mean image back.

# %% id="samples"
def to_images(rows):
    # Rows of X (n, 3073) -> uint8 images (n, 32, 32, 3): undo the preprocessing.
    pixels = rows[:, :-1] + mean_image  # (n, 3072)
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8).reshape(-1, 32, 32, 3)


samples_per_class = 7
fig, axes = plt.subplots(
    samples_per_class, num_classes, figsize=(1.1 * num_classes, 1.15 * samples_per_class)
)
for c, name in enumerate(class_names):
    images = to_images(X_train[np.flatnonzero(y_train == c)[:samples_per_class]])
    for row, ax in enumerate(axes[:, c]):
        ax.axis("off")
        if row < len(images):
            ax.imshow(images[row])
    axes[0, c].set_title(name, fontsize=10)
fig.suptitle("Training images, one column per class")
plt.show()

# %% [markdown] id="preprocessing"
# ### Preprocessing: centring, and the bias trick
#
# Two things already happened inside `get_cifar10_data`.
#
# **Centring.** The mean training image (below) was subtracted from every image
# of every split. Pixel values now lie roughly between −140 and +160 instead of
# 0 and 255, so every feature is centred on zero, the first scores are centred on
# zero too, and SGD does not spend its first steps learning the average
# brightness. The mean comes from the training images only: using validation or
# test images would let them leak into the model.
#
# **The bias trick.** A linear classifier with a bias computes
# $s = x W_0 + b$ for an image $x \in \mathbb{R}^{3072}$ (a row), weights
# $W_0 \in \mathbb{R}^{3072 \times C}$ and biases $b \in \mathbb{R}^{C}$. Append a
# constant 1 to $x$ and stack $b$ under $W_0$ as one more row:
#
# $$
# \begin{bmatrix} x & 1 \end{bmatrix}
# \begin{bmatrix} W_0 \\ b \end{bmatrix} = x W_0 + b .
# $$
#
# One matrix `W` of shape (3073, C) now holds both, so the code has one
# parameter, and the last row of `W` is the bias. (The regularization below then
# shrinks the bias too; with 3,072 other rows this changes little.)

# %% id="mean-image"
print("last column of every split is all ones:",
      all(np.all(X[:, -1] == 1) for X in (X_train, X_val, X_test, X_dev)))
print(f"centred pixel values of X_dev: from {X_dev[:, :-1].min():.1f} to {X_dev[:, :-1].max():.1f}")

plt.figure(figsize=(2.5, 2.5))
plt.imshow(np.clip(np.rint(mean_image), 0, 255).astype(np.uint8).reshape(32, 32, 3))
plt.title("mean training image")
plt.axis("off")
plt.show()


# %% [markdown] id="maths"
# ## 2. The maths
#
# Every step below is derived and checked in [derivation.ipynb](derivation.ipynb).
#
# **Scores.** For one example, a row $x \in \mathbb{R}^{D}$ of `X`, the classifier
# computes one score per class,
#
# $$ s = x W \in \mathbb{R}^{C}, \qquad s_j = \sum_{d=1}^{D} x_d W_{dj}, $$
#
# and for all N examples at once, `scores = X @ W`, of shape (N, C).
#
# **Softmax.** Scores can be any real numbers; the softmax turns them into
# probabilities, positive and summing to 1:
#
# $$ p_j = \frac{e^{s_j}}{\sum_{k=1}^{C} e^{s_k}}, \qquad j = 1, \dots, C. $$
#
# **Cross-entropy.** The loss of example $i$, whose label $y_i$ we write $y$ for
# short, is the negative log of the probability given to the correct class,
#
# $$ L_i = -\log p_{y} = -s_{y} + \log \sum_{k=1}^{C} e^{s_k}, $$
#
# which is 0 when $p_y = 1$ and grows without bound as $p_y \to 0$. The training
# loss is the mean over the N examples plus an L2 penalty on the weights:
#
# $$ L = \frac{1}{N} \sum_{i=1}^{N} L_i + \text{reg} \sum_{d,j} W_{dj}^2 . $$
#
# ### The gradient, one step at a time
#
# **The softmax Jacobian.** How does $p_j$ move when the score $s_k$ moves? By the
# quotient rule, with $Z = \sum_k e^{s_k}$ and $\partial Z / \partial s_k = e^{s_k}$:
#
# $$
# \frac{\partial p_j}{\partial s_k}
# = \frac{\delta_{jk}\, e^{s_j} Z - e^{s_j} e^{s_k}}{Z^2}
# = p_j\,(\delta_{jk} - p_k),
# \qquad\text{that is}\qquad
# J = \frac{\partial p}{\partial s} = \operatorname{diag}(p) - p\,p^{\top},
# $$
#
# where $\delta_{jk}$ is 1 if $j = k$ and 0 otherwise. $J$ is a symmetric
# $C \times C$ matrix. Every column sums to 0, because the probabilities always
# sum to 1 whatever the scores do. Every row sums to 0 as well, since adding the
# same constant to every score changes no $p_j$.
#
# **Chain rule down to the scores.** $L_i = -\log p_y$ depends on the scores only
# through $p_y$, and $\partial L_i / \partial p_y = -1/p_y$. So
#
# $$
# \frac{\partial L_i}{\partial s_k}
# = -\frac{1}{p_y}\,\frac{\partial p_y}{\partial s_k}
# = -\frac{1}{p_y}\, p_y\,(\delta_{yk} - p_k)
# = p_k - \delta_{yk},
# \qquad\text{that is}\qquad
# \frac{\partial L_i}{\partial s} = p - \operatorname{onehot}(y).
# $$
#
# Only row $y$ of $J$ is used, $\partial L_i / \partial s = -J[y, :] / p_y$: predicted
# probabilities minus the truth. A descent step goes against it, lowering each
# wrong score in proportion to $p_k$ and raising the correct one in proportion
# to $1 - p_y$.
#
# **Down to one weight.** $W_{dj}$ enters only the score $s_j$, with
# $\partial s_j / \partial W_{dj} = x_d$, so
#
# $$ \frac{\partial L_i}{\partial W_{dj}} = x_d \, (p_j - \delta_{y j}), $$
#
# and column $j$ of the gradient is $x^\top (p_j - \delta_{yj})$: the example
# itself, scaled by how wrong the probability of class $j$ was. This is the line
# your naive loop adds for every example and class. With the bias trick,
# $x_D = 1$, and the bias gradient is $p_j - \delta_{yj}$ itself.
#
# **Vectorized.** Stack the probabilities of all examples into $P$ (N × C), the
# one-hot labels into $Y$ (N × C), and sum over the examples with one matrix
# product. With the regularization term, whose derivative is $2\,\text{reg}\,W$:
#
# $$ \frac{\partial L}{\partial W} = \frac{1}{N} X^{\top} (P - Y) + 2\,\text{reg}\, W . $$
#
# Check the shapes: (D × N)(N × C) = D × C, the shape of `W`.
#
# ### Keeping it finite
#
# `np.exp` overflows to `inf` for arguments above about 709 in float64 (88 in
# float32), and then `inf / inf` is `nan`. Scores that large are easy to reach
# (big weights, a big learning rate). The softmax does not change when the same
# constant is added to every score, since it cancels between numerator and
# denominator, so subtract each row's largest score first:
#
# $$ p_j = \frac{e^{s_j - m}}{\sum_k e^{s_k - m}}, \qquad m = \max_k s_k . $$
#
# Now every exponent is at most 0 and the denominator is at least 1. The other
# end breaks too: if $p_y$ underflows to 0 (for $s_y - m < -745$ in float64),
# `np.log(p_y)` is `-inf`. Never take the log of the probability; take the
# log-sum-exp form directly,
#
# $$ -\log p_y = \log \sum_k e^{s_k - m} - (s_y - m), $$
#
# which stays finite, and accurate to rounding, however far $s_y$ lies below the
# maximum.
#
# ### Two classes: the sigmoid
#
# With $C = 2$, dividing by $e^{s_1}$ gives
#
# $$ p_1 = \frac{e^{s_1}}{e^{s_0} + e^{s_1}} = \frac{1}{1 + e^{-(s_1 - s_0)}} = \sigma(s_1 - s_0) = \sigma\big(x\,(W_{:,1} - W_{:,0})\big): $$
#
# logistic regression with weights $W_{:,1} - W_{:,0}$ and gradient
# $\sigma(s_1 - s_0) - y$. Adding one vector to every column of `W` changes no
# probability; the regularization picks the smallest of those equivalent `W`s.
#
# ### Reading other sources: the transposed layout and `0.5 * reg`
#
# Lecture notes and many answers online write the same model transposed, and
# some halve the penalty. Their formulas map onto ours like this:
#
# | | this kit | the other common convention |
# |---|---|---|
# | weights | `W`, (D, C) | $W$, (C, D), our `W.T` |
# | one example | a row `x`, (1, D) | a column $x$, (D, 1) |
# | scores | `x @ W`, all examples `X @ W`, (N, C) | $W x$, (C, 1) |
# | class $j$'s weights | column `W[:, j]` | row $W_j$ |
# | gradient | `X.T @ (P - Y) / N + 2 * reg * W` | $(P - Y)^{\top} X / N + \lambda W$ |
# | penalty | `reg * np.sum(W**2)` | $\tfrac{1}{2}\lambda \lVert W \rVert^2$ |
#
# In both gradient rows `X`, `P` and `Y` still hold one example per row, (N, D)
# and (N, C); sources that also stack the examples as columns, $X$ of shape
# (D, N) and $P$ of shape (C, N), write $(P - Y) X^{\top} / N$ instead.
# Transposing their gradient gives ours: $\big((P - Y)^{\top} X\big)^{\top} =
# X^{\top}(P - Y)$. The penalties agree when $\lambda = 2\,\text{reg}$: the ½ is
# there only to cancel the 2 from differentiating the square, so a source's
# $\lambda = 5 \times 10^{4}$ is `reg = 2.5e4` here. The kit uses one layout and
# one penalty everywhere; `derivation.ipynb` runs the older code.

# %% [markdown] id="jacobian-intro"
# **Check the Jacobian yourself.** Below, `softmax_vector` is the softmax of one
# score vector. Write the two formulas just derived, the Jacobian
# $\operatorname{diag}(p) - p\,p^\top$ and $\partial L / \partial s = p -
# \operatorname{onehot}(y)$, as NumPy expressions; the cell compares them with
# finite differences from the kit's `gradient_check` module. Both relative errors
# should be below `1e-7` (the worst of 200 seeds: 3.5e-8).

# %% id="jacobian-check"
def softmax_vector(s):
    # Softmax of one score vector s of shape (C,), with the max shift.
    e = np.exp(s - np.max(s))
    return e / np.sum(e)


rng = np.random.default_rng(seed)
s = rng.standard_normal(num_classes)  # the scores of one example, (C,)
label = 3
p = softmax_vector(s)  # (C,)

J_formula = None  # (C, C): J[j, k] = d p_j / d s_k
dL_ds_formula = None  # (C,): gradient of -log p[label] with respect to s
# TODO: both from p and label alone, no loops (np.diag, np.outer, np.eye help).
### BEGIN SOLUTION
J_formula = np.diag(p) - np.outer(p, p)
dL_ds_formula = p - np.eye(num_classes)[label]
### END SOLUTION

# Row j of the Jacobian is the gradient of p_j(s); the checker perturbs s in place.
J_numeric = np.array([
    gradient_check.eval_numerical_gradient(lambda t, j=j: softmax_vector(t)[j], s.copy())
    for j in range(num_classes)
])
dL_ds_numeric = gradient_check.eval_numerical_gradient(
    lambda t: -np.log(softmax_vector(t)[label]), s.copy()
)
JACOBIAN_TOL = 1e-7  # finite differences on 10 well-scaled scores reach ~1e-10; a wrong formula, ~1e-1
jacobian_error = gradient_check.rel_error(J_formula, J_numeric)
dL_ds_error = gradient_check.rel_error(dL_ds_formula, dL_ds_numeric)
for what, error in [("Jacobian diag(p) - p p^T", jacobian_error), ("dL/ds = p - onehot(y)  ", dL_ds_error)]:
    verdict = "PASS" if error < JACOBIAN_TOL else "FAIL: check this formula against the derivation above"
    print(f"{what} vs finite differences: relative error {error:.1e}: {verdict}")
print("rows of the Jacobian sum to", np.round(J_formula.sum(axis=1), 15), "(0 for every row, as derived)")

# %% [markdown] id="sanity-intro"
# ## 3. A first sanity check
#
# Implement `softmax_loss_naive` in `classifiers/softmax.py` (loops over examples
# and classes, the row-max shift and log-sum-exp, regularization in the loss and
# the gradient). Then run the cell: it evaluates the loss on the dev set with
# small random weights and `reg = 0`.

# %% id="sanity-check"
INIT_SCALE = 1e-4  # small weights: every score starts close to 0
rng = np.random.default_rng(seed)
W = INIT_SCALE * rng.standard_normal((X_dev.shape[1], num_classes))  # (D, C)

NEAR_LOG_C = 0.3  # small random W: the first loss lies within a few tenths of log C
initial_loss, dW = softmax_loss_naive(W, X_dev, y_dev, 0.0)
print(f"loss with small random W: {initial_loss:.4f}")
print(f"-log(1/{num_classes}) = log({num_classes}):   {np.log(num_classes):.4f}")
if abs(initial_loss - np.log(num_classes)) < NEAR_LOG_C:
    print(f"PASS: within {NEAR_LOG_C} of log({num_classes}), as a loss near a uniform softmax should be")
else:
    print(f"FAIL: {initial_loss:.4g} is far from log({num_classes}); look for a sum instead of a mean, "
          "or a missing minus sign, in softmax_loss_naive")

# %% [markdown] id="question-1"
# **Inline question 1.** The loss above is close to $-\log(0.1) = \log 10 \approx
# 2.303$. Why that number? And why is it not exactly $\log 10$?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# With weights of size $10^{-4}$ every score is close to 0, so all ten scores are
# nearly equal and the softmax is nearly uniform: each class, the correct one
# included, gets $p \approx 1/10$. Each example's loss is then
# $-\log(1/10) = \log 10$, and so is their mean; with C classes the starting loss
# is $\log C$. That makes it a check worth doing before any training: a first loss
# far from $\log C$ points at a bug in the loss (a missing minus sign, a sum
# instead of a mean) or at badly scaled initial weights.
#
# It is not exact because the scores are small, not zero: each is a sum of 3,073
# products of a centred pixel (tens) and a weight ($10^{-4}$), typically a few
# tenths. The probabilities therefore spread a little around 1/10. Because
# $-\log$ is convex, that spread alone raises the mean of $-\log p_y$ above
# $\log 10$ (Jensen's inequality), while the way this particular random `W`
# happens to line up with the images can push it either way. Expect a value
# within about a tenth of 2.303, usually a little above.
# ### END SOLUTION

# %% [markdown] id="gradcheck-intro"
# ## 4. Gradient check
#
# An analytic gradient with a small mistake still lets the loss go down for a
# while, so check it against the definition. `gradient_check.check_gradient`
# compares your `dW` with the centred difference
# $\big(L(W + h e) - L(W - h e)\big) / 2h$ at random entries of `W` and reports
# the worst relative error $|a - n| / (|a| + |n|)$: below `1e-7` is right, up to
# about `1e-5` is right up to finite-difference error, and above `1e-2` is
# wrong. We check twice: with `reg = 0`, which tests the data term alone, and
# with a large `reg`, where the penalty's gradient `2 * reg * W` matters as much
# as the data's (a `reg * W`, carried over from the `0.5 * reg` convention,
# fails this second check).
#
# Last comes the verdict of `diagnose.report_loss`: it runs your function on
# tiny cases whose answers are known (the loss is exactly $\log C$ at `W = 0`, the
# penalty alone shows when `X = 0`, scores of 800 must not overflow, ...) and
# names each classic mistake it finds with a code, such as
# `[reg-missing-in-gradient]`, and the numbers that show it. PASS means it found
# none. The tests (`pytest`) print the same findings.

# %% id="gradcheck"
NUM_CHECKS = 10  # random entries of W per check; each costs two naive loss evaluations
LARGE_REG = 1e4  # as large as the strengths searched below: the penalty term is not negligible

grad_checks = {}
for reg in (0.0, LARGE_REG):
    loss, dW = softmax_loss_naive(W, X_dev, y_dev, reg)
    result = gradient_check.check_gradient(
        lambda w, reg=reg: softmax_loss_naive(w, X_dev, y_dev, reg)[0],
        W, dW, num_checks=NUM_CHECKS, seed=seed,
    )
    grad_checks[reg] = result
    print(f"softmax_loss_naive, gradient check at reg = {reg:g}:")
    display(result)  # a table in Jupyter, text elsewhere

naive_report = report_loss(softmax_loss_naive)
display(naive_report)

# %% id="gradcheck-plot"
fig, axes = plt.subplots(1, len(grad_checks), figsize=(5 * len(grad_checks), 4.5))
for ax, (reg, result) in zip(np.atleast_1d(axes), grad_checks.items()):
    numeric, analytic = result.numerical_values, result.analytic_values
    lo, hi = min(numeric.min(), analytic.min()), max(numeric.max(), analytic.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.7", lw=1, label="analytic = numerical")
    ax.scatter(numeric, analytic, s=30, zorder=3, color="#1a7f37" if result.passed else "#cf222e")
    ax.set_xlabel("numerical gradient (centred difference)")
    ax.set_ylabel("analytic gradient (your dW)")
    ax.set_title(f"reg = {reg:g}: max relative error {result.max_rel_error:.1e}")
    ax.legend(loc="upper left")
fig.suptitle(f"{NUM_CHECKS} random entries of dW: every point should sit on the diagonal")
fig.tight_layout()
plt.show()


# %% [markdown] id="vectorized-intro"
# ## 5. Naive versus vectorized
#
# Now implement `softmax_loss_vectorized`: the same loss and gradient with no
# Python loop, using `X @ W` for all scores and `X.T @ (P - Y) / N` for the
# gradient. The two versions must agree to rounding error: the loss to about
# `1e-12`, and the gradient's difference, measured with the Frobenius norm
# $\lVert A \rVert_F = \sqrt{\sum A_{dj}^2}$, should be tiny next to the norm of
# the gradient itself. Then compare their speed.

# %% id="vectorized"
def best_time(fn, repeats=5):
    # The fastest of `repeats` calls, in seconds: the run least disturbed by other work.
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return min(times)


# The two versions add the same numbers in other orders: they agree to rounding.
SAME_LOSS, SAME_GRADIENT = 1e-10, 1e-8  # largest differences, relative to the loss and to the gradient's norm
reg = 5e3
loss_naive, grad_naive = softmax_loss_naive(W, X_dev, y_dev, reg)
loss_vectorized, grad_vectorized = softmax_loss_vectorized(W, X_dev, y_dev, reg)
loss_difference = abs(loss_naive - loss_vectorized)
grad_difference = np.linalg.norm(grad_naive - grad_vectorized, ord="fro")
grad_norm = np.linalg.norm(grad_naive, ord="fro")


def agreement(difference, size, tolerance):
    # PASS when the difference is rounding: at most `tolerance` times the size of what is compared.
    if difference <= tolerance * max(size, 1.0):
        return "PASS: the same, to rounding"
    return "FAIL: the two versions disagree (the verdicts before training say which one is wrong)"


print(f"loss:     naive {loss_naive:.12f}   vectorized {loss_vectorized:.12f}   difference {loss_difference:.1e}: "
      + agreement(loss_difference, abs(loss_naive), SAME_LOSS))
print(f"gradient: Frobenius norm of the difference {grad_difference:.1e}, of the gradient {grad_norm:.2e}: "
      + agreement(grad_difference, grad_norm, SAME_GRADIENT))

time_naive = best_time(lambda: softmax_loss_naive(W, X_dev, y_dev, reg), repeats=3)
time_vectorized = best_time(lambda: softmax_loss_vectorized(W, X_dev, y_dev, reg), repeats=20)
speedup = time_naive / time_vectorized
print(f"time on {len(y_dev)} examples: naive {1e3 * time_naive:.1f} ms, "
      f"vectorized {1e3 * time_vectorized:.2f} ms: {speedup:.0f}x faster")

fig, ax = plt.subplots(figsize=(6, 2.2))
bars = ax.barh(["vectorized", "naive"], [1e3 * time_vectorized, 1e3 * time_naive],
               color=["#1a7f37", "#9a6700"])
ax.bar_label(bars, fmt="%.2f ms", padding=3)
ax.set_xlabel("milliseconds per call (best of several)")
ax.set_xlim(0, 1.25e3 * time_naive)
ax.set_title(f"One loss and gradient on {len(y_dev)} examples: {speedup:.0f}x faster without loops")
fig.tight_layout()
plt.show()

# %% [markdown] id="verdicts-intro"
# ### Verdicts before training
#
# Training uses `softmax_loss_vectorized`, and SGD follows whatever gradient it
# is given: a gradient missing `2 * reg * W` still lowers the loss a little,
# every `reg` then gives the same accuracy, and nothing says why. So both losses
# get a verdict here, and the vectorized one a gradient check with a large
# `reg`; if the vectorized loss has a diagnosed mistake or fails its check, the
# notebook stops here with the finding, instead of training on it.

# %% id="verdicts"
loss_functions = {"softmax_loss_naive": softmax_loss_naive, "softmax_loss_vectorized": softmax_loss_vectorized}
loss_reports = {name: report_loss(loss_fn, name) for name, loss_fn in loss_functions.items()}
for report in loss_reports.values():
    display(report)

loss, dW = softmax_loss_vectorized(W, X_dev, y_dev, LARGE_REG)
vectorized_check = gradient_check.check_gradient(
    lambda w: softmax_loss_vectorized(w, X_dev, y_dev, LARGE_REG)[0],
    W, dW, num_checks=NUM_CHECKS, seed=seed,
)
print(f"softmax_loss_vectorized, gradient check at reg = {LARGE_REG:g}:")
display(vectorized_check)

vectorized_report = loss_reports["softmax_loss_vectorized"]
if not vectorized_report or not vectorized_check:
    raise RuntimeError(
        "stopping before training: fix softmax_loss_vectorized first "
        f"(gradient check {'passed' if vectorized_check else 'FAILED'})\n{vectorized_report}"
    )

# %% [markdown] id="training-intro"
# ## 6. Training with SGD
#
# Fill in the two gaps of `LinearClassifier.train` in
# `classifiers/linear_classifier.py` (sample a minibatch with the given random
# generator; take one gradient step) and `predict`. Then train once, with the
# middle of each search grid from the parameters cell. Each step uses
# `batch_size` random training examples, so the loss curve is noisy; the dark
# line is its moving average. The first loss is the penalty `reg * np.sum(W**2)`
# of the random starting weights (about 300 at `reg = 1e4`) plus a data term of a
# few units (the starting scores spread over several units on these pixels, so
# it is above $\log C$), which is why the curve is drawn on a log scale.
#
# First, `diagnose.report_training` checks your SGD loop on a few steps with a
# known gradient (a missing update, the wrong sign, batches that are not random
# rows with their own labels, ...); a mistake it finds stops the cell before the
# real training.

# %% id="train"
training_report = report_training(Softmax)
display(training_report)
if not training_report and "not-implemented" not in {f.code for f in training_report.findings}:
    raise RuntimeError(f"stopping before training: fix LinearClassifier.train first\n{training_report}")

learning_rate = learning_rates[len(learning_rates) // 2]
reg = regularization_strengths[len(regularization_strengths) // 2]

softmax = Softmax()
tic = time.perf_counter()
loss_history = softmax.train(
    X_train, y_train, learning_rate=learning_rate, reg=reg,
    num_iters=num_iters, batch_size=batch_size, verbose=True, seed=seed,
)
print(f"learning_rate={learning_rate:g}, reg={reg:g}: {num_iters} steps in "
      f"{time.perf_counter() - tic:.1f} s, final loss {loss_history[-1]:.3f}")

window = max(1, num_iters // 30)
smooth = np.convolve(loss_history, np.ones(window) / window, mode="valid")
plt.figure(figsize=(8, 4))
plt.plot(loss_history, color="0.75", lw=0.8, label="loss of each minibatch")
centres = np.arange(len(smooth)) + (window - 1) / 2  # each average drawn mid-window
plt.plot(centres, smooth, color="k", label=f"moving average of {window} steps")
plt.yscale("log")
plt.xlabel("iteration")
plt.ylabel("loss (log scale)")
plt.title("Training loss")
plt.legend()
plt.show()

# %% [markdown] id="accuracy-intro"
# Accuracy is the fraction of examples whose predicted label (`softmax.predict`)
# equals the true one. Compute it on the training and validation sets.

# %% id="accuracy"
train_accuracy = None
val_accuracy = None
# TODO: the fraction of correct predictions of `softmax` on (X_train, y_train)
# and on (X_val, y_val).
### BEGIN SOLUTION
train_accuracy = np.mean(softmax.predict(X_train) == y_train)
val_accuracy = np.mean(softmax.predict(X_val) == y_val)
### END SOLUTION
print(f"training accuracy:   {train_accuracy:.3f}")
print(f"validation accuracy: {val_accuracy:.3f}   (chance: {1 / num_classes:.3f})")
if val_accuracy < 2 / num_classes:
    print("FAIL: about chance; does predict return the class with the highest score for each row?")

# %% [markdown] id="search-intro"
# ## 7. Choosing the learning rate and the regularization strength
#
# Train one classifier for every pair from `learning_rates` ×
# `regularization_strengths` (the parameters cell), with the same `num_iters`,
# `batch_size` and `seed`, and keep the one with the best **validation**
# accuracy. Choosing on the training accuracy would favour the runs that
# memorize most; choosing on the test set would leave nothing honest to report
# at the end.
#
# Store in `results[(lr, reg)]` the pair `(train_accuracy, val_accuracy)`, keep
# the best validation accuracy in `best_val` and its classifier in
# `best_softmax`. A learning rate that is too large makes the loss blow up:
# `train` then raises `TrainingDivergedError`; record that run as
# `(np.nan, np.nan)` and go on.
#
# **How the defaults were chosen.** The grid and `num_iters = 1500` were picked on
# real pixels: a sample of 2,500 real CIFAR-10 training images (the first 500 of
# each training batch), split into 2,000 for training and 500 for validation.
# There the best runs (learning rate 3e-7 to 1e-6, `reg` 1e3 to 1e4) reached
# **about 0.35 validation accuracy** averaged over five random 2,000/500
# splits, and **0.37** on the
# split this notebook makes (first 2,000 images, next 500). Training on 500 or
# 1,000 of the images instead of 2,000, the best settings reached only 0.30 and
# 0.33: more data helps.
# With 49,000 training images the same settings overfit less and should do
# better: we expect a best validation accuracy of at least 0.38 on the full
# split (cs231n asks for 0.35; our build machines cannot download CIFAR-10, so
# this is not measured). The search takes about half a minute at full CIFAR-10 size
# with 2 cores (measured on the stand-in).

# %% id="search"
results = {}  # (learning_rate, reg) -> (train_accuracy, val_accuracy)
best_val = -1.0  # the best validation accuracy seen so far
best_softmax = None  # the classifier that reached it
grid = list(itertools.product(learning_rates, regularization_strengths))
# TODO: for each (lr, reg) in grid (progress(grid, desc="grid search") shows how
# far it got): train a new Softmax with num_iters, batch_size and seed; a
# TrainingDivergedError records (np.nan, np.nan); otherwise store both
# accuracies in results and keep the best validation accuracy in best_val and
# its model in best_softmax.
### BEGIN SOLUTION
for lr, reg in progress(grid, desc="grid search", unit="runs"):
    model = Softmax()
    try:
        model.train(X_train, y_train, learning_rate=lr, reg=reg,
                    num_iters=num_iters, batch_size=batch_size, seed=seed)
    except TrainingDivergedError:
        results[(lr, reg)] = (np.nan, np.nan)
        continue
    train_acc = np.mean(model.predict(X_train) == y_train)
    val_acc = np.mean(model.predict(X_val) == y_val)
    results[(lr, reg)] = (train_acc, val_acc)
    if val_acc > best_val:
        best_val, best_softmax = val_acc, model
### END SOLUTION
if best_softmax is None:
    raise RuntimeError("no run finished: every learning rate diverged; try smaller ones")

best_lr, best_reg = max((k for k in results if not np.isnan(results[k][1])), key=lambda k: results[k][1])
print(f"{'learning rate':>14} {'reg':>10} {'train acc':>10} {'val acc':>10} {'gap':>7}")
for (lr, reg), (train_acc, val_acc) in sorted(results.items()):
    mark = "   <- best" if (lr, reg) == (best_lr, best_reg) else ""
    print(f"{lr:>14g} {reg:>10g} {train_acc:>10.3f} {val_acc:>10.3f} {train_acc - val_acc:>+7.3f}{mark}")
print(f"\nbest validation accuracy: {best_val:.3f} (learning rate {best_lr:g}, reg {best_reg:g})")

# %% id="search-heatmap"
val_grid = np.array([[results[(lr, reg)][1] for reg in regularization_strengths]
                     for lr in learning_rates])  # (learning rates, regs); NaN: diverged

fig, ax = plt.subplots(figsize=(1.6 * len(regularization_strengths) + 2.5, 1.0 * len(learning_rates) + 1.8))
image = ax.imshow(np.ma.masked_invalid(val_grid), cmap="viridis")
for i, j in np.ndindex(val_grid.shape):
    value = val_grid[i, j]
    if np.isnan(value):
        ax.text(j, i, "diverged", ha="center", va="center", color="#cf222e")
    else:
        dark = image.norm(value) < 0.6
        weight = "bold" if (learning_rates[i], regularization_strengths[j]) == (best_lr, best_reg) else "normal"
        ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontweight=weight,
                color="white" if dark else "black")
ax.set_xticks(range(len(regularization_strengths)), [f"{reg:g}" for reg in regularization_strengths])
ax.set_yticks(range(len(learning_rates)), [f"{lr:g}" for lr in learning_rates])
ax.set_xlabel("regularization strength reg")
ax.set_ylabel("learning rate")
ax.set_title(f"Validation accuracy after {num_iters} steps (best in bold)")
fig.colorbar(image, ax=ax, label="validation accuracy")
fig.tight_layout()
plt.show()

# %% [markdown] id="question-2"
# **Inline question 2.** Read the table: as `reg` grows, what happens to the
# training accuracy, to the validation accuracy, and to the gap between them?
# Why? And what goes wrong at the smallest learning rate?
#
# (With all 49,000 training images the gap is a few points at most, close to
# the noise of 1,000 validation images. To see it plainly, set
# `num_training = 2000` in the parameters cell and run the notebook again.)
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# A larger `reg` pulls the weights toward zero, so the classifier can fit the
# training images less closely: wherever the learning rate is large enough for
# training to settle, the training accuracy falls as `reg` grows, and the gap
# between training and validation accuracy shrinks, because what it can no
# longer fit was mostly noise specific to the training images (overfitting). The
# validation accuracy first stays level or rises while the gap closes, then falls
# once the penalty also removes real signal (underfitting): both accuracies then
# drop together. The best `reg` sits between the two regimes, and it moves lower
# when there is more training data, since more data overfits less.
#
# With the smallest learning rate, `num_iters` steps do not move far from the
# starting point: the weights still hold much of their random initialization,
# and both accuracies are low. There a larger `reg` can even help, up to a
# point, because its weight decay (each step multiplies `W` by
# `1 - 2 * lr * reg`) clears the random start away faster. Too large a learning
# rate fails the other way: SGD overshoots, the loss is noisy and, at worst,
# diverges.
# ### END SOLUTION

# %% [markdown] id="test-intro"
# ## 8. Test accuracy, errors and what the classifier learned
#
# Evaluate `best_softmax` once on the test set and store the accuracy in
# `test_accuracy`.

# %% id="test-accuracy"
test_accuracy = None
# TODO: the accuracy of best_softmax on (X_test, y_test), as a float.
### BEGIN SOLUTION
test_accuracy = float(np.mean(best_softmax.predict(X_test) == y_test))
### END SOLUTION
# Two accuracies measured on 1,000 images each differ by ~0.02 by chance alone.
CLOSE_TO_VALIDATION = 0.05
print(f"best softmax on {len(y_test)} test images: accuracy {test_accuracy:.3f} "
      f"(validation: {best_val:.3f})")
if abs(test_accuracy - best_val) < CLOSE_TO_VALIDATION:
    print("close to the validation accuracy, as it should be: the same classifier, on other images")
else:
    print(f"more than {CLOSE_TO_VALIDATION} from the validation accuracy: with this many images, suspect "
          "the test_accuracy code, or a choice made on the test set")

# %% [markdown] id="confusion-intro"
# The confusion matrix counts, for each true class (row), how often each class
# was predicted (column). Each row is shown as fractions of that class's test
# images, so the diagonal is the accuracy per class and the bright off-diagonal
# cells are the typical mistakes.

# %% id="confusion"
y_test_pred = best_softmax.predict(X_test)
confusion = np.zeros((num_classes, num_classes), dtype=np.int64)  # rows: true, columns: predicted
np.add.at(confusion, (y_test, y_test_pred), 1)
fractions = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)

fig, ax = plt.subplots(figsize=(8, 7))
image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
for i, j in np.ndindex(fractions.shape):
    ax.text(j, i, f"{fractions[i, j]:.2f}".lstrip("0") if confusion[i, j] else "",
            ha="center", va="center", fontsize=8,
            color="white" if fractions[i, j] > 0.5 else "black")
ax.set_xticks(range(num_classes), class_names, rotation=45, ha="right")
ax.set_yticks(range(num_classes), class_names)
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_title(f"Confusion matrix on {len(y_test)} test images (each row sums to 1)")
fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
fig.tight_layout()
plt.show()

# %% [markdown] id="templates-intro"
# **The learned weights as images.** Column `j` of `W`, without its last entry
# (the bias), has one weight per pixel value: reshaped to 32×32×3 it is an image,
# a *template*. Class `j`'s score is the dot product of the centred image with
# that template, so bright regions of a template are colours the class "wants"
# at that place, and dark ones count against it. Fine, random-looking speckle is
# what remains of the random initial weights: besides following the data, every
# SGD step multiplies `W` by $(1 - 2 \cdot \text{lr} \cdot \text{reg})$, so a
# fraction $(1 - 2 \cdot \text{lr} \cdot \text{reg})^{T}$, with $T$ =
# `num_iters`, of the starting noise is still there at the end.

# %% id="templates"
templates = best_softmax.W[:-1, :].reshape(32, 32, 3, num_classes)  # drop the bias row
low, high = templates.min(), templates.max()  # one scale for all, so brightness compares
fig, axes = plt.subplots(2, (num_classes + 1) // 2, figsize=(12, 5.5))
for j, ax in enumerate(axes.flat):
    ax.axis("off")
    if j < num_classes:
        ax.imshow((templates[:, :, :, j] - low) / (high - low))
        ax.set_title(class_names[j])
fig.suptitle("Learned weights of each class, shown as images")
plt.show()

# %% [markdown] id="question-3"
# **Inline question 3.** Describe what the templates show. Why can a linear
# classifier on raw pixels not do much better than this, however well it is
# tuned?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# Each template looks like a blurred average of its class: mostly colour and
# layout. The airplane and ship templates are blue (sky, sea), with a lighter
# blob in the middle; frog and deer are green and brown (grass, forest); the car
# and truck templates are often reddish with a darker band where the windscreen
# and road usually are; the horse template may show a head on each side, an
# average of horses facing left and right.
#
# That is the limit: a linear classifier has exactly one template per class, and
# its score is one dot product with it. A class whose images come in several
# distinct looks (red and blue cars, horses facing either way, objects large or
# small, left or right in the frame) can only be represented by the blurry average
# of those looks, which matches none of them well, and any cue it cannot express
# as "this colour in this place" (shape, texture, the object's position relative
# to itself) is invisible to it. Its decision boundaries are hyperplanes in pixel
# space, and on CIFAR-10 that tops out around 40% accuracy. Doing better needs
# features that do not depend on where or how big the object is, or a nonlinear
# model (a neural network learns many templates and combines them).
# ### END SOLUTION

# %% [markdown] id="question-4"
# **Inline question 4.** Our training loss is the *mean* of the per-example
# losses plus `reg * np.sum(W**2)`. Keep `W` fixed and add one new example to the
# training set.
#
# 1. If the loss were the *sum* of the per-example losses instead, could adding
#    the example leave it unchanged?
# 2. With the mean, can it?
#
# **Your answer:**
#
# ### BEGIN SOLUTION
# 1. No, not in exact arithmetic. The new example adds $-\log p_y$, and with
#    finite scores and at least two classes $p_y = e^{s_y} / \sum_k e^{s_k} < 1$:
#    the softmax never gives a class probability exactly 1, so every example,
#    however well classified, adds a strictly positive amount. (This differs from
#    the multiclass SVM, whose hinge loss is exactly 0 once the correct score
#    beats every other by the margin: adding such an example leaves a summed SVM
#    loss unchanged.) In floating point it can happen: when $s_y$ beats every
#    other score by more than about 37 to 39 (more when several classes are
#    close), $\sum_k e^{s_k - s_y}$ rounds to exactly 1 and the computed loss of
#    that example is 0.
# 2. Yes. The mean $\frac{1}{N+1}\big(N \bar L + L_{\text{new}}\big)$ equals the
#    old mean $\bar L$ exactly when $L_{\text{new}} = \bar L$, i.e. when the new
#    example's loss equals the current average loss. The penalty depends only on
#    `W`, so it does not change. (The gradient, in general, still does.)
# ### END SOLUTION

# %% [markdown] id="next"
# ## Where to go from here
#
# - Run `.venv/bin/python -m pytest` to check the Python files on their own.
# - Try other grids in the parameters cell; a finer grid around the best pair
#   usually gains another point or two of validation accuracy.
# - Run the whole notebook without a browser, for example on another copy of
#   the data (see the README, "Running the notebook headless"):
#
#   ```
#   CIFAR10_DIR=/path/to/cifar-10-batches-py .venv/bin/jupyter nbconvert --to notebook --execute assignment.ipynb --output assignment.executed.ipynb
#   ```

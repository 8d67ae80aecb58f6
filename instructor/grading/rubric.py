"""The rubric: every classic mistake, defined once.

For each mistake: the name the self-test shows, the code a student reads
(its sentence is diagnose/codes.py's, shipped with the kit), what it costs,
the edit that makes it (the self-test's mutant, an edit of the suite's own
correct code below), and how it is recognised. Everything else derives from
this module: points.CHARGES (what a mistake charged once costs), the
self-test's mistakes (instructor/grading/selftest.py), the mutants the
instructor's tests diagnose and explain (instructor/tests/), and the
mistakes a grade names (`codes_named_by_tests`).

Two ways a mistake costs points:

- **charged once**: a mistake in a loss function that instructor/grading/mistakes.py
  recognises exactly (its models). It costs COSTS[code] (naive, vectorized)
  once, however many tests it fails.
- **by its tests**: anything else (a missing shift, a loop, a float64 dW, a
  wrong SGD step) costs the points of the graded tests it fails, which
  `tests` lists exactly. Raise a test's points in points.py and the mistake
  costs more: the self-test shows it.

Shapes and names as everywhere: W (D, C), X (N, D), y (N,), reg, scores,
dscores, dW.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from diagnose.codes import CODES, TEST_CODES, TRAINING_CODES
from instructor.grading.regions import (  # noqa: F401 - the suite's regions, read through the rubric too
    BATCH,
    CORRECT,
    FUNCTION_OF,
    LINEAR,
    NAIVE,
    PREDICT,
    SOFTMAX,
    UPDATE,
    VECTORIZED,
    body,
    edit,
)

# What each mistake charged once costs, out of 100: (in softmax_loss_naive, in softmax_loss_vectorized).
COSTS = {
    "loss-not-averaged": (3, 4),
    "gradient-not-averaged": (3, 4),
    "reg-missing-in-loss": (4, 6),
    "reg-missing-in-gradient": (4, 6),
    "reg-half-in-loss": (4, 6),
    "reg-half-in-gradient": (4, 6),
    "reg-half-convention": (6, 8),
    "gradient-sign-flipped": (10, 12),
    "gradient-wrong-target": (10, 12),
    "mutates-input": (4, 4),
    "dW-is-an-input": (4, 4),
}
LOSS_FUNCTIONS = ("softmax_loss_naive", "softmax_loss_vectorized")

S = "tests/test_softmax.py::"
L = "tests/test_linear_classifier.py::"
H = "tests/hidden/"
HS = H + "test_hidden_softmax.py::"
HL = H + "test_hidden_linear_classifier.py::"
HC = H + "test_hidden_checks.py::"


@dataclass(frozen=True)
class Mistake:
    """One classic mistake: how the self-test makes it, what it is called, what it costs.

    - name: the self-test's row, e.g. "vectorized: no reg in the loss".
    - codes: the codes it is named by (diagnose/codes.py explains each).
    - edits: edit(...) / body(...) of CORRECT that make it.
    - tests: node-id patterns of the graded tests it fails; the first is the
      test named after it. For a mistake charged by its tests, exactly the
      tests it fails; for one charged once, the tests named after it.
    - function: the loss function it is in, when it is charged once.
    """

    name: str
    codes: tuple[str, ...]
    edits: tuple
    tests: tuple[str, ...]
    function: str = ""

    @property
    def charged_once(self) -> bool:
        return bool(self.function)

    @property
    def cost(self) -> float | None:
        """What it costs when charged once (None: its tests' points, as the points table says)."""
        if not self.charged_once:
            return None
        return float(sum(COSTS[code][LOSS_FUNCTIONS.index(self.function)] for code in self.codes))

    @property
    def named_test(self) -> str:
        return self.tests[0]

    def test_cost(self, points: dict[str, float]) -> float:
        """The points of the graded tests in `points` (test id -> points) that `tests` lists."""
        return sum(value for test, value in points.items() if self.lists(test))

    def lists(self, test_id: str) -> bool:
        return any(matches(test_id, pattern) for pattern in self.tests)


def matches(test_id: str, pattern: str) -> bool:
    """Whether a test id fits a pattern: `*` is any text, brackets are literal (test[naive])."""
    return fnmatchcase(test_id, pattern.replace("[", "[[]"))


# Mistakes charged once, in both loss functions: (name, codes, edits by their name in _once_edits,
# the visible tests named after it, by their short name in NAMED).
ONCE_TABLE = (
    ("loss not divided by N", ("loss-not-averaged",), ("no_mean_loss",), ("loss_mean",)),
    ("gradient not divided by N", ("gradient-not-averaged",), ("no_mean_grad",), ("gradient_mean",)),
    ("no reg in the loss", ("reg-missing-in-loss",), ("reg_loss",), ("reg_in_loss",)),
    ("no reg in the gradient", ("reg-missing-in-gradient",), ("reg_grad",), ("reg_in_gradient",)),
    ("0.5 * reg in the loss only", ("reg-half-in-loss",), ("half_loss",), ("reg_in_loss",)),
    ("reg * W in the gradient only", ("reg-half-in-gradient",), ("half_grad",), ("reg_in_gradient",)),
    (
        "the 0.5 * reg convention",
        ("reg-half-convention",),
        ("half_loss", "half_grad"),
        ("reg_in_loss", "reg_in_gradient"),
    ),
    ("wrong sign of the gradient", ("gradient-sign-flipped",), ("flipped",), ("small_step",)),
    ("-1 on the wrong class", ("gradient-wrong-target",), ("target",), ("minus_one",)),
    ("modifies W in place", ("mutates-input",), ("mutates",), ("unmodified",)),
    ("returns W itself as dW", ("mutates-input", "dW-is-an-input"), ("returns_W",), ("new_array", "unmodified")),
)
NAMED = {  # short name -> the visible test; {p} is the function's parameter, [naive] or [vectorized]
    "loss_mean": "test_loss_is_a_mean_over_examples_not_a_sum{p}",
    "gradient_mean": "test_gradient_is_a_mean_over_examples_not_a_sum{p}",
    "reg_in_loss": "test_loss_includes_reg_times_sum_of_squared_weights{p}",
    "reg_in_gradient": "test_regularization_gradient_is_2_reg_W{p}",
    "small_step": "test_a_small_step_against_the_gradient_lowers_the_loss{p}",
    "minus_one": "test_gradient_subtracts_one_at_each_label{p}",
    "unmodified": "test_inputs_are_not_modified",
    "new_array": "test_gradient_is_a_new_array_not_W_itself{p}",
}


def _once_edits(region) -> dict[str, list]:
    """The edits that make each mistake charged once, in one function's correct code."""
    if region == NAIVE:
        start, gradient = "num_train, num_classes = X.shape[0], W.shape[1]\n", "dW = dW / num_train + 2 * reg * W"
        own = {
            "no_mean_loss": [edit(NAIVE, "loss = loss / num_train + ", "loss = loss + ")],
            "no_mean_grad": [edit(NAIVE, "dW = dW / num_train + ", "dW = dW + ")],
            "flipped": [edit(NAIVE, "dW[:, j] += (p_j", "dW[:, j] -= (p_j")],
            "target": [edit(NAIVE, "(j == y[i])", "(j == (y[i] + 1) % num_classes)")],
        }
    else:
        start, gradient = "num_train = X.shape[0]\n", "dW = X.T @ dscores / num_train + 2 * reg * W"
        own = {
            "no_mean_loss": [edit(VECTORIZED, "np.mean(", "np.sum(")],
            "no_mean_grad": [edit(VECTORIZED, "X.T @ dscores / num_train", "X.T @ dscores")],
            "flipped": [edit(VECTORIZED, "X.T @ dscores / num_train", "-X.T @ dscores / num_train")],
            "target": [edit(VECTORIZED, "dscores[rows, y] -= 1", "dscores[:, y] -= 1")],
        }
    return {
        **own,
        "reg_loss": [edit(region, " + reg * np.sum(W * W)", "")],
        "reg_grad": [edit(region, " + 2 * reg * W", "")],
        "half_loss": [edit(region, "+ reg * np.sum(W * W)", "+ 0.5 * reg * np.sum(W * W)")],
        "half_grad": [edit(region, "+ 2 * reg * W", "+ reg * W")],
        "mutates": [edit(region, start, start + "W *= 1.0000001\n")],
        # W overwritten with the gradient and returned: dW is W, and W changed.
        "returns_W": [edit(region, gradient, gradient.replace("dW = ", "W += ", 1) + " - W\ndW = W")],
    }


def _loss_pair_mistakes() -> list[Mistake]:
    """The mistakes of the loss pair that mistakes.py recognises exactly: each charged once."""
    found = []
    for region, label in ((NAIVE, "naive"), (VECTORIZED, "vectorized")):
        edits = _once_edits(region)
        for name, codes, edit_names, named in ONCE_TABLE:
            tests = tuple(S + NAMED[short].format(p=f"[{label}]") for short in named)
            made = tuple(e for edit_name in edit_names for e in edits[edit_name])
            found.append(Mistake(f"{label}: {name}", codes, made, tests, FUNCTION_OF[region]))
    return found


def _by_tests(name: str, codes: tuple[str, ...], edits: list, tests: tuple[str, ...]) -> Mistake:
    return Mistake(name, codes, tuple(edits), tests)


def _loss_pair_by_tests() -> list[Mistake]:
    """Mistakes of the loss pair no value model recognises: they cost the tests they fail."""
    naive_shift = [edit(NAIVE, "shifted = row - np.max(row)", "shifted = row")]
    vec_shift = [edit(VECTORIZED, "scores = scores - np.max(scores, axis=1, keepdims=True)\n", "")]
    global_shift = [edit(VECTORIZED, "np.max(scores, axis=1, keepdims=True)", "np.max(scores)")]
    naive_ratio = [
        edit(NAIVE, "loss += log_norm - shifted[y[i]]", "loss += -np.log(np.exp(shifted[y[i]]) / np.exp(log_norm))")
    ]
    vec_ratio = [
        edit(
            VECTORIZED,
            "np.mean(log_norm - scores[rows, y])",
            "np.mean(-np.log(np.exp(scores[rows, y]) / np.exp(log_norm)))",
        )
    ]
    loop = [
        edit(
            VECTORIZED,
            "dW = X.T @ dscores / num_train",
            "dW = sum(np.outer(X[i], dscores[i]) for i in range(num_train)) / num_train",
        )
    ]
    loop_minus_one = [
        edit(VECTORIZED, "dscores[rows, y] -= 1\n", "for i in range(num_train):\n    dscores[i, y[i]] -= 1\n")
    ]
    return [
        _by_tests("naive: no max shift", ("overflow-without-shift",), naive_shift, _overflow("naive")),
        _by_tests("vectorized: no max shift", ("overflow-without-shift",), vec_shift, _overflow("vectorized")),
        _by_tests(
            "vectorized: shift by the whole matrix's max",
            ("shift-by-global-max",),
            global_shift,
            (
                S + "test_loss_is_stable_for_huge_scores[vectorized]",
                S + "test_loss_is_stable_for_huge_scores_in_float32[vectorized]",
                HC + "test_extreme_scores_values[vectorized]",
            ),
        ),
        _by_tests("naive: log(exp / sum)", ("underflow-log-of-ratio",), naive_ratio, _underflow("naive")),
        _by_tests("vectorized: log(exp / sum)", ("underflow-log-of-ratio",), vec_ratio, _underflow("vectorized")),
        _by_tests("vectorized: loop over examples", ("vectorized-has-loops",), loop, LOOP_TESTS),
        _by_tests("vectorized: loop for the -1", ("vectorized-has-loops",), loop_minus_one, LOOP_TESTS),
        _by_tests(
            "vectorized: float64 forced",
            ("float32-promoted",),
            [edit(VECTORIZED, "+ 2 * reg * W", "+ 2 * reg * W.astype(np.float64)")],
            _float32("vectorized"),
        ),
        _by_tests(
            "naive: float64 forced",
            ("float32-promoted",),
            [edit(NAIVE, "dW = dW / num_train", "dW = dW.astype(np.float64) / num_train")],
            _float32("naive"),
        ),
    ]


def _overflow(label: str) -> tuple[str, ...]:
    return (
        S + f"test_loss_is_stable_for_huge_scores[{label}]",
        S + f"test_loss_is_stable_for_huge_scores_in_float32[{label}]",
        HC + f"test_extreme_scores_values[{label}]",
        HS + f"test_hidden_extreme_scores_give_the_exact_finite_loss[{label}-*]",
    )


def _underflow(label: str) -> tuple[str, ...]:
    return (
        S + f"test_loss_is_exact_when_correct_class_is_far_below_the_best[{label}]",
        HC + f"test_extreme_scores_values[{label}]",
        HS + f"test_hidden_extreme_scores_give_the_exact_finite_loss[{label}-*]",
    )


def _float32(label: str) -> tuple[str, ...]:
    return (
        S + f"test_float32_inputs_give_float32_gradient[{label}]",
        HC + "test_float32_stays_float32",
        HS + f"test_hidden_float32_in_float32_out_with_float32_accuracy[{label}]",
    )


LOOP_TESTS = (
    S + "test_vectorized_source_has_no_loops",
    S + "test_vectorized_runs_the_same_lines_for_any_N",
    HC + "test_vectorized_has_no_loops",
)


def _classifier_mistakes() -> list[Mistake]:
    """Mistakes in train and predict: they cost the tests they fail."""
    no_rng = "np.random.randint(0, num_train, size=batch_size)"
    return [
        _by_tests(
            "SGD: float64 forced",
            ("float32-promoted",),
            [
                edit(
                    UPDATE,
                    "self.W -= learning_rate * grad",
                    "self.W = self.W.astype(np.float64) - learning_rate * grad",
                )
            ],
            (
                L + "test_float32_training_keeps_float32_weights",
                HC + "test_sgd_step_follows_the_gradient[float32]",
                HL + "test_hidden_one_sgd_step_is_W_minus_learning_rate_times_dW[float32]",
                HL + "test_hidden_float32_training_and_prediction",
            ),
        ),
        _by_tests(
            "predict returns probabilities",
            ("predict-not-labels",),
            [
                edit(
                    PREDICT,
                    "y_pred = np.argmax(X @ self.W, axis=1)",
                    "y_pred = np.exp(X @ self.W) / np.exp(X @ self.W).sum(axis=1, keepdims=True)",
                )
            ],
            (
                *PREDICT_TESTS,
                L + "test_sgd_reaches_high_training_accuracy_on_separable_data",
                L + "test_softmax_trains_end_to_end_with_your_vectorized_loss",
            ),
        ),
        _by_tests(
            "predict returns float labels",
            ("predict-not-labels",),
            [edit(PREDICT, "axis=1)", "axis=1).astype(float)")],
            PREDICT_TESTS,
        ),
        _by_tests(
            "SGD: no update of W",
            ("sgd-no-update",),
            [edit(UPDATE, "self.W -= learning_rate * grad", "pass")],
            (
                L + "test_training_updates_W",
                L + "test_divergence_stops_with_advice_and_keeps_the_history",
                HL + "test_hidden_training_a_second_time_continues_from_the_learned_W",
                *SGD_TESTS,
            ),
        ),
        _by_tests(
            "SGD: wrong sign of the update",
            ("sgd-wrong-sign",),
            [edit(UPDATE, "-=", "+=")],
            (*SGD_STEP_TESTS, *SGD_TESTS, HL + "test_hidden_training_a_second_time_continues_from_the_learned_W"),
        ),
        _by_tests(
            "SGD: no learning rate",
            ("sgd-step-size",),
            [edit(UPDATE, "learning_rate * grad", "grad")],
            (
                *SGD_STEP_TESTS,
                L + "test_first_loss_is_that_of_W_near_0_with_the_lazy_small_initialization",
                L + "test_divergence_stops_with_advice_and_keeps_the_history",
            ),
        ),
        _by_tests(
            "SGD: the same batch every step",
            ("sgd-same-batch",),
            [edit(BATCH, "rng.integers(0, num_train, size=batch_size)", "np.arange(batch_size) % num_train")],
            (L + "test_batches_are_random_rows_with_matching_labels",),
        ),
        _by_tests(
            "SGD: labels not matching the rows",
            ("sgd-labels-mismatched",),
            [edit(BATCH, "y_batch = y[batch]", "y_batch = y[rng.integers(0, num_train, size=batch_size)]")],
            (
                L + "test_batches_are_random_rows_with_matching_labels",
                L + "test_sgd_reaches_high_training_accuracy_on_separable_data",
                L + "test_softmax_trains_end_to_end_with_your_vectorized_loss",
                L + "test_train_returns_one_loss_per_iteration_and_the_loss_falls",
                HC + "test_sgd_learns_separable_data",
                HL + "test_hidden_float32_training_and_prediction",
            ),
        ),
        _by_tests(
            "SGD: np.random instead of rng",
            ("sgd-not-seeded",),
            [edit(BATCH, "rng.integers(0, num_train, size=batch_size)", no_rng)],
            (L + "test_same_seed_gives_the_same_run_and_another_seed_does_not",),
        ),
    ]


PREDICT_TESTS = (
    L + "test_predict_returns_integer_labels_not_scores",
    HC + "test_predict_labels",
    HL + "test_hidden_float32_training_and_prediction",
    HL + "test_hidden_predict_is_the_argmax_of_the_scores_as_integers",
)
# One SGD step checked exactly, and whole training runs: a wrong step fails them all.
SGD_STEP_TESTS = (
    HC + "test_sgd_step_follows_the_gradient[*]",
    HL + "test_hidden_one_sgd_step_is_W_minus_learning_rate_times_dW[*]",
)
SGD_TESTS = (
    *SGD_STEP_TESTS,
    L + "test_sgd_reaches_high_training_accuracy_on_separable_data",
    L + "test_softmax_trains_end_to_end_with_your_vectorized_loss",
    L + "test_train_returns_one_loss_per_iteration_and_the_loss_falls",
    HC + "test_sgd_learns_separable_data",
    HL + "test_hidden_float32_training_and_prediction",
)


MISTAKES: tuple[Mistake, ...] = (*_loss_pair_mistakes(), *_loss_pair_by_tests(), *_classifier_mistakes())
BY_NAME = {mistake.name: mistake for mistake in MISTAKES}


def charges() -> dict[str, dict[str, float]]:
    """What each mistake charged once costs, per loss function and code: points.CHARGES."""
    return {function: {code: costs[i] for code, costs in COSTS.items()} for i, function in enumerate(LOSS_FUNCTIONS)}


def sentence(code: str) -> str:
    """What a student reads for `code` (diagnose/codes.py)."""
    for table in (CODES, TRAINING_CODES, TEST_CODES):
        if code in table:
            return table[code]
    raise KeyError(f"{code!r} is not a code of diagnose/codes.py")


# Codes that no diagnosis gives, named when a failing test recognises them: (code, where, test-id
# pattern, what its message then says). A test that also checks a value fails for a wrong value too:
# only its own words name the mistake.
PREDICT_SAYS = ("integer", "shape")  # what predict returned is no array of integer labels
NAMED_BY_TESTS = (
    ("vectorized-has-loops", "softmax_loss_vectorized", S + "test_vectorized_source_has_no_loops", ("loop",)),
    ("vectorized-has-loops", "softmax_loss_vectorized", S + "test_vectorized_runs_the_same_lines_for_any_N", ("loop",)),
    ("vectorized-has-loops", "softmax_loss_vectorized", HC + "test_vectorized_has_no_loops", ("loop",)),
    (
        "predict-not-labels",
        "LinearClassifier.predict",
        L + "test_predict_returns_integer_labels_not_scores",
        PREDICT_SAYS,
    ),
    ("predict-not-labels", "LinearClassifier.predict", HC + "test_predict_labels", PREDICT_SAYS),
)
# Errors a failing test's message shows when a graded file does not import ("ImportError:" also
# ends the boundary's StudentImportError, raised for a file whose import ends the process running it).
IMPORT_ERRORS = ("SyntaxError", "IndentationError", "TabError", "ImportError", "ModuleNotFoundError")
GRADED_FILES = (SOFTMAX, LINEAR)


def named_by_test(test_id: str, message: str) -> list[tuple[str, str]]:
    """(code, where) of the mistakes a failing test names by itself: its name, or a file that does not import."""
    found = [
        (code, where)
        for code, where, pattern, says in NAMED_BY_TESTS
        if matches(test_id, pattern) and any(word in message for word in says)
    ]
    if any(f"{error}:" in message for error in IMPORT_ERRORS):
        files = [path for path in GRADED_FILES if path in message or path.rsplit("/", 1)[-1] in message]
        found += [("does-not-import", path) for path in files[:1]]
    return found

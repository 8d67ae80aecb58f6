"""The points table: what every graded test is worth. Edit points here only.

Each entry is (pattern, points, what it covers). A graded test's name is its
pytest node id without the parameters ("tests/test_softmax.py::test_x" for
"tests/test_softmax.py::test_x[naive]"), or nothing else. The first matching pattern wins; an entry's
points are shared equally by all the tests it matches (so a parametrized test
splits its points among its cases, and a catch-all shares its points among
whatever tests fall through to it).

The grader refuses to run if the entries do not sum to TOTAL, if an entry
matches no test (its points could never be earned) or if a graded test
matches no entry, so the total below is always the real maximum.

    visible tests (tests/test_softmax.py, tests/test_linear_classifier.py)  52
    hidden tests (tests/hidden/test_hidden_{softmax,linear_classifier}.py)  18
    hidden value checks (tests/hidden/test_hidden_checks.py)                30
                                                                           ---
    TOTAL                                                                  100

One mistake is charged once. A wrong loss fails many tests together (its
own test, the finite differences, naive == vectorized, the hidden tests and
value checks); when every call a failing test made to the loss functions is
exactly the reference with classic mistakes switched on
(instructor/grading/mistakes.py), those tests do not each cost their points:
each mistake costs what CHARGES says, once, taken from the points of the
tests it fails (never more than they are worth). Anything else wrong costs
the points of the tests it fails, as the table says. And nothing is earned
for nothing: a test of the loss pair that passes on a loss that was never
computed (zeros, a constant) fails in grading (mistakes.not_computed).

What each classic mistake costs, and how, is the rubric: instructor/grading/rubric.py
(CHARGES below comes from there). The self-test (python -m instructor.grading.selftest)
grades every one of them with this table and shows what each costs.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path

from instructor.grading import mistakes, rubric

TOTAL = 100
# This file as the instructor finds it (errors name it): instructor/grading/points.py.
TABLE_FILE = "/".join(Path(__file__).parts[-3:])

# Test files run in the sandbox; paths relative to the kit root.
# tests/test_validation.py is not graded: it tests the kit's own input checks.
GRADED_TEST_PATHS = ("tests/test_softmax.py", "tests/test_linear_classifier.py", "tests/hidden")
HIDDEN_PREFIXES = ("tests/hidden/",)  # shown on Gradescope only once grades are published
DECIMALS = 4  # points per test are rounded to this many places, and still add up to each entry exactly

S = "tests/test_softmax.py::"
L = "tests/test_linear_classifier.py::"
H = "tests/hidden/"
C = "tests/hidden/test_hidden_checks.py::"

POINTS: list[tuple[str, float, str]] = [
    # --- visible: the softmax pair (36) ---
    (S + "test_returns_one_number_and_a_gradient_shaped_like_W", 1, "return types and shapes"),
    (S + "test_float32_inputs_give_float32_gradient", 2, "float32 stays float32"),
    (S + "test_loss_is_log_C_for_tiny_weights", 2, "loss near log(C)"),
    (S + "test_probabilities_sum_to_one", 2, "a proper softmax"),
    (S + "test_loss_unchanged_when_a_constant_is_added_to_every_score", 2, "shift invariance"),
    (S + "test_loss_is_a_mean_over_examples_not_a_sum", 1, "divide the loss by N"),
    (S + "test_gradient_is_a_mean_over_examples_not_a_sum", 1, "divide the gradient by N"),
    (S + "test_loss_includes_reg_times_sum_of_squared_weights", 2, "regularization in the loss"),
    (S + "test_regularization_gradient_is_2_reg_W", 2, "regularization in the gradient"),
    (S + "test_gradient_subtracts_one_at_each_label", 2, "the -1 on the right class"),
    (S + "test_a_small_step_against_the_gradient_lowers_the_loss", 1, "the sign of the gradient"),
    (S + "test_gradient_matches_finite_differences", 3, "the gradient"),
    (S + "test_vectorized_matches_naive", 4, "naive == vectorized"),
    (S + "test_vectorized_matches_naive_on_cifar_sized_rows", 1, "naive == vectorized, CIFAR-sized"),
    (S + "test_loss_is_stable_for_huge_scores", 2, "max shift"),
    (S + "test_loss_is_exact_when_correct_class_is_far_below_the_best", 2, "log-sum-exp"),
    (S + "test_loss_is_stable_for_huge_scores_in_float32", 1, "stability in float32"),
    (S + "test_inputs_are_not_modified", 1, "no in-place changes"),
    (S + "test_gradient_is_a_new_array_not_W_itself", 1, "dW is a new array"),
    (S + "test_vectorized_source_has_no_loops", 2, "no loops in the vectorized version"),
    (S + "test_vectorized_runs_the_same_lines_for_any_N", 1, "no hidden loops"),
    # --- visible: the linear classifier (16) ---
    # The SGD tests train the kit's stand-in loss (tests/stand_in.py) on the student's train and
    # predict; Softmax end to end repeats the loss's own tests, so its points are theirs.
    (L + "test_sgd_reaches_high_training_accuracy_on_separable_data", 2, "SGD learns"),
    (L + "test_softmax_trains_end_to_end_with_your_vectorized_loss", 0, "Softmax end to end (graded in the loss)"),
    (L + "test_train_returns_one_loss_per_iteration_and_the_loss_falls", 1, "loss history"),
    (L + "test_training_updates_W", 1, "SGD updates W"),
    (L + "test_same_seed_gives_the_same_run_and_another_seed_does_not", 2, "batches from rng"),
    (L + "test_batches_are_random_rows_with_matching_labels", 3, "new random rows every step, with their labels"),
    (L + "test_batches_are_sampled_with_replacement", 1, "sampling with replacement"),
    (L + "test_float32_training_keeps_float32_weights", 1, "float32 training"),
    (L + "test_train_and_predict_do_not_modify_their_inputs", 1, "no in-place changes"),
    (L + "test_predict_returns_integer_labels_not_scores", 2, "predict returns labels"),
    # Kit code outside the student regions passes even in an untouched stub: no points.
    (L + "test_load_rejects_*", 0, "load() error handling (kit code)"),
    (L + "test_*_before_training_says_so", 0, "untrained-model errors (kit code)"),
    (L + "*", 2, "initialization, progress, divergence, save/load round trip"),
    # --- hidden tests (18) ---
    (H + "test_hidden_softmax.py::*", 12, "the softmax pair on new inputs"),
    (H + "test_hidden_linear_classifier.py::*", 6, "the classifier on new inputs"),
    # --- hidden value checks (30) ---
    (C + "test_loss_and_gradient_values", 11, "loss and gradient values, both versions"),
    (C + "test_extreme_scores_values", 5, "stability, both versions"),
    (C + "test_float32_stays_float32", 2, "float32"),
    (C + "test_loss_functions_leave_inputs_unchanged", 2, "no in-place changes"),
    (C + "test_vectorized_has_no_loops", 2, "no loops (static)"),
    (C + "test_predict_labels", 2, "predict"),
    (C + "test_sgd_step_follows_the_gradient", 3, "one SGD step"),
    (C + "test_sgd_learns_separable_data", 3, "SGD learns"),
]


# What each classic mistake in a loss function costs, charged once however many tests it
# fails (see above): function -> code -> points, from the rubric.
CHARGES: dict[str, dict[str, float]] = rubric.charges()
# The tests of the loss pair (the rest grade the classifier): what the self-test's
# "nothing for nothing" variants must earn none of.
LOSS_PAIR = (
    S + "*",
    H + "test_hidden_softmax.py::*",
    *(
        C + name
        for name in (
            "test_loss_and_gradient_values",
            "test_extreme_scores_values",
            "test_float32_stays_float32",
            "test_loss_functions_leave_inputs_unchanged",
            "test_vectorized_has_no_loops",
        )
    ),
)


class PointsError(ValueError):
    """The table does not fit the graded tests."""


def table_key(test_id: str) -> str:
    """The name the table matches: the node id without its parameters."""
    return test_id.split("[", 1)[0]


def entry_of(test_id: str) -> int | None:
    """The index of the POINTS entry that gives `test_id` its points (the first match)."""
    return next((i for i, (pattern, _, _) in enumerate(POINTS) if fnmatchcase(table_key(test_id), pattern)), None)


def entry_label(index: int) -> str:
    """A gradebook column name for one entry: its pattern, without the common tests/ prefix."""
    return POINTS[index][0].removeprefix("tests/")


def assign_points(test_ids: list[str]) -> dict[str, float]:
    """Points of each graded test; raises PointsError if the table is wrong."""
    declared = sum(points for _, points, _ in POINTS)
    if abs(declared - TOTAL) > 1e-9:
        raise PointsError(f"{TABLE_FILE}: the entries sum to {declared}, but TOTAL is {TOTAL}")
    uncharged = [
        f"{f} {c}" for f in mistakes.RECORDED for c in mistakes.CODES if not 0 <= CHARGES.get(f, {}).get(c, -1) <= TOTAL
    ]
    if uncharged:
        raise PointsError(f"{TABLE_FILE}: CHARGES needs a cost between 0 and TOTAL for " + ", ".join(uncharged))
    members: dict[int, list[str]] = {index: [] for index in range(len(POINTS))}
    unmatched = []
    for test_id in test_ids:
        index = entry_of(test_id)
        if index is None:
            unmatched.append(test_id)
        else:
            members[index].append(test_id)
    empty = [POINTS[i][0] for i, ids in members.items() if not ids]
    if unmatched or empty:
        raise PointsError(
            f"{TABLE_FILE} does not fit the graded tests:"
            + "".join(f"\n  no entry gives points to {t}" for t in unmatched)
            + "".join(f"\n  the entry {p!r} matches no test" for p in empty)
        )
    points: dict[str, float] = {}
    for index, ids in members.items():
        points.update(apportion(POINTS[index][1], dict.fromkeys(ids, 1.0)))
    return points


def apportion(total: float, weights: dict[str, float]) -> dict[str, float]:
    """Share `total` among the keys in proportion to their weights, rounded to DECIMALS places.

    The shares add up to `total` exactly: the leftover units go to the largest
    remainders, earliest keys first on ties, so the per-test points a gradebook
    shows (and Gradescope adds up) sum to their entry.
    """
    unit = 10**DECIMALS
    units = round(total * unit)
    whole = sum(weights.values())
    exact = {key: units * weight / whole if whole else 0.0 for key, weight in weights.items()}
    shares = {key: int(value) for key, value in exact.items()}
    for key in sorted(exact, key=lambda k: shares[k] - exact[k])[: units - sum(shares.values())]:
        shares[key] += 1
    return {key: share / unit for key, share in shares.items()}


def charge_once(
    explained: dict[str, tuple[float, dict[str, tuple[str, ...]]]], charges: dict[str, dict[str, float]] = CHARGES
) -> tuple[dict[str, float], list[str]]:
    """Charge each classic mistake once instead of every test it fails.

    explained: test id -> (its points, {function: its mistakes}) for each failed
    test that mistakes.py explains; charges: the costs (a bundle's own, so a
    regrade with a pinned bundle charges what it did then). Returns the points
    each of those tests keeps (the mistakes' costs, capped by what the tests
    are worth, are taken from them in proportion to their points), and one
    line per mistake charged. A test whose mistakes have no cost in `charges`
    keeps nothing: it is charged in full.
    """
    worth = {
        test_id: value
        for test_id, (value, by_function) in explained.items()
        if all(c in charges.get(f, {}) for f, codes in by_function.items() for c in codes)
    }
    if not worth:
        return {}, []
    found = sorted({(f, c) for test_id in worth for f, codes in explained[test_id][1].items() for c in codes})
    cost = sum(charges[f][c] for f, c in found)
    charged = min(sum(worth.values()), cost)
    lines = [f"{f}: {c} costs {charges[f][c]:g} points, charged once" for f, c in found]
    if charged < cost:
        lines.append(f"(capped at {charged:g}: the points of the {len(worth)} tests these mistakes fail)")
    return apportion(sum(worth.values()) - charged, worth), lines


def in_loss_pair(test_id: str) -> bool:
    """Whether a graded test grades the loss pair (LOSS_PAIR), not the classifier."""
    return any(fnmatchcase(table_key(test_id), pattern) for pattern in LOSS_PAIR)


def is_hidden(test_id: str) -> bool:
    return test_id.startswith(HIDDEN_PREFIXES)

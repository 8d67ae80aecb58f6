"""The points table: what every graded test is worth. Edit points here only.

Each entry is (pattern, points, what it covers). A graded test's name is its
pytest node id without the parameters ("tests/test_softmax.py::test_x" for
"tests/test_softmax.py::test_x[naive]"), or "check::NAME" for the parent's own
checks (instructor/checks.py). The first matching pattern wins; an entry's
points are shared equally by all the tests it matches (so a parametrized test
splits its points among its cases, and a catch-all shares its points among
whatever tests fall through to it).

The grader refuses to run if the entries do not sum to TOTAL, if an entry
matches no test (its points could never be earned) or if a graded test
matches no entry, so the total below is always the real maximum.

    visible tests (tests/test_softmax.py, tests/test_linear_classifier.py)  50
    hidden tests (tests/hidden/)                                            20
    the parent's checks (values compared outside the sandbox)               30
                                                                           ---
    TOTAL                                                                  100
"""

from __future__ import annotations

from fnmatch import fnmatchcase

TOTAL = 100

# Test files run in the sandbox; paths relative to the kit root.
# tests/test_validation.py is not graded: it tests the kit's own input checks.
GRADED_TEST_PATHS = ("tests/test_softmax.py", "tests/test_linear_classifier.py", "tests/hidden")
HIDDEN_PREFIXES = ("tests/hidden/", "check::")  # shown on Gradescope only once grades are published

S = "tests/test_softmax.py::"
L = "tests/test_linear_classifier.py::"
H = "tests/hidden/"

POINTS: list[tuple[str, float, str]] = [
    # --- visible: the softmax pair (36) ---
    (S + "test_returns_python_float_loss_and_gradient_shaped_like_W", 1, "return types and shapes"),
    (S + "test_float32_inputs_give_float32_gradient", 2, "float32 stays float32"),
    (S + "test_loss_is_log_C_for_tiny_weights", 2, "loss near log(C)"),
    (S + "test_probabilities_sum_to_one", 2, "a proper softmax"),
    (S + "test_loss_unchanged_when_a_constant_is_added_to_every_score", 2, "shift invariance"),
    (S + "test_loss_is_a_mean_over_examples_not_a_sum", 2, "divide by N"),
    (S + "test_loss_includes_reg_times_sum_of_squared_weights", 2, "regularization in the loss"),
    (S + "test_regularization_gradient_is_2_reg_W", 2, "regularization in the gradient"),
    (S + "test_gradient_at_zero_weights_is_X_T_times_uniform_minus_onehot", 2, "the -1 on the right class"),
    (S + "test_gradient_matches_finite_differences", 4, "the gradient"),
    (S + "test_vectorized_matches_naive", 4, "naive == vectorized"),
    (S + "test_vectorized_matches_naive_on_cifar_sized_rows", 1, "naive == vectorized, CIFAR-sized"),
    (S + "test_loss_is_stable_for_huge_scores", 2, "max shift"),
    (S + "test_loss_is_exact_when_correct_class_is_far_below_the_best", 2, "log-sum-exp"),
    (S + "test_loss_is_stable_for_huge_scores_in_float32", 1, "stability in float32"),
    (S + "test_inputs_are_not_modified", 1, "no in-place changes"),
    (S + "test_gradient_is_a_new_array_not_W_itself", 1, "dW is a new array"),
    (S + "test_vectorized_source_has_no_loops", 2, "no loops in the vectorized version"),
    (S + "test_vectorized_runs_the_same_lines_for_any_N", 1, "no hidden loops"),
    # --- visible: the linear classifier (14) ---
    (L + "test_softmax_reaches_high_training_accuracy_on_separable_data", 2, "SGD learns"),
    (L + "test_train_returns_one_loss_per_iteration_and_the_loss_falls", 1, "loss history"),
    (L + "test_training_updates_W", 1, "SGD updates W"),
    (L + "test_same_seed_gives_the_same_run_and_another_seed_does_not", 1, "batches from rng"),
    (L + "test_batches_are_*", 2, "batch sampling"),
    (L + "test_float32_training_keeps_float32_weights", 1, "float32 training"),
    (L + "test_train_and_predict_do_not_modify_their_inputs", 1, "no in-place changes"),
    (L + "test_predict_returns_integer_labels_not_scores", 2, "predict returns labels"),
    # Kit code outside the student regions passes even in an untouched stub: no points.
    (L + "test_load_rejects_*", 0, "load() error handling (kit code)"),
    (L + "test_*_before_training_says_so", 0, "untrained-model errors (kit code)"),
    (L + "*", 3, "initialization, progress, divergence, save/load round trip"),
    # --- hidden tests (20) ---
    (H + "test_hidden_softmax.py::*", 12, "the softmax pair on new inputs"),
    (H + "*", 8, "the classifier on new inputs"),
    # --- the parent's checks (30) ---
    ("check::naive_loss_and_gradient", 5, "naive values"),
    ("check::vectorized_loss_and_gradient", 6, "vectorized values"),
    ("check::naive_extreme_scores", 2, "naive stability"),
    ("check::vectorized_extreme_scores", 3, "vectorized stability"),
    ("check::float32_stays_float32", 2, "float32"),
    ("check::loss_functions_leave_inputs_unchanged", 2, "no in-place changes"),
    ("check::vectorized_has_no_loops", 2, "no loops (static)"),
    ("check::predict_labels", 2, "predict"),
    ("check::sgd_step_follows_the_gradient", 3, "one SGD step"),
    ("check::sgd_learns_separable_data", 3, "SGD learns"),
]


class PointsError(ValueError):
    """The table does not fit the graded tests."""


def table_key(test_id: str) -> str:
    """The name the table matches: the node id without its parameters."""
    return test_id.split("[", 1)[0]


def assign_points(test_ids: list[str]) -> dict[str, float]:
    """Points of each graded test; raises PointsError if the table is wrong."""
    declared = sum(points for _, points, _ in POINTS)
    if abs(declared - TOTAL) > 1e-9:
        raise PointsError(f"instructor/points.py: the entries sum to {declared}, but TOTAL is {TOTAL}")
    members: dict[int, list[str]] = {index: [] for index in range(len(POINTS))}
    unmatched = []
    for test_id in test_ids:
        index = next((i for i, (pattern, _, _) in enumerate(POINTS) if fnmatchcase(table_key(test_id), pattern)), None)
        if index is None:
            unmatched.append(test_id)
        else:
            members[index].append(test_id)
    empty = [POINTS[i][0] for i, ids in members.items() if not ids]
    if unmatched or empty:
        raise PointsError(
            "instructor/points.py does not fit the graded tests:"
            + "".join(f"\n  no entry gives points to {t}" for t in unmatched)
            + "".join(f"\n  the entry {p!r} matches no test" for p in empty)
        )
    return {t: POINTS[i][1] / len(ids) for i, ids in members.items() for t in ids}


def is_hidden(test_id: str) -> bool:
    return test_id.startswith(HIDDEN_PREFIXES)

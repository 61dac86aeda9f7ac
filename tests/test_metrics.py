"""Tests for gan_core.measuring.metrics: closed forms, independent computations and the `prdc` package as oracles."""

import math

import numpy as np
import prdc as prdc_package
import pytest
from scipy.spatial.distance import cdist

from gan_core.measuring import metrics

RING_CENTRES = np.array([[2 * math.cos(angle), 2 * math.sin(angle)] for angle in np.arange(8) * 2 * math.pi / 8])
RING_STD = 0.02


def correlated_features(rng, rows, width, shift=0.0):
    """Gaussian features with a random non-diagonal covariance, so the trace term is a real test."""
    mixing = rng.normal(size=(width, width)) / math.sqrt(width)
    return rng.normal(size=(rows, width)) @ mixing + shift


def ring_samples(rng, rows, modes=range(8)):
    """Points drawn from the ring-of-Gaussians mixture, restricted to the given modes."""
    chosen = rng.choice(list(modes), size=rows)
    return RING_CENTRES[chosen] + rng.normal(scale=RING_STD, size=(rows, 2))


# ---------------------------------------------------------------------------------------------------------------
# Fréchet distance


def test_frechet_distance_of_diagonal_gaussians_matches_the_closed_form():
    rng = np.random.default_rng(1)
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    variances_a, variances_b = rng.uniform(0.1, 3.0, size=6), rng.uniform(0.1, 3.0, size=6)
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(variances_a) - np.sqrt(variances_b)) ** 2)
    result = metrics.frechet_distance_from_statistics(mean_a, np.diag(variances_a), mean_b, np.diag(variances_b))
    assert result == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_large_samples_approaches_the_closed_form():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(100_000, 3)) * np.sqrt([1.0, 2.0, 0.5])
    b = rng.normal(size=(100_000, 3)) * np.sqrt([4.0, 1.0, 0.5]) + [1.0, 0.0, -1.0]
    expected = 2.0 + (1 - 2) ** 2 + (math.sqrt(2) - 1) ** 2
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, abs=0.05)


def test_frechet_distance_matches_the_eigenvalue_form_on_the_same_arrays():
    rng = np.random.default_rng(3)
    a = correlated_features(rng, 500, 16)
    b = correlated_features(rng, 400, 16, shift=0.3)

    def moments(x):
        centred = x - x.mean(axis=0)
        return x.mean(axis=0), centred.T @ centred / (len(x) - 1)

    (mean_a, covariance_a), (mean_b, covariance_b) = moments(a), moments(b)
    # Tr sqrt(Ca Cb) = sum of square roots of the eigenvalues of sqrt(Ca) Cb sqrt(Ca), a symmetric matrix.
    values, vectors = np.linalg.eigh(covariance_a)
    root_a = vectors @ np.diag(np.sqrt(values)) @ vectors.T
    trace_root = np.sum(np.sqrt(np.linalg.eigvalsh(root_a @ covariance_b @ root_a)))
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(covariance_a) + np.trace(covariance_b) - 2 * trace_root

    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)
    assert metrics.frechet_distance(b, a) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    a = correlated_features(np.random.default_rng(4), 300, 8)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_stays_finite_with_fewer_rows_than_features():
    rng = np.random.default_rng(5)
    # Rank-deficient covariances are what the epsilon fix is for; the result must still be a real number.
    result = metrics.frechet_distance(rng.normal(size=(10, 32)), rng.normal(size=(10, 32)) + 1.0)
    assert math.isfinite(result) and result > 32


def test_frechet_distance_rejects_statistics_that_are_not_covariances():
    with pytest.raises(ValueError, match="imaginary"):
        metrics.frechet_distance_from_statistics([0.0, 0.0], np.diag([1.0, -1.0]), [0.0, 0.0], np.eye(2))
    with pytest.raises(ValueError, match="covariance"):
        metrics.frechet_distance_from_statistics([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2))


def test_feature_statistics_need_two_rows():
    with pytest.raises(ValueError, match="at least 2 rows"):
        metrics.feature_statistics(np.ones((1, 4)))


# ---------------------------------------------------------------------------------------------------------------
# Kernel distance


def naive_kid(x, y):
    """Unbiased MMD^2 with the cubic polynomial kernel, written out pair by pair with broadcasting."""
    width = x.shape[1]

    def kernel(p, q):
        return (np.sum(p[:, None, :] * q[None, :, :], axis=-1) / width + 1) ** 3

    m = len(x)
    off_diagonal = ~np.eye(m, dtype=bool)
    return kernel(x, x)[off_diagonal].mean() + kernel(y, y)[off_diagonal].mean() - 2 * kernel(x, y).mean()


def test_kernel_distance_with_one_whole_set_subset_equals_the_naive_estimate():
    rng = np.random.default_rng(6)
    x = correlated_features(rng, 40, 8)
    y = correlated_features(rng, 40, 8, shift=0.5)
    mean, std = metrics.kernel_distance(x, y, num_subsets=1, subset_size=1000)
    assert mean == pytest.approx(naive_kid(x, y), rel=1e-6)
    assert std == 0.0


def test_kernel_distance_is_near_zero_for_one_distribution_and_positive_for_shifted_ones():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(2000, 16)), rng.normal(size=(2000, 16))
    same_mean, same_std = metrics.kernel_distance(a, b, num_subsets=20, subset_size=500)
    assert abs(same_mean) < same_std
    shifted_mean, shifted_std = metrics.kernel_distance(a, b + 0.5, num_subsets=20, subset_size=500)
    assert shifted_mean > 10 * shifted_std > 0
    assert shifted_mean > 20 * abs(same_mean)


def test_kernel_distance_is_reproducible_from_its_seed():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(200, 4))
    first = metrics.kernel_distance(a, b, num_subsets=5, subset_size=50, seed=3)
    assert metrics.kernel_distance(a, b, num_subsets=5, subset_size=50, seed=3) == first
    assert metrics.kernel_distance(a, b, num_subsets=5, subset_size=50, seed=4) != first


def test_kernel_distance_rejects_bad_subset_settings():
    a = np.ones((10, 3))
    with pytest.raises(ValueError, match="subset_size"):
        metrics.kernel_distance(a, a, subset_size=1)
    with pytest.raises(ValueError, match="num_subsets"):
        metrics.kernel_distance(a, a, num_subsets=0)


# ---------------------------------------------------------------------------------------------------------------
# Precision, recall, density, coverage and nearest neighbours


@pytest.mark.parametrize("nearest_k", [1, 5])
def test_prdc_equals_the_prdc_package(nearest_k):
    rng = np.random.default_rng(9)
    # Large enough that the distance blocks split into several pieces.
    real = correlated_features(rng, 2500, 16)
    fake = correlated_features(rng, 2200, 16, shift=0.2) * 1.1
    expected = prdc_package.compute_prdc(real, fake, nearest_k=nearest_k)
    result = metrics.prdc(real, fake, nearest_k=nearest_k)
    assert result.keys() == expected.keys()
    for key in expected:
        assert result[key] == pytest.approx(expected[key], rel=1e-6, abs=1e-12), key


def test_prdc_matches_a_hand_worked_example_with_ties_on_the_ball_edges():
    # 1-D points with integer distances, so several fall exactly on a ball's edge; edges count as outside.
    # Real radii (k = 1): 1, 1, 2, 4. Fake radii: 1, 3, 15, 1.
    real = np.array([[0.0], [1.0], [3.0], [7.0]])
    fake = np.array([[1.0], [5.0], [20.0], [2.0]])
    # Fakes 1, 5 and 2 each lie inside exactly one real ball; reals 1, 3 and 7 lie inside a fake ball;
    # the real balls around 1, 3 and 7 hold a fake (the one around 0 only touches fake 1 on its edge).
    expected = {"precision": 0.75, "recall": 0.75, "density": 0.75, "coverage": 0.75}
    assert metrics.prdc(real, fake, nearest_k=1) == expected
    assert prdc_package.compute_prdc(real, fake, nearest_k=1) == expected


def test_prdc_of_far_apart_sets_is_zero_and_of_identical_sets_is_full():
    rng = np.random.default_rng(10)
    real = rng.normal(size=(200, 5))
    assert metrics.prdc(real, real + 100.0) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}
    same = metrics.prdc(real, real.copy())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0


def test_prdc_needs_more_rows_than_nearest_k():
    with pytest.raises(ValueError, match="nearest_k other rows"):
        metrics.prdc(np.random.default_rng(0).normal(size=(5, 3)), np.ones((50, 3)), nearest_k=5)
    with pytest.raises(ValueError, match="nearest_k"):
        metrics.prdc(np.ones((50, 3)), np.ones((50, 3)), nearest_k=0)


def test_nearest_neighbour_distances_match_a_brute_force_search():
    rng = np.random.default_rng(11)
    training = rng.normal(size=(2000, 5))
    generated = np.vstack([rng.normal(size=(2997, 5)), training[[7, 1999, 0]]])
    distances, indices = metrics.nearest_neighbour_distances(generated, training)
    all_distances = cdist(generated, training)
    np.testing.assert_array_equal(indices, all_distances.argmin(axis=1))
    np.testing.assert_allclose(distances, all_distances.min(axis=1), rtol=1e-9, atol=1e-7)
    np.testing.assert_array_equal(indices[-3:], [7, 1999, 0])
    np.testing.assert_allclose(distances[-3:], 0.0, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# Input checks shared by the feature-space measures

FEATURE_MEASURES = [
    metrics.frechet_distance,
    metrics.kernel_distance,
    metrics.prdc,
    metrics.nearest_neighbour_distances,
]


@pytest.mark.parametrize("measure", FEATURE_MEASURES)
@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones(20), "2-D"),
        (np.ones((20, 3, 1)), "2-D"),
        (np.ones((20, 4)), "features"),
        (np.full((20, 3), np.nan), "NaN or infinite"),
        (np.concatenate([np.ones((19, 3)), [[0.0, np.inf, 0.0]]]), "NaN or infinite"),
        ([["a", "b", "c"]] * 20, "numeric"),
    ],
)
def test_feature_measures_reject_bad_arrays(measure, bad, message):
    good = np.random.default_rng(12).normal(size=(20, 3))
    with pytest.raises(ValueError, match=message):
        measure(good, bad)


@pytest.mark.parametrize("measure", [metrics.frechet_distance, metrics.kernel_distance])
def test_two_sample_measures_need_two_rows(measure):
    with pytest.raises(ValueError, match="at least 2 rows"):
        measure(np.ones((1, 3)), np.random.default_rng(0).normal(size=(20, 3)))


# ---------------------------------------------------------------------------------------------------------------
# Class-based measures


def test_classifier_score_of_uniform_predictions_is_one():
    assert metrics.classifier_score(np.full((100, 10), 0.1)) == pytest.approx((1.0, 0.0))


@pytest.mark.parametrize("num_splits", [1, 2, 5])
def test_classifier_score_of_confident_balanced_predictions_is_the_class_count(num_splits):
    probabilities = np.eye(7)[np.tile(np.arange(7), 10)]
    # Each split of 70 rows in class order still holds every class equally often.
    assert metrics.classifier_score(probabilities, num_splits=num_splits) == pytest.approx((7.0, 0.0))


def test_classifier_score_matches_a_hand_computed_value():
    # Marginal (0.75, 0.25); KL of row one is ln(1 / 0.75), of row two 0.5 ln(0.5 / 0.75) + 0.5 ln(0.5 / 0.25).
    expected = math.exp(0.5 * (math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2)))
    assert metrics.classifier_score([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx((expected, 0.0))
    # Two splits of one row each: a single prediction always scores exactly 1.
    assert metrics.classifier_score([[1.0, 0.0], [0.5, 0.5]], num_splits=2) == pytest.approx((1.0, 0.0))


def test_classifier_score_rejects_rows_that_are_not_probabilities():
    with pytest.raises(ValueError, match="sum"):
        metrics.classifier_score([[0.5, 0.6]])
    with pytest.raises(ValueError, match="non-negative"):
        metrics.classifier_score([[1.5, -0.5]])
    with pytest.raises(ValueError, match="num_splits"):
        metrics.classifier_score([[1.0, 0.0]], num_splits=2)


def test_class_histogram_coverage_and_distance():
    labels = [0, 0, 1, 3]
    np.testing.assert_allclose(metrics.class_histogram(labels, 4), [0.5, 0.25, 0.0, 0.25])
    assert metrics.class_coverage(labels, 4) == 0.75
    assert metrics.class_coverage(labels, 4, min_share=0.3) == 0.25
    assert metrics.histogram_distance([1.0, 0.0], [0.0, 1.0]) == 1.0
    assert metrics.histogram_distance([0.5, 0.5], [0.75, 0.25]) == pytest.approx(0.25)
    assert metrics.histogram_distance([0.2, 0.8], [0.2, 0.8]) == 0.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.class_histogram([0, 4], 4), r"\[0, 3\]"),
        (lambda: metrics.class_histogram([-1, 0], 4), r"\[0, 3\]"),
        (lambda: metrics.class_histogram([0.0, 1.0], 4), "integer"),
        (lambda: metrics.class_histogram([[0, 1]], 4), "1-D"),
        (lambda: metrics.class_histogram([], 4), "non-empty"),
        (lambda: metrics.class_coverage([0, 1], 4, min_share=1.5), "min_share"),
        (lambda: metrics.histogram_distance([0.5, 0.5], [1.0]), "same number"),
        (lambda: metrics.histogram_distance([0.5, 0.6], [0.5, 0.5]), "sum to 1"),
    ],
)
def test_class_measures_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------------------------------
# 2-D toy-set measures


def test_mode_coverage_of_ring_samples_finds_every_mode():
    points = ring_samples(np.random.default_rng(13), 2000)
    result = metrics.mode_coverage(points, RING_CENTRES, RING_STD)
    assert (result["modes_covered"], result["num_modes"]) == (8, 8)
    # Within three standard deviations of a 2-D Gaussian lies 1 - exp(-4.5) = 98.9% of its mass.
    assert result["high_quality_share"] == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    assert result["mode_counts"].sum() == round(result["high_quality_share"] * 2000)


def test_mode_coverage_of_a_collapsed_generator_finds_one_mode():
    points = ring_samples(np.random.default_rng(14), 500, modes=[3])
    result = metrics.mode_coverage(points, RING_CENTRES, RING_STD)
    assert result["modes_covered"] == 1
    assert result["mode_counts"].argmax() == 3


def test_mode_coverage_counts_only_high_quality_points_and_honours_min_samples():
    near_mode_zero = RING_CENTRES[[0, 0, 0]] + [0.01, 0.0]
    far_off = np.zeros((7, 2))  # the ring's centre is 2 away from every mode
    result = metrics.mode_coverage(np.vstack([near_mode_zero, far_off]), RING_CENTRES, RING_STD)
    assert result["modes_covered"] == 1
    assert result["high_quality_share"] == pytest.approx(0.3)
    assert metrics.mode_coverage(near_mode_zero, RING_CENTRES, RING_STD, min_samples=4)["modes_covered"] == 0
    with pytest.raises(ValueError, match="std"):
        metrics.mode_coverage(near_mode_zero, RING_CENTRES, 0.0)
    with pytest.raises(ValueError, match="threshold_stds"):
        metrics.mode_coverage(near_mode_zero, RING_CENTRES, RING_STD, threshold_stds=float("nan"))
    with pytest.raises(ValueError, match="features"):
        metrics.mode_coverage(near_mode_zero, np.ones((8, 3)), RING_STD)


# Two modes 10 apart and four real points whose squared distances to their nearest centre are 0, 2, 2 and 4: the
# mean is 2, twice the variance of a 2-D isotropic Gaussian, so the measured spread is exactly 1.
TWO_CENTRES = np.array([[0.0, 0.0], [10.0, 0.0]])
TWO_MODE_REAL = np.array([[0.0, 0.0], [1.0, 1.0], [9.0, -1.0], [8.0, 0.0]])


def test_mode_spread_is_the_per_axis_std_around_each_points_nearest_centre():
    assert metrics.mode_spread(TWO_MODE_REAL, TWO_CENTRES) == pytest.approx(1.0, rel=1e-12)
    # Measured on samples of the ring, it recovers the standard deviation they were drawn with.
    ring = ring_samples(np.random.default_rng(16), 2000)
    assert metrics.mode_spread(ring, RING_CENTRES) == pytest.approx(RING_STD, rel=0.05)
    with pytest.raises(ValueError, match="features"):
        metrics.mode_spread(TWO_MODE_REAL, np.ones((2, 3)))


def test_point_measures_count_modes_within_three_measured_spreads_and_add_the_grid_divergences():
    # With the measured spread of 1, a point counts within distance 3 of its nearest centre: (2, 2) at 2.83 and
    # (7.5, 0) at 2.5 do, (0, 3.5) does not; mode 0 gets one high-quality point and mode 1 two.
    generated = np.array([[2.0, 2.0], [0.0, 3.5], [10.0, 0.0], [7.5, 0.0]])
    result = metrics.point_measures(TWO_MODE_REAL, generated, TWO_CENTRES)
    divergences = metrics.grid_divergences(TWO_MODE_REAL, generated, bins=30)
    assert result == pytest.approx({"grid_kl": divergences["kl"], "grid_js": divergences["js"], "modes_covered": 2,
                                    "num_modes": 2, "high_quality_share": 0.75}, rel=1e-12)
    assert metrics.point_measures(TWO_MODE_REAL, generated, TWO_CENTRES, min_samples=2)["modes_covered"] == 1

    extent = ((-5.0, 15.0), (-5.0, 5.0))
    without_modes = metrics.point_measures(TWO_MODE_REAL, generated, extent=extent)
    on_extent = metrics.grid_divergences(TWO_MODE_REAL, generated, bins=30, extent=extent)
    assert without_modes == {"grid_kl": on_extent["kl"], "grid_js": on_extent["js"]}


def test_grid_divergences_are_zero_for_identical_sets_and_js_is_bounded_by_ln_2():
    rng = np.random.default_rng(15)
    real = ring_samples(rng, 1000)
    same = metrics.grid_divergences(real, real.copy())
    assert same == pytest.approx({"kl": 0.0, "js": 0.0}, abs=1e-12)

    close = metrics.grid_divergences(real, ring_samples(rng, 1000))
    apart = metrics.grid_divergences(real, real + 50.0)
    assert 0 < close["js"] < apart["js"] <= math.log(2)
    # Disjoint sets reach ln 2 as the smoothing vanishes (the default 1e-4 per bin holds back about 9% of the mass).
    assert metrics.grid_divergences(real, real + 50.0, epsilon=1e-9)["js"] > 0.999 * math.log(2)
    assert 0 < close["kl"] < apart["kl"]


def test_grid_divergences_put_points_off_the_grid_in_an_outside_bin():
    # One bin on the unit square plus the outside bin: real is (1, 0), fake is (0.5, 0.5) before smoothing.
    real = np.full((10, 2), 0.5)
    fake = np.vstack([np.full((5, 2), 0.5), np.full((5, 2), 9.0)])
    epsilon = 1e-4
    p = np.array([1 + epsilon, epsilon]) / (1 + 2 * epsilon)
    q = np.array([0.5 + epsilon, 0.5 + epsilon]) / (1 + 2 * epsilon)
    m = (p + q) / 2
    expected_kl = np.sum(p * np.log(p / q))
    expected_js = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
    result = metrics.grid_divergences(real, fake, bins=1, extent=((0, 1), (0, 1)), epsilon=epsilon)
    assert result == pytest.approx({"kl": expected_kl, "js": expected_js}, rel=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: metrics.grid_divergences(np.ones((5, 3)), np.ones((5, 3))), "2 columns"),
        (lambda: metrics.grid_divergences(np.ones((5, 2)), np.ones((5, 2))), "extent"),
        (lambda: metrics.grid_divergences(RING_CENTRES, RING_CENTRES, extent=((1, 0), (0, 1))), "extent"),
        (lambda: metrics.grid_divergences(RING_CENTRES, RING_CENTRES, bins=0), "bins"),
        (lambda: metrics.grid_divergences(RING_CENTRES, RING_CENTRES, epsilon=0.0), "epsilon"),
    ],
)
def test_grid_divergences_reject_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------------------------------------------
# Human judgement


def wilson_by_hand(errors, count, z=1.959963984540054):
    share = errors / count
    centre = (share + z * z / (2 * count)) / (1 + z * z / count)
    half = z / (1 + z * z / count) * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count))
    return centre - half, centre + half


def test_human_error_rate_has_the_wilson_interval():
    half_wrong = metrics.human_error_rate([True] * 50 + [False] * 50)
    assert half_wrong["error_rate"] == 0.5 and half_wrong["count"] == 100
    assert (half_wrong["low"], half_wrong["high"]) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    assert (half_wrong["low"], half_wrong["high"]) == pytest.approx(wilson_by_hand(50, 100), rel=1e-12)

    fifth_wrong = metrics.human_error_rate(np.array([1] * 80 + [0] * 20))
    assert fifth_wrong["error_rate"] == 0.2
    assert (fifth_wrong["low"], fifth_wrong["high"]) == pytest.approx((0.1334, 0.2888), abs=1e-4)


def test_human_error_rate_with_no_errors_has_upper_bound_z_squared_over_n_plus_z_squared():
    result = metrics.human_error_rate([True] * 10)
    z_squared = 1.959963984540054**2
    assert result["error_rate"] == 0.0
    assert result["low"] == pytest.approx(0.0, abs=1e-15)
    assert result["high"] == pytest.approx(z_squared / (10 + z_squared), rel=1e-12)


@pytest.mark.parametrize("bad", [[], [[True, False]], [0, 1, 2], ["yes", "no"]])
def test_human_error_rate_rejects_bad_flags(bad):
    with pytest.raises(ValueError, match="correct_flags"):
        metrics.human_error_rate(bad)


def test_colourfulness_on_hand_values():
    grey = np.full((2, 4, 4, 3), 90, np.uint8)
    assert metrics.colourfulness(grey) == 0.0
    red = np.zeros((1, 4, 4, 3), np.uint8)
    red[..., 0] = 255
    # One flat colour: no spread, 0.3 times its distance from grey on the opponent axes (255, 127.5).
    assert metrics.colourfulness(red) == pytest.approx(0.3 * math.hypot(255, 127.5))
    half = np.zeros((1, 2, 2, 3), np.uint8)
    half[0, 0, :, 0] = 255  # top row red, bottom row black
    # rg: 255 or 0 (std 127.5, mean 127.5); yb: 127.5 or 0 (std 63.75, mean 63.75).
    assert metrics.colourfulness(half) == pytest.approx(1.3 * math.hypot(127.5, 63.75))
    assert metrics.colourfulness(np.concatenate([grey[:1], red])) == pytest.approx(0.15 * math.hypot(255, 127.5))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) colour images"):
        metrics.colourfulness(np.zeros((2, 4, 4, 1), np.uint8))

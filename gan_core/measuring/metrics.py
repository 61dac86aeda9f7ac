"""Distances between real and generated data, as pure functions on arrays (rows are samples).

Feature-space measures (Fréchet distance, kernel distance, precision / recall / density / coverage, nearest
neighbours) take activations from any feature extractor; class-based measures take classifier outputs; the
toy-set measures take 2-D points; the human-judgement measure takes right / wrong answers; colourfulness takes
colour images.
Everything here is numpy and scipy only and never loads TensorFlow; SciPy is imported inside the functions that
use it, so that the light processes which import this module (through the variants) do not carry it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

# Pairwise-distance blocks hold at most this many entries (32 MB in float64), so 10,000 x 10,000 comparisons
# never materialise the full matrix.
CHUNK_ELEMENTS = 2**22

# The two-sided 95% quantile of the standard normal distribution, used by the Wilson interval.
Z_95 = 1.959963984540054


# ---------------------------------------------------------------------------------------------------------------
# Input checks shared by every measure, here and in gan_core.measuring.label_measures: each names the argument it
# refuses, so that a person calling a measure learns which of its inputs is wrong.


def checked_matrix(name: str, values, min_rows: int = 1, why: str = "") -> np.ndarray:
    """`values` as a finite float64 matrix with at least `min_rows` rows, or a ValueError naming `name`."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array: {error}") from None
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features); got shape {array.shape}")
    if array.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature column; got shape {array.shape}")
    if array.shape[0] < min_rows:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} needs at least {min_rows} rows{reason}; got {array.shape[0]}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_same_width(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """A ValueError naming both unless matrices `a` and `b` have as many columns: rows of different feature spaces
    cannot be compared, and numpy would otherwise fail later with a message naming neither."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} has {a.shape[1]} features but {name_b} has {b.shape[1]}; they must match")


def checked_whole_number(name: str, value, minimum: int) -> int:
    """`value` as an int of at least `minimum`, or a ValueError naming `name`.

    True and False are refused though Python counts them as integers: a count passed as a flag is a mistake.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def checked_labels(name: str, values, num_classes: int) -> np.ndarray:
    """`values` as a non-empty 1-D integer array of class indices in [0, num_classes)."""
    num_classes = checked_whole_number("num_classes", num_classes, 1)
    labels = np.asarray(values)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {labels.shape}")
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices; got dtype {labels.dtype}")
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"{name} must lie in [0, {num_classes - 1}]; got values from {labels.min()} to {labels.max()}")
    return labels


def _distribution(name: str, values) -> np.ndarray:
    """`values` as a 1-D probability vector (non-negative, summing to 1 within 1e-6)."""
    p = np.asarray(values, dtype=np.float64)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"{name} must be finite, non-negative and sum to 1; got sum {p.sum()}")
    return p


# ---------------------------------------------------------------------------------------------------------------
# Fréchet distance (FID when the features come from Inception).


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean vector and covariance matrix (ddof=1, float64) of a feature matrix, as the Fréchet distance uses them."""
    # The unbiased covariance divides by n - 1, so a single row has no covariance at all.
    array = checked_matrix("features", features, min_rows=2, why="the covariance needs n - 1 >= 1")
    return array.mean(axis=0), np.atleast_2d(np.cov(array, rowvar=False))


def frechet_distance_from_statistics(mean_a, covariance_a, mean_b, covariance_b, epsilon: float = 1e-6) -> float:
    """||mean_a - mean_b||^2 + Tr(Ca + Cb - 2 sqrt(Ca Cb)): the Fréchet distance between two Gaussians.

    If Ca Cb is so close to singular that its square root is not finite, `epsilon` is added to both diagonals
    and the root is taken again (the fix of the reference TTUR and pytorch-fid code). Rounding leaves a small
    imaginary part in the root, which is dropped; a large one (above 1e-3 on the diagonal) means the inputs are
    not covariance matrices and raises ValueError.
    """
    mean_a, mean_b = (np.atleast_1d(np.asarray(mean, dtype=np.float64)) for mean in (mean_a, mean_b))
    covariance_a, covariance_b = (np.atleast_2d(np.asarray(c, dtype=np.float64)) for c in (covariance_a, covariance_b))
    width = mean_a.shape[0]
    for name, mean, covariance in (("a", mean_a, covariance_a), ("b", mean_b, covariance_b)):
        if mean.shape != (width,) or covariance.shape != (width, width):
            raise ValueError(
                f"statistics {name}: mean must have shape ({width},) and covariance ({width}, {width}); "
                f"got {mean.shape} and {covariance.shape}"
            )
        if not (np.isfinite(mean).all() and np.isfinite(covariance).all()):
            raise ValueError(f"statistics {name} contain NaN or infinite values")

    import scipy.linalg

    # Feature covariances are often singular (dead ReLU units, collapsed samples). sqrtm then warns, but its
    # result is still usable while finite; only a non-finite one needs the epsilon offset below.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(covariance_a @ covariance_b)
        if not np.isfinite(root).all():
            offset = np.eye(width) * epsilon
            root = scipy.linalg.sqrtm((covariance_a + offset) @ (covariance_b + offset))
    if np.iscomplexobj(root):
        if not np.allclose(np.diagonal(root).imag, 0, atol=1e-3):
            largest = np.max(np.abs(root.imag))
            raise ValueError(f"the covariance product has a matrix square root with imaginary part {largest:.3g}")
        root = root.real

    difference = mean_a - mean_b
    return float(difference @ difference + np.trace(covariance_a) + np.trace(covariance_b) - 2 * np.trace(root))


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature matrices (FID on Inception features).

    Each set needs at least two rows for a covariance; the estimate is only trustworthy with many more rows
    than feature columns, otherwise the covariances are singular and the distance is biased upwards.
    """
    a = checked_matrix("features_a", features_a, min_rows=2, why="the covariance needs n - 1 >= 1")
    b = checked_matrix("features_b", features_b, min_rows=2, why="the covariance needs n - 1 >= 1")
    check_same_width("features_a", a, "features_b", b)
    return frechet_distance_from_statistics(*feature_statistics(a), *feature_statistics(b))


# ---------------------------------------------------------------------------------------------------------------
# Kernel distance (KID).


def _polynomial_kernel_sum(x: np.ndarray, y: np.ndarray, skip_diagonal: bool) -> float:
    """Sum of k(x_i, y_j) = (x_i . y_j / d + 1)^3 over all pairs, leaving out i == j when asked."""
    kernel = x @ y.T
    kernel /= x.shape[1]
    kernel += 1.0
    cube = kernel * kernel
    cube *= kernel
    total = cube.sum()
    return float(total - np.trace(cube)) if skip_diagonal else float(total)


def kernel_distance(
    features_a, features_b, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: the unbiased squared MMD with kernel (x.y/d + 1)^3, as (mean, std) over subsets.

    Each subset draws the same number of rows m (subset_size, capped at the smaller set) from each set without
    replacement, using numpy's default_rng(seed) (rows of a first, then of b). The estimate per subset is the one
    of Binkowski et al. 2018 and their reference code: the within-set kernel means leave out the diagonal,
    the cross term keeps it. The std is the population std (ddof=0) of the subset estimates, as in that code.
    The mean is unbiased, so it can be slightly negative for two samples of one distribution.
    """
    a = checked_matrix("features_a", features_a, min_rows=2, why="the unbiased estimate needs two rows per subset")
    b = checked_matrix("features_b", features_b, min_rows=2, why="the unbiased estimate needs two rows per subset")
    check_same_width("features_a", a, "features_b", b)
    num_subsets = checked_whole_number("num_subsets", num_subsets, 1)
    m = min(checked_whole_number("subset_size", subset_size, 2), a.shape[0], b.shape[0])

    if m == a.shape[0] == b.shape[0]:
        # Every subset would hold all rows of both sets, so every estimate would be this one.
        return _unbiased_mmd(a, b), 0.0
    rng = np.random.default_rng(seed)
    estimates = np.empty(num_subsets)
    for index in range(num_subsets):
        estimates[index] = _unbiased_mmd(a[rng.choice(a.shape[0], m, replace=False)],
                                         b[rng.choice(b.shape[0], m, replace=False)])
    return float(estimates.mean()), float(estimates.std())


def _unbiased_mmd(x: np.ndarray, y: np.ndarray) -> float:
    """The unbiased squared MMD of two equally sized sets under the cubic polynomial kernel."""
    m = x.shape[0]
    within = _polynomial_kernel_sum(x, x, skip_diagonal=True) + _polynomial_kernel_sum(y, y, skip_diagonal=True)
    across = _polynomial_kernel_sum(x, y, skip_diagonal=False)
    return float(within / (m * (m - 1)) - 2 * across / (m * m))


# ---------------------------------------------------------------------------------------------------------------
# Nearest neighbours: precision / recall / density / coverage and the memorisation check.


def _squared_distance_blocks(rows: np.ndarray, columns: np.ndarray):
    """Yield (start, stop, block): squared Euclidean distances from rows[start:stop] to every column row.

    Distances are expanded as |r|^2 + |c|^2 - 2 r.c in float64 (clipped at zero against rounding), a block of
    rows at a time so memory stays at CHUNK_ELEMENTS entries however large the sets are.
    """
    column_norms = np.einsum("ij,ij->i", columns, columns)
    step = max(1, CHUNK_ELEMENTS // columns.shape[0])
    for start in range(0, rows.shape[0], step):
        stop = min(start + step, rows.shape[0])
        block = rows[start:stop] @ columns.T
        block *= -2.0
        block += np.einsum("ij,ij->i", rows[start:stop], rows[start:stop])[:, None]
        block += column_norms[None, :]
        np.maximum(block, 0.0, out=block)
        yield start, stop, block


def _squared_radii(features: np.ndarray, nearest_k: int) -> np.ndarray:
    """Squared distance from each row to its nearest_k-th nearest other row of the same set."""
    radii = np.empty(features.shape[0])
    for start, stop, block in _squared_distance_blocks(features, features):
        # Each row's distance to itself (zero up to rounding) is its smallest, so position nearest_k holds the
        # k-th nearest other row: the prdc package's (k + 1)-th smallest distance.
        # argpartition, not partition: numpy's partition of float64 rows is several times slower for small k.
        kth = np.argpartition(block, nearest_k, axis=1)[:, nearest_k : nearest_k + 1]
        radii[start:stop] = np.take_along_axis(block, kth, axis=1)[:, 0]
    return radii


def prdc(real_features, fake_features, nearest_k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of Naeem et al. 2020 (the `prdc` package's definitions).

    Each real row gets a ball reaching its nearest_k-th nearest real neighbour, and likewise each fake row.
    precision: share of fake rows inside some real ball; recall: share of real rows inside some fake ball;
    density: mean number of real balls holding a fake row, divided by nearest_k; coverage: share of real
    balls holding at least one fake row. Distances are computed in float64 in blocks, never all at once.
    """
    nearest_k = checked_whole_number("nearest_k", nearest_k, 1)
    why = "each row needs nearest_k other rows to set its neighbourhood radius"
    real = checked_matrix("real_features", real_features, min_rows=nearest_k + 1, why=why)
    fake = checked_matrix("fake_features", fake_features, min_rows=nearest_k + 1, why=why)
    check_same_width("real_features", real, "fake_features", fake)

    real_radii = _squared_radii(real, nearest_k)
    fake_radii = _squared_radii(fake, nearest_k)
    real_balls_holding_fake = np.empty(fake.shape[0], dtype=np.int64)
    real_inside_fake_ball = np.zeros(real.shape[0], dtype=bool)
    nearest_fake_to_real = np.full(real.shape[0], np.inf)
    for start, stop, block in _squared_distance_blocks(fake, real):
        real_balls_holding_fake[start:stop] = (block < real_radii[None, :]).sum(axis=1)
        real_inside_fake_ball |= (block < fake_radii[start:stop, None]).any(axis=0)
        np.minimum(nearest_fake_to_real, block.min(axis=0), out=nearest_fake_to_real)

    return {
        "precision": float((real_balls_holding_fake > 0).mean()),
        "recall": float(real_inside_fake_ball.mean()),
        "density": float(real_balls_holding_fake.mean() / nearest_k),
        "coverage": float((nearest_fake_to_real < real_radii).mean()),
    }


def nearest_neighbour_distances(generated, training) -> tuple[np.ndarray, np.ndarray]:
    """For each generated row, the Euclidean distance to and index of its nearest training row.

    A generator that memorises shows distances near zero; compare them with training rows' distances to
    each other to judge what "near" means for the features in use. Ties go to the lowest training index.
    """
    generated = checked_matrix("generated", generated)
    training = checked_matrix("training", training)
    check_same_width("generated", generated, "training", training)
    distances = np.empty(generated.shape[0])
    indices = np.empty(generated.shape[0], dtype=np.int64)
    for start, stop, block in _squared_distance_blocks(generated, training):
        indices[start:stop] = block.argmin(axis=1)
        distances[start:stop] = np.sqrt(block[np.arange(stop - start), indices[start:stop]])
    return distances, indices


# ---------------------------------------------------------------------------------------------------------------
# Class-based measures, on a classifier's outputs for generated data.


def classifier_score(probabilities, num_splits: int = 1) -> tuple[float, float]:
    """Inception-Score form exp(E_x KL(p(y|x) || p(y))) as (mean, std) over `num_splits` consecutive splits.

    Rows are class probabilities (non-negative, each summing to 1 within 1e-3). The score runs from 1 (every
    prediction the same, or every prediction uniform) to the number of classes (confident and balanced).
    The std is the population std over splits, as in the original Inception Score code.
    """
    p = checked_matrix("probabilities", probabilities)
    if (p < 0).any() or np.abs(p.sum(axis=1) - 1.0).max() > 1e-3:
        raise ValueError("probabilities must be non-negative with every row summing to 1 (within 1e-3)")
    num_splits = checked_whole_number("num_splits", num_splits, 1)
    if num_splits > p.shape[0]:
        raise ValueError(f"num_splits must be at most the number of rows ({p.shape[0]}); got {num_splits}")
    import scipy.special

    scores = []
    for part in np.array_split(p, num_splits):
        marginal = part.mean(axis=0, keepdims=True)
        # rel_entr gives 0 * log(0 / q) = 0, so classes a row never predicts need no special care.
        scores.append(math.exp(scipy.special.rel_entr(part, marginal).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def class_histogram(labels, num_classes: int) -> np.ndarray:
    """Share of `labels` falling in each of `num_classes` classes (a vector summing to 1)."""
    labels = checked_labels("labels", labels, num_classes)
    return np.bincount(labels, minlength=num_classes) / labels.size


def class_coverage(predicted_labels, num_classes: int, min_share: float = 0.0) -> float:
    """Share of the `num_classes` classes that the generated data reaches.

    A class counts as covered when it receives at least one sample and at least `min_share` of all samples.
    The default 0 counts any class hit at all, like the mode counts of Metz et al. on stacked MNIST; a
    threshold such as 0.1 / num_classes (a tenth of a uniform share) ignores stray misclassifications.
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must lie in [0, 1]; got {min_share!r}")
    histogram = class_histogram(predicted_labels, num_classes)
    return float(((histogram > 0) & (histogram >= min_share)).mean())


def histogram_distance(p, q) -> float:
    """Total variation distance 0.5 * sum |p - q| between two class histograms; 0 is identical, 1 is disjoint."""
    p = _distribution("p", p)
    q = _distribution("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same number of classes; got {p.size} and {q.size}")
    return float(0.5 * np.abs(p - q).sum())


# ---------------------------------------------------------------------------------------------------------------
# 2-D toy sets: mixtures of Gaussians with known centres.

GRID_BINS = 30  # GAN Lab's grid for the 2-D KL / JS divergences
# A 2-D point within this many standard deviations of its nearest mode is "high quality" (VEEGAN, Unrolled GAN).
HIGH_QUALITY_STDS = 3.0


def point_measures(real_points, generated_points, centres=None, extent=None, min_samples: int = 1) -> dict:
    """The 2-D toy-set measures of generated against real points, as the evaluation and the Playground show them.

    grid_kl and grid_js are grid_divergences on the GRID_BINS grid (`extent` as there). With the `centres` of a
    Gaussian mixture, modes_covered, num_modes and high_quality_share follow from mode_coverage, with the modes'
    spread measured on the real points (mode_spread) and HIGH_QUALITY_STDS; `min_samples` is mode_coverage's.
    """
    divergences = grid_divergences(real_points, generated_points, extent=extent)
    results = {"grid_kl": divergences["kl"], "grid_js": divergences["js"]}
    if centres is not None:
        spread = mode_spread(real_points, centres)
        coverage = mode_coverage(generated_points, centres, spread, HIGH_QUALITY_STDS, min_samples)
        results.update({name: coverage[name] for name in ("modes_covered", "num_modes", "high_quality_share")})
    return results


def mode_spread(real_points, centres) -> float:
    """The per-axis standard deviation of a mixture's isotropic Gaussian modes, measured on its real points.

    In 2-D the squared distance to a mode's centre averages twice the variance. Each point is taken to belong to
    its nearest centre, which holds while the modes lie many standard deviations apart, as on the ring and grid.
    Measuring the spread, rather than taking it from the dataset's definition, judges generated points against
    the same real points the divergences use.
    """
    distances, _ = nearest_neighbour_distances(real_points, centres)
    return float(np.sqrt(np.mean(distances**2) / 2))


def mode_coverage(points, centres, std: float, threshold_stds: float = HIGH_QUALITY_STDS, min_samples: int = 1) -> dict:
    """How many mixture modes the generated points reach, by the rule of VEEGAN and Unrolled GAN.

    A point is "high quality" when it lies within threshold_stds * std of its nearest centre; a mode is
    covered when at least `min_samples` high-quality points have it as their nearest centre (1 in those papers).
    Returns modes_covered, num_modes, high_quality_share and mode_counts (high-quality points per mode).
    """
    points = checked_matrix("points", points)
    centres = checked_matrix("centres", centres)
    check_same_width("points", points, "centres", centres)
    for name, value in (("std", std), ("threshold_stds", threshold_stds)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    min_samples = checked_whole_number("min_samples", min_samples, 1)

    distances, nearest = nearest_neighbour_distances(points, centres)
    high_quality = distances <= threshold_stds * std
    counts = np.bincount(nearest[high_quality], minlength=centres.shape[0])
    return {
        "modes_covered": int((counts >= min_samples).sum()),
        "num_modes": int(centres.shape[0]),
        "high_quality_share": float(high_quality.mean()),
        "mode_counts": counts,
    }


def grid_divergences(real_points, fake_points, bins: int = GRID_BINS, extent=None, epsilon: float = 1e-4) -> dict:
    """KL(real || fake) and Jensen-Shannon divergence of 2-D histograms on a common grid, in nats.

    As in GAN Lab, both sets are binned on a bins x bins grid (by default GAN Lab's, GRID_BINS) and `epsilon` is
    added to every bin's share; here each histogram is then renormalised, so with natural logs JS lies in [0, ln 2].
    `extent` is ((x_min, x_max), (y_min, y_max)); by default the real points' bounding box widened by 5% on
    each side. Points outside the extent fall into one extra "outside" bin rather than being dropped, so a
    generator cannot lower the divergence by throwing samples off the grid.
    """
    real = checked_matrix("real_points", real_points)
    fake = checked_matrix("fake_points", fake_points)
    for name, array in (("real_points", real), ("fake_points", fake)):
        if array.shape[1] != 2:
            raise ValueError(f"{name} must have 2 columns (x, y); got {array.shape[1]}")
    bins = checked_whole_number("bins", bins, 1)
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon must lie in (0, 1); got {epsilon!r}")
    if extent is None:
        low, high = real.min(axis=0), real.max(axis=0)
        margin = 0.05 * (high - low)
        extent = tuple(zip(low - margin, high + margin))
    edges = np.asarray(extent, dtype=np.float64)
    if edges.shape != (2, 2) or not np.isfinite(edges).all() or not (edges[:, 0] < edges[:, 1]).all():
        raise ValueError(
            f"extent must be ((x_min, x_max), (y_min, y_max)) with finite minimum < maximum; got {extent!r} "
            "(by default it comes from the real points, which then must not all share an x or a y value)"
        )

    def smoothed_histogram(points: np.ndarray) -> np.ndarray:
        counts, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=bins, range=edges)
        shares = np.append(counts.ravel(), points.shape[0] - counts.sum()) / points.shape[0] + epsilon
        return shares / shares.sum()

    import scipy.special

    p, q = smoothed_histogram(real), smoothed_histogram(fake)
    middle = 0.5 * (p + q)
    kl = scipy.special.rel_entr(p, q).sum()
    js = 0.5 * scipy.special.rel_entr(p, middle).sum() + 0.5 * scipy.special.rel_entr(q, middle).sum()
    return {"kl": float(kl), "js": float(js)}


# ---------------------------------------------------------------------------------------------------------------
# Human judgement (HYPE-infinity style: how often people mistake generated for real and vice versa).


def colourfulness(images) -> float:
    """Hasler and Süsstrunk's colourfulness (2003) of uint8 (N, H, W, 3) images, averaged over the images.

    Per image, from the opponent colour axes rg = R - G and yb = (R + G) / 2 - B: the spread of the colours plus
    0.3 times their distance from grey, sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2). A grey
    image scores 0; the paper's viewers called about 33 "moderately" and 59 "quite" colourful.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
        raise ValueError(f"images must be (N, H, W, 3) colour images, at least one, not shape {images.shape}")
    red, green, blue = np.moveaxis(images.astype(np.float64), -1, 0)
    red_green = red - green
    yellow_blue = 0.5 * (red + green) - blue
    spread = np.hypot(red_green.std(axis=(1, 2)), yellow_blue.std(axis=(1, 2)))
    offset = np.hypot(red_green.mean(axis=(1, 2)), yellow_blue.mean(axis=(1, 2)))
    return float(np.mean(spread + 0.3 * offset))


def human_error_rate(correct_flags) -> dict:
    """Share of wrong answers with its 95% Wilson score interval: error_rate, low, high, count.

    HYPE-infinity reports this error rate (50% means people cannot tell real from generated). The Wilson
    interval is used because it is closed-form and deterministic, stays inside [0, 1] and keeps close to its
    nominal coverage for the few dozen answers a person gives, where the normal approximation does not.
    """
    flags = np.asarray(correct_flags)
    if flags.ndim != 1 or flags.size == 0:
        raise ValueError(f"correct_flags must be a non-empty 1-D array; got shape {flags.shape}")
    if flags.dtype != bool:
        if not np.issubdtype(flags.dtype, np.number) or not np.isin(flags, (0, 1)).all():
            raise ValueError("correct_flags must be booleans or 0 / 1 values (1 meaning the answer was right)")
        flags = flags.astype(bool)
    count = flags.size
    error_rate = float(np.count_nonzero(~flags) / count)
    z_squared = Z_95**2
    centre = (error_rate + z_squared / (2 * count)) / (1 + z_squared / count)
    half_width = (Z_95 / (1 + z_squared / count)) * math.sqrt(
        error_rate * (1 - error_rate) / count + z_squared / (4 * count**2)
    )
    # The Wilson bounds lie in [0, 1] exactly; the clamps only remove rounding at 0 or all errors.
    low, high = max(0.0, centre - half_width), min(1.0, centre + half_width)
    return {"error_rate": error_rate, "low": low, "high": high, "count": count}

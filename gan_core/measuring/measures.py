"""What each measure is, declared once: its name in `evaluate`'s results, how people call it, which way is better,
what it means, and the result that holds what real data scores on it when there is one.

Evaluate's table and charts, the overview's best score and a variant's own measures all read these declarations.
The computations live in metrics (pure functions on arrays) and evaluation (which applies them to a checkpoint);
a variant declares its own measures and computes them in its `evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gan_core.measuring.metrics import GRID_BINS, HIGH_QUALITY_STDS


@dataclass(frozen=True)
class Measure:
    """A result of `evaluate` under a stable name, and what it means.

    `label` is how pages name it (the name itself by default); `better` says which way is better, in words
    ("higher", "lower", "about 1 ..."). `reference` names the result that holds what real data scores on the same
    measure, if one is computed (the Classification Accuracy Score of a classifier trained on real images).
    """

    name: str
    description: str
    label: str = ""
    better: str = ""
    reference: str = ""

    def label_in(self, results: dict[str, Any]) -> str:
        """The label to show beside `results`: the Fréchet distance is named after the feature space it was
        measured in ("FID", "FD (MNIST classifier)"), which the results record."""
        if self.name == "frechet_distance" and results.get("frechet_label"):
            return str(results["frechet_label"])
        return self.label or self.name


# The measures `evaluate` gives every run, in the order Evaluate's table lists them.
STANDARD = (
    Measure("frechet_distance", "Distance between Gaussians fitted to the real and the generated features: quality "
            "and variety in one number.", "FD", "lower"),
    Measure("kid_mean", "Kernel distance between the features; unbiased, so about 0 (even slightly below) when the "
            "two sides match.", "KID", "lower"),
    Measure("precision", "Share of generated samples that land among real ones: fidelity.", "Precision", "higher"),
    Measure("recall", "Share of real samples that land among generated ones: variety.", "Recall", "higher"),
    Measure("density", "Real neighbourhoods holding each generated sample, divided by k: fidelity that outliers "
            "cannot inflate.", "Density", "higher (about 1 for real data)"),
    Measure("coverage", "Share of real neighbourhoods holding at least one generated sample: variety that outliers "
            "cannot inflate.", "Coverage", "higher"),
    Measure("classifier_score", "Inception-Score form: confident and varied class predictions; at most the number of "
            "classes.", "Classifier score", "higher"),
    Measure("class_coverage", "Share of classes the generator reaches with at least a tenth of a fair share of its "
            "samples.", "Class coverage", "higher"),
    Measure("class_histogram_distance", "Total variation between the generated and the real class shares: 0 is the "
            "same mix, 1 no overlap.", "Class mix distance", "lower"),
    Measure("memorisation_ratio", "Median distance to the nearest training sample, generated over held-out real.",
            "Memorisation ratio", "about 1 (well below 1: copying)"),
    Measure("near_copy_share", "Share of generated samples closer to a training sample than 99% of held-out real "
            "ones are.", "Near-copy share", "lower (about 0.01)"),
    Measure("grid_kl", f"KL divergence of the real from the generated 2-D histogram on a {GRID_BINS} x {GRID_BINS} "
            "grid, as in GAN Lab.", "Grid KL", "lower"),
    Measure("grid_js", "Jensen-Shannon divergence on that grid: 0 is identical, ln 2 = 0.69 disjoint.", "Grid JS",
            "lower"),
    Measure("modes_covered", f"Mixture modes with at least one generated point within {HIGH_QUALITY_STDS:g} standard "
            "deviations of their centre.", "Modes covered", "higher"),
    Measure("high_quality_share", f"Share of generated points within {HIGH_QUALITY_STDS:g} standard deviations of a "
            "mode's centre.", "High-quality share", "higher"),
)

# The measures that rank a run's checkpoints where one number must stand for the run (the overview's best score),
# in order of preference: the first one a run has been measured on is used.
RANKING = ("frechet_distance", "kid_mean")


def standard(name: str) -> Measure:
    """The standard measure called `name`; ValueError naming them otherwise."""
    for measure in STANDARD:
        if measure.name == name:
            return measure
    raise ValueError(f"there is no standard measure {name!r}; the measures are {', '.join(m.name for m in STANDARD)}")


def best_checkpoint(evaluations: list[dict[str, Any]]) -> tuple[Measure, dict[str, Any]] | None:
    """The ranking measure and the stored evaluation (with "step" and "results") that scores best on it, or None
    when no evaluation has a ranking measure. All ranking measures are lower-is-better."""
    for name in RANKING:
        scored = [entry for entry in evaluations if isinstance(entry["results"].get(name), (int, float))]
        if scored:
            return standard(name), min(scored, key=lambda entry: entry["results"][name])
    return None

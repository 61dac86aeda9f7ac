"""The measures' declarations: labels, the standard list, and which checkpoint ranks best."""

import pytest

from gan_core.measuring import measures, metrics


def test_every_standard_measure_says_which_way_is_better_and_what_it_means():
    names = [measure.name for measure in measures.STANDARD]
    assert len(names) == len(set(names)) and names[:2] == ["frechet_distance", "kid_mean"]
    assert all(measure.better and measure.description and measure.label for measure in measures.STANDARD)
    assert f"{metrics.GRID_BINS} x {metrics.GRID_BINS}" in measures.standard("grid_kl").description


def test_the_frechet_distance_is_named_after_the_feature_space_it_was_measured_in():
    fd = measures.standard("frechet_distance")
    assert fd.label_in({"frechet_label": "FD (MNIST classifier)"}) == "FD (MNIST classifier)"
    assert fd.label_in({}) == "FD"
    assert measures.standard("kid_mean").label_in({"frechet_label": "FID"}) == "KID"


def test_an_unknown_measure_is_refused_with_the_ones_that_exist():
    with pytest.raises(ValueError, match="there is no standard measure 'fid'; the measures are frechet_distance"):
        measures.standard("fid")


def test_the_best_checkpoint_is_the_lowest_frechet_distance_else_the_lowest_kid():
    evaluations = [{"step": 100, "results": {"frechet_distance": 9.0, "kid_mean": 0.01}},
                   {"step": 200, "results": {"frechet_distance": 4.0, "kid_mean": 0.02}},
                   {"step": 300, "results": {"kid_mean": 0.001}}]
    measure, entry = measures.best_checkpoint(evaluations)
    assert (measure.name, entry["step"]) == ("frechet_distance", 200)
    measure, entry = measures.best_checkpoint([{"step": 300, "results": {"kid_mean": 0.001, "precision": 0.9}}])
    assert (measure.name, entry["step"]) == ("kid_mean", 300)
    assert measures.best_checkpoint([{"step": 1, "results": {"precision": 0.5}}]) is None

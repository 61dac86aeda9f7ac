"""The Evaluate page's side-by-side views of real and generated samples, one tab each.

Tabs are lazy: only the open one samples the checkpoint and computes anything, so opening the page costs one
view, not all of them. Without a learned feature space the projection and the nearest neighbours work on the
pixels instead, and say so.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core.inputs import data
from gan_core.measuring import features, health, metrics
from gan_core.spec import registry
from gan_core.store.runs import Run
from views.charts import scatter_figure
from views.common import grid_picture
from views.evaluate_charts import (class_bars_figure, mode_bars_figure, pixel_histogram_figure,
                                       projection_figure, score_histogram_figure)
from views.evaluate_data import (VIEW_LIMIT, discriminator_scores, feature_rows, generated_sample, real_sample,
                                     real_side_text, training_sample)

IMAGE_VIEWS = ("Pixel intensities", "Feature projection", "Discriminator scores", "Nearest training images",
               "Classes")
POINT_VIEWS = ("Points and modes", "Discriminator scores")
NEAREST_SHOWN = 8


def details_ui(run: Run, step: int, sample_count: int, extractor: features.FeatureExtractor | None) -> None:
    """The views as lazy tabs; each draws up to VIEW_LIMIT samples per side."""
    count = min(sample_count, VIEW_LIMIT)
    _, _, held_out = real_sample(run.config.to_json(), count)
    st.caption(f"Each view compares {count:,} generated samples of step {step:,} with {count:,} "
               f"{real_side_text(run.config, held_out)}.")
    names = POINT_VIEWS if run.config.is_points else IMAGE_VIEWS
    tabs = st.tabs(names, key=f"evaluate_view_{len(names)}", on_change="rerun")
    for name, tab in zip(names, tabs):
        if tab.open:
            with tab:
                try:
                    VIEWS[name](run, step, count, extractor)
                except ValueError as error:  # e.g. a dataset that is no longer on this machine
                    st.error(str(error))


def pixels_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    real, _, _ = real_sample(run.config.to_json(), count)
    generated, _ = generated_sample(run, step, count)
    st.plotly_chart(pixel_histogram_figure(real, generated), key="evaluate_pixels_chart")
    st.caption("How often each brightness occurs, over every pixel of each side. Greys where the real images are "
               "black or white mean blurry samples; missing extremes, a generator that does not yet commit.")


def projection_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    from sklearn.decomposition import PCA

    config_json = run.config.to_json()
    real, _, _ = real_sample(config_json, count)
    generated, _ = generated_sample(run, step, count)
    real_features, _ = feature_rows(config_json, real)
    generated_features, _ = feature_rows(config_json, generated)
    # The axes are fitted to the real features alone, so they describe the data and not the generator's errors.
    projection = PCA(n_components=2, random_state=0).fit(real_features)
    space = extractor.name if extractor is not None else "pixel"
    st.plotly_chart(projection_figure(projection.transform(real_features), projection.transform(generated_features),
                                      projection.explained_variance_ratio_, space), key="evaluate_projection_chart")
    st.caption("Each dot is one sample, placed by its two main directions of variation among the real features. "
               "Generated dots that sit apart from the real cloud, or crowd into part of it, show the gap that FD "
               "and recall measure.")


def discriminator_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    from gan_core.measuring import critique  # Imported here: it loads TensorFlow.

    real, real_labels, _ = real_sample(run.config.to_json(), count)
    generated, generated_labels = generated_sample(run, step, count)
    if not registry.of(run.config).uses_labels(run.config):
        real_labels = generated_labels = None
    real_scores = discriminator_scores(str(run.path), step, real, real_labels)
    generated_scores = discriminator_scores(str(run.path), step, generated, generated_labels)
    loss = run.config.loss
    probabilities = health.output_is_probability(loss)
    st.plotly_chart(score_histogram_figure(real_scores, generated_scores, critique.score_label(loss), probabilities),
                    key="evaluate_scores_chart")
    st.caption(f"The {loss} discriminator of step {step:,} on held-out real and on generated samples: mean "
               f"{real_scores.mean():.3g} on real, {generated_scores.mean():.3g} on generated. Far-apart histograms "
               "mean it still tells them apart easily; overlapping ones that it no longer can.")


def nearest_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    config_json = run.config.to_json()
    generated, _ = generated_sample(run, step, count)
    real, _, held_out = real_sample(config_json, count)
    training, training_total = training_sample(config_json)
    training_features, _ = feature_rows(config_json, training)
    generated_distances, nearest = metrics.nearest_neighbour_distances(feature_rows(config_json, generated)[0],
                                                                       training_features)
    closest = np.argsort(generated_distances)[:NEAREST_SHOWN]
    columns = st.columns(NEAREST_SHOWN)
    for column, index in zip(columns, closest):
        pair = np.stack([generated[index], training[nearest[index]]])
        column.image(grid_picture(pair, 2, 1), caption=f"distance {generated_distances[index]:.3g}", width="stretch")
    space = f"the {extractor.name} feature space" if extractor is not None else "pixel space"
    searched = (f"all {training_total:,}" if len(training) == training_total
                else f"{len(training):,} of the {training_total:,}")
    text = (f"Top: the {len(closest):,} of {count:,} generated samples closest to a training image; bottom: that "
            f"training image. Distances in {space}, searched among {searched} training images.")
    if held_out:
        real_distances, _ = metrics.nearest_neighbour_distances(feature_rows(config_json, real)[0], training_features)
        text += (f" For scale, held-out real images lie a median {np.median(real_distances):.3g} from their nearest "
                 "training image: generated ones much closer than that are likely copies.")
    st.caption(text)


def classes_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    if extractor is None or not extractor.is_classifier:
        st.info("Class counts need a classifier for this dataset, which this run does not have.")
        return
    config_json = run.config.to_json()
    real, _, _ = real_sample(config_json, count)
    generated, asked_labels = generated_sample(run, step, count)
    _, real_probabilities = feature_rows(config_json, real)
    _, generated_probabilities = feature_rows(config_json, generated)
    num_classes = len(extractor.class_names)
    predicted = generated_probabilities.argmax(axis=1)
    st.plotly_chart(class_bars_figure(extractor.class_names,
                                      metrics.class_histogram(real_probabilities.argmax(axis=1), num_classes),
                                      metrics.class_histogram(predicted, num_classes)), key="evaluate_classes_chart")
    st.caption(f"The {extractor.name} labels both sides, so its own mistakes affect them alike: a class missing "
               "from the generated bars is a dropped mode.")
    if asked_labels is not None:
        st.metric("Generated samples classified as the class they were asked for",
                  f"{np.mean(predicted == asked_labels):.0%}",
                  help="A conditional generator that follows its label scores near the classifier's accuracy.")


def points_ui(run: Run, step: int, count: int, extractor: features.FeatureExtractor | None) -> None:
    dataset = run.config.dataset
    real, _, _ = real_sample(run.config.to_json(), count)
    generated, _ = generated_sample(run, step, count)
    st.plotly_chart(scatter_figure(real, generated, f"Real (grey) and generated (orange) points at step {step:,}"),
                    key="evaluate_points_chart")
    centres = data.toy_mode_centres(dataset)
    if centres is None:
        st.caption(f"{dataset} has no separate modes to count; the grid KL / JS above compare the two densities.")
        return
    # The spread measured on the real points, as the measures above do, so that the counts agree with them.
    coverage = metrics.mode_coverage(generated, centres, metrics.mode_spread(real, centres))
    st.plotly_chart(mode_bars_figure(coverage["mode_counts"]), key="evaluate_modes_chart")
    st.caption(f"{coverage['modes_covered']} of {coverage['num_modes']} modes covered; "
               f"{coverage['high_quality_share']:.0%} of the generated points lie within "
               f"{metrics.HIGH_QUALITY_STDS:g} standard deviations of a mode. A mode without points is one the "
               "generator has dropped (mode collapse).")


VIEWS = {
    "Pixel intensities": pixels_ui,
    "Feature projection": projection_ui,
    "Discriminator scores": discriminator_ui,
    "Nearest training images": nearest_ui,
    "Classes": classes_ui,
    "Points and modes": points_ui,
}

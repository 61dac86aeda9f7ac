"""CycleGAN (Zhu et al. 2017): translation learnt from two unpaired collections, A and B, kept honest by cycles.

Two generators, G: A -> B (saved as "generator", the one sampling and the pages use) and F: B -> A ("generator_ba"),
and two discriminators, D_B judging images of B against G's outputs and D_A judging A against F's. Nothing says
which b goes with which a, so each generator alone could map every input to any plausible image of the other
domain; the cycle-consistency loss lambda * (|F(G(a)) - a| + |G(F(b)) - b|) makes the two mappings invert each
other, which keeps the content of the input (a digit's shape, say). The identity loss 0.5 * lambda * (|G(b) - b| +
|F(a) - a|) asks each generator to leave images already of its output domain alone; the paper adds it to keep
colours. Adversarial losses are least-squares (Mao et al. 2017), as in the paper, and the discriminators see a pool
of earlier fakes half the time, so they do not just chase the generators' latest outputs.

Networks use instance normalisation, as the paper's. The generator is by default the paper's ResNet generator
scaled down (one halving instead of two, 3 residual blocks instead of 6-9, which suits 28-32 px and 2 CPU cores);
Pix2Pix's U-Net without dropout (translation.build_unet) is the other choice. Measured on MNIST -> inverted MNIST
after 1500 steps (batch 16, width 16): the ResNet's translations were 0.04 from the right answer and kept 98% of
the digits' classes; the U-Net's closed its cycles as well but redrew the digits (0.25 from the answer, 27% of
classes kept), hiding what it needs to come back in its outputs, the failure the paper warns of. The
discriminators are the PatchGAN of translation.build_patch_discriminator on single images.

Domain A is the run's dataset. Domain B (`cyclegan_target`) is its inverted images (a mapping whose right answer
is known: 255 - a, so the translation can be measured; A takes the even-index images and B the inverted odd-index
ones, so that no pair is ever shown), another built-in set (MNIST <-> Fashion-MNIST, a mapping with no right
answer), or a person's own A/ and B/ folders, whose pairing, if any, is ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.inputs import data, image_pairs
from gan_core.spec import registry
from gan_core.spec.config import DATASET_TITLES
from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting
from gan_core.variants.base import Batch, Chart, Networks, Picture, Series, Training, View
from gan_core.variants.translation import (base_split, build_patch_discriminator, build_unet, class_preserved,
                                           draw_indices, GRID_GROUPS_PER_ROW, grid_picture, held_out_dataset,
                                           ImageTranslation, mean_absolute_error, mean_pixel_distance, normalisation,
                                           split_held_out, translate_images)

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.inputs.data import Dataset
    from gan_core.store.runs import Run

INVERTED = "inverted"
OWN_COLLECTION = "own"
BUILTIN_TARGETS = ("mnist", "fashion_mnist")
# Held-out examples of each domain the gallery view shows.
VIEW_EXAMPLES = 8
RESNET, UNET = "resnet", "unet"
# Residual blocks of the ResNet generator; the paper uses 6 at 128 px and 9 at 256 px.
RESIDUAL_BLOCKS = 3
# Seed offsets of the step's noise: the pool's coin flips and slot orders, one offset per domain's pool.
POOL_SEED_OFFSETS = {"a": 1, "b": 2}
# The paper's chance that a discriminator sees a stored fake instead of the newest one.
POOL_SWAP_PROBABILITY = 0.5


# ---- the maths, as pure functions -----------------------------------------------------------------------------


# The least-squares losses are gan_core.nets.losses' (Mao et al.: 1/2 on each term). The discriminator's is the paper's
# as it is (its halved objective slows D down); CycleGAN weighs the generator's term at 1 beside the cycle terms'
# weight of 10, twice Mao et al.'s 1/2.
GENERATOR_LEAST_SQUARES_WEIGHT = 2.0


def generator_adversarial_loss(fake_outputs: tf.Tensor) -> tf.Tensor:
    """mean (D(G(a)) - 1)^2: the generator wants its outputs judged real."""
    from gan_core.nets import losses

    return GENERATOR_LEAST_SQUARES_WEIGHT * losses.lsgan_generator_loss(fake_outputs)


def cycle_consistency_loss(real_a: tf.Tensor, cycled_a: tf.Tensor, real_b: tf.Tensor, cycled_b: tf.Tensor,
                           weight: float) -> tf.Tensor:
    """weight * (|F(G(a)) - a| + |G(F(b)) - b|), each a mean over pixels."""
    return weight * (mean_absolute_error(cycled_a, real_a) + mean_absolute_error(cycled_b, real_b))


def identity_loss(real_a: tf.Tensor, same_a: tf.Tensor, real_b: tf.Tensor, same_b: tf.Tensor,
                  weight: float) -> tf.Tensor:
    """weight * (|G(b) - b| + |F(a) - a|): each generator leaves images of its own output domain alone."""
    return weight * (mean_absolute_error(same_b, real_b) + mean_absolute_error(same_a, real_a))


def pool_query(pool: tf.Tensor, filled: tf.Tensor, images: tf.Tensor, coins: tf.Tensor,
               slot_draws: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """What the discriminator sees of a batch of fakes, given a pool of earlier ones (Shrivastava et al. 2017).

    While the pool has free slots, images fill them and pass through unchanged. Once it is full, each further
    image is, when its coin (uniform in [0, 1)) falls below POOL_SWAP_PROBABILITY, swapped with a stored one: the
    stored image goes to the discriminator and the new one takes its slot. The slots swapped are distinct, in the
    order of `slot_draws` (uniform, one per slot), so that no image of the batch overwrites another. Returns (the
    images for the discriminator, the new pool, the new count of filled slots).
    """
    import tensorflow as tf

    pool_size, count = pool.shape[0], tf.shape(images)[0]
    index = tf.range(count)
    filling = index < pool_size - filled
    fill_slots = tf.minimum(filled + index, pool_size - 1)
    pool = tf.tensor_scatter_nd_update(pool, tf.boolean_mask(fill_slots, filling)[:, tf.newaxis],
                                       tf.boolean_mask(images, filling))
    # At most pool_size images of one batch can take distinct slots; the rest pass through.
    slots = tf.gather(tf.argsort(slot_draws), tf.minimum(index, pool_size - 1))
    swapping = tf.logical_not(filling) & (coins < POOL_SWAP_PROBABILITY) & (index < pool_size)
    shown = tf.where(swapping[:, tf.newaxis, tf.newaxis, tf.newaxis], tf.gather(pool, slots), images)
    pool = tf.tensor_scatter_nd_update(pool, tf.boolean_mask(slots, swapping)[:, tf.newaxis],
                                       tf.boolean_mask(images, swapping))
    return shown, pool, tf.minimum(filled + count, pool_size)


def inverted_pixels(images: np.ndarray) -> np.ndarray:
    """255 - images: the right answer of the "inverted" target (and how its outputs are turned back for judging)."""

    return image_pairs.inverted(images)


# ---- data -----------------------------------------------------------------------------------------------------


def interleaved_halves(dataset: Dataset) -> Dataset:
    """Domain A the even-index images of `dataset`, domain B its odd-index images inverted: unpaired by design."""

    even, odd = np.arange(0, len(dataset.examples), 2), np.arange(1, len(dataset.examples), 2)
    labels = None if dataset.labels is None else dataset.labels[odd]
    input_labels = None if dataset.labels is None else dataset.labels[even]
    return dataclasses.replace(dataset, examples=inverted_pixels(dataset.examples[odd]), labels=labels,
                               inputs=dataset.examples[even], paired=False, input_labels=input_labels)


def builtin_domain(config: RunConfig, name: str, split: str) -> Dataset:
    """The built-in set `name` as the run's images, for `split`: its test split when this machine has it, else
    a held-out part of its training split; max_examples limits the training images as for the run's dataset."""

    hold_out = data.find_builtin(name, "test") is None
    dataset = data.load_builtin(name, "train" if hold_out else split)
    if (split == "train" or hold_out) and config.max_examples:
        dataset = dataset.first(config.max_examples)
    if hold_out:
        train, held = image_pairs.held_out_indices(len(dataset.examples))
        dataset = dataset.select(train if split == "train" else held)
    size, _, channels = config.data_shape
    return dataclasses.replace(dataset, examples=data.convert_images(dataset.examples, size, channels))


# ---- networks -------------------------------------------------------------------------------------------------


def build_translator(kind: str, input_shape: tuple[int, int, int], output_channels: int, width: int,
                     name: str) -> keras.Model:
    """A generator of `kind` (RESNET or UNET), instance-normalised, with tanh images out."""
    if kind == RESNET:
        return build_resnet_generator(input_shape, output_channels, width, RESIDUAL_BLOCKS, name)
    if kind == UNET:
        return build_unet(input_shape, output_channels, width, norm="instance", dropout_blocks=0, name=name)
    raise ValueError(f"generator {kind!r} is not allowed; use {RESNET!r} or {UNET!r}")


def build_resnet_generator(input_shape: tuple[int, int, int], output_channels: int, width: int, blocks: int,
                           name: str) -> keras.Model:
    """The paper's generator (after Johnson et al. 2016) scaled to 28-32 px: a 7x7 convolution, one stride-2
    convolution down (the paper's two would leave 7x7 of a 28 px image), `blocks` residual blocks, one transposed
    convolution up and a 7x7 convolution to tanh images. An odd side is not halved."""
    import keras


    def convolved(x, filters: int, kernel: int, strides: int = 1, transposed: bool = False, relu: bool = True):
        layer = keras.layers.Conv2DTranspose if transposed else keras.layers.Conv2D
        x = layer(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
        x = normalisation("instance")(x)
        return keras.layers.ReLU()(x) if relu else x

    halves = input_shape[0] % 2 == 0
    inputs = keras.Input(input_shape)
    x = convolved(inputs, width, 7)
    x = convolved(x, width * 2, 3, strides=2 if halves else 1)
    for _ in range(blocks):
        x = keras.layers.Add()([x, convolved(convolved(x, width * 2, 3), width * 2, 3, relu=False)])
    x = convolved(x, width, 3, strides=2 if halves else 1, transposed=True)
    outputs = keras.layers.Conv2D(output_channels, 7, padding="same", activation="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


# ---- the variant ----------------------------------------------------------------------------------------------


class CycleGAN(ImageTranslation):
    name = "cyclegan"
    title = "CycleGAN"
    summary = ("Image-to-image translation learnt without pairs: two collections A and B, two generators (A to B "
               "and back) and two discriminators, kept consistent by asking that translating there and back gives "
               "the image again. Try MNIST to inverted MNIST (the right answer is known), MNIST to Fashion-MNIST, "
               "or your own A/ and B/ folders.")
    settings = (
        Setting("cyclegan_target", str, "Domain B",
                "What the run's dataset (domain A) is translated into: its own images inverted (A takes the "
                "even-index images, B the inverted odd-index ones, so no pair is ever shown), another built-in set, "
                "or 'own' for your own images' A/ and B/ sub-folders (any pairing is ignored).",
                default=INVERTED, choices=(INVERTED, *BUILTIN_TARGETS, OWN_COLLECTION)),
        Setting("cyclegan_generator", str, "Generator",
                "'resnet': the paper's generator (down once, residual blocks, up once), scaled to small images; "
                "'unet': Pix2Pix's U-Net, whose skips from input to output make the cycle easy to close while the "
                "translation redraws the image (a digit can change class).", default=RESNET,
                choices=(RESNET, UNET)),
        Setting("cyclegan_cycle_weight", float, "Cycle weight (lambda)",
                "Weight of the cycle-consistency loss |F(G(a)) - a| + |G(F(b)) - b| beside the adversarial losses; "
                "the paper uses 10.", default=10.0, minimum=0.0, maximum=100.0, step=1.0),
        Setting("cyclegan_identity_weight", float, "Identity weight (share of lambda)",
                "Weight of the identity loss |G(b) - b| + |F(a) - a|, as a share of the cycle weight; the paper "
                "uses 0.5. 0 leaves it out.", default=0.5, minimum=0.0, maximum=2.0, step=0.1),
        Setting("cyclegan_pool_size", int, "Pool of earlier fakes",
                "How many earlier generated images each discriminator keeps; half the time it sees one of them "
                "instead of the newest. The paper keeps 50; 0 turns the pool off.",
                default=50, minimum=0, maximum=1000, step=10),
    )
    measures = (
        Measure("cycle_l1_ab", "Mean |F(G(a)) - a| on held-out images of A, pixels scaled to [0, 1]: how well A -> B "
                "-> A comes back.", label="Cycle A->B->A L1", better="lower"),
        Measure("cycle_l1_ba", "Mean |G(F(b)) - b| on held-out images of B, pixels scaled to [0, 1].",
                label="Cycle B->A->B L1", better="lower"),
        Measure("translation_l1", "Inverted target only: mean |G(a) - (255 - a)| on held-out images, pixels scaled "
                "to [0, 1]; the distance to the known right answer.", label="L1 to the right answer",
                better="lower", reference="identity_mapping_l1"),
        Measure("identity_mapping_l1", "Inverted target only: mean |a - (255 - a)|, what a generator that changed "
                "nothing would score on translation_l1.", label="L1 of no translation", better=""),
        Measure("class_preserved", "Inverted target only: share of held-out translations G(a) that the dataset's "
                "classifier, shown 255 - G(a), gives the class of a. MNIST <-> Fashion-MNIST has no right class "
                "to keep, so it is left out there.", label="Class preserved", better="higher"),
    )
    progress_metrics = ("d_a_loss", "d_b_loss", "g_adversarial_loss", "cycle_loss", "identity_loss")
    presets = {
        "mnist2inverted-cyclegan": dict(name="MNIST to inverted MNIST, unpaired (CycleGAN)", dataset="mnist",
                                        variant="cyclegan", cyclegan_target=INVERTED, width=16, batch_size=16,
                                        steps=4000, sample_every=250, checkpoint_every=500, log_every=50),
        "mnist2fashion-cyclegan": dict(name="MNIST to Fashion-MNIST, unpaired (CycleGAN)", dataset="mnist",
                                       variant="cyclegan", cyclegan_target="fashion_mnist", width=16, batch_size=16,
                                       steps=4000, sample_every=250, checkpoint_every=500, log_every=50),
    }

    def check(self, config: RunConfig) -> None:
        super().check(config)
        target = config.cyclegan_target
        if config.dataset == "folder":
            self.require(target == OWN_COLLECTION, "cyclegan_target", target,
                         f"'{OWN_COLLECTION}' with your own images (their A/ and B/ sub-folders)")
        else:
            self.require(target != OWN_COLLECTION, "cyclegan_target", target,
                         f"{INVERTED} or {' or '.join(BUILTIN_TARGETS)} with a built-in dataset ('own' reads your "
                         "own A/ and B/ folders: choose the dataset 'folder')")
        self.require(target != config.dataset, "cyclegan_target", target,
                     f"another dataset than the run's own ({config.dataset}); '{INVERTED}' translates it into its "
                     "inverted images")

    def judged_dataset(self, config: RunConfig) -> str:
        return config.cyclegan_target if config.cyclegan_target in BUILTIN_TARGETS else config.dataset

    def expected_input(self, config: RunConfig) -> str:
        if config.cyclegan_target == OWN_COLLECTION:
            return "an image like those in your A/ folder"
        return f"an image like those of {DATASET_TITLES.get(config.dataset, config.dataset)} (domain A)"

    def translation_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:


        target = config.cyclegan_target
        if target == OWN_COLLECTION:
            size, _, channels = config.data_shape
            collection = image_pairs.load_pair_collection(config.data_path, size, channels)
            whole = data.Dataset(collection.name, collection.b, None, (), collection.skipped, inputs=collection.a,
                                 paired=False)
            return split_held_out(whole, split)
        domain_a, hold_out = base_split(config, split, load_base,
                                        lambda: data.load_images_or_points(config, "train"))
        if target == INVERTED:
            halves = interleaved_halves(domain_a)
            return split_held_out(halves, split) if hold_out else halves
        if hold_out:
            train, held = image_pairs.held_out_indices(len(domain_a.examples))
            domain_a = domain_a.select(train if split == "train" else held)
        domain_b = builtin_domain(config, target, split)
        return dataclasses.replace(domain_b, inputs=domain_a.examples, paired=False, input_labels=domain_a.labels)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        """G: A -> B; F: B -> A has the same shape (build_generator_ba)."""
        return build_translator(config.cyclegan_generator, self.input_shape(config), config.data_shape[-1],
                                config.width, "generator")

    def build_generator_ba(self, config: RunConfig) -> keras.Model:
        return build_translator(config.cyclegan_generator, config.data_shape, self.input_channels(config),
                                config.width, "generator_ba")

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        """D_B, judging images of B; D_A has the same shape."""
        size, _, channels = config.data_shape
        return build_patch_discriminator(channels, size, config.width, norm="instance", name="discriminator_b")

    def build_discriminator_a(self, config: RunConfig) -> keras.Model:
        return build_patch_discriminator(self.input_channels(config), config.data_shape[0], config.width,
                                         norm="instance", name="discriminator_a")

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return CycleGANTraining(config, self)

    def translation_groups(self, networks: Networks, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
        """Per held-out example two groups side by side: a, G(a), F(G(a)) and b, F(b), G(F(b))."""
        generator, generator_ba = networks.generator, networks["generator_ba"]
        made_b = translate_images(generator, inputs)
        cycled_a = translate_images(generator_ba, made_b)
        made_a = translate_images(generator_ba, targets)
        cycled_b = translate_images(generator, made_a)
        groups = []
        for there, back in zip(zip(inputs, made_b, cycled_a), zip(targets, made_a, cycled_b)):
            groups += [np.stack(there), np.stack(back)]
        return groups

    def charts(self, config: RunConfig) -> list[Chart]:
        return [
            Chart("Adversarial losses (least squares)", "loss",
                  (Series("D_A (judges A)", "d_a_loss"), Series("D_B (judges B)", "d_b_loss"),
                   Series("G: A -> B", "g_ab_adversarial_loss"), Series("F: B -> A", "g_ba_adversarial_loss")),
                  caption="A discriminator that cannot tell at all sits at 0.25 (outputs near 0.5), a generator "
                          "fooling it at 0.25 too; a discriminator loss near 0 means it is winning outright."),
            Chart("Cycle consistency", "weighted L1 on [-1, 1]", (Series("cycle", "cycle_loss"),),
                  caption="lambda * (|F(G(a)) - a| + |G(F(b)) - b|): falls as the two translations learn to "
                          "invert each other."),
            Chart("Identity", "weighted L1 on [-1, 1]", (Series("identity", "identity_loss"),),
                  caption="How much each generator changes images already of its output domain (weighted; 0 when "
                          "the identity weight is 0)."),
        ]

    def views(self) -> tuple[View, ...]:
        return (View("translations", "Held-out translations, there and back",
                     "Each row: A -> B -> A for a held-out image of A (left), B -> A -> B for one of B (right).",
                     "gallery", lambda run, step, seed: draw_translations(self, run, step, seed)),)

    def load_networks(self, run: Run, step: int) -> Networks:
        """Both generators as of the checkpoint at `step`."""
        from gan_core.nets import sampling

        networks = Networks(self.build_generator(run.config, 0),
                            others={"generator_ba": self.build_generator_ba(run.config)})
        sampling.restore_network(run, step, **networks)
        return networks

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        config = run.config
        held_out = held_out_dataset(config.to_json())
        chosen_a = draw_indices(len(held_out.inputs), sample_count, seed)
        chosen_b = draw_indices(len(held_out.examples), sample_count, seed)
        images_a, images_b = held_out.inputs[chosen_a], held_out.examples[chosen_b]
        networks = self.load_networks(run, step)
        generator, generator_ba = networks.generator, networks["generator_ba"]
        made_b = translate_images(generator, images_a)
        made_a = translate_images(generator_ba, images_b)
        results = {"cycle_l1_ab": mean_pixel_distance(translate_images(generator_ba, made_b), images_a),
                   "cycle_l1_ba": mean_pixel_distance(translate_images(generator, made_a), images_b)}
        if config.cyclegan_target == INVERTED:
            results["translation_l1"] = mean_pixel_distance(made_b, inverted_pixels(images_a))
            results["identity_mapping_l1"] = mean_pixel_distance(images_a, inverted_pixels(images_a))
            labels = None if held_out.input_labels is None else held_out.input_labels[chosen_a]
            results.update(class_preserved(config, made_b, labels, judge=inverted_pixels))
        return results


class CycleGANTraining(Training):
    """G, F, D_A and D_B; one Adam for both generators and one for both discriminators, as in the paper's code."""

    def __init__(self, config: RunConfig, variant: CycleGAN) -> None:
        import tensorflow as tf

        super().__init__(config, 0)
        self.generator = variant.build_generator(config, 0)
        self.generator_ba = variant.build_generator_ba(config)
        self.discriminator_b = variant.build_discriminator(config, 0)
        self.discriminator_a = variant.build_discriminator_a(config)
        self.networks = Networks(self.generator, others={"generator_ba": self.generator_ba,
                                                         "discriminator_b": self.discriminator_b,
                                                         "discriminator_a": self.discriminator_a})
        self.generator_variables = self.generator.trainable_variables + self.generator_ba.trainable_variables
        self.discriminator_variables = (self.discriminator_b.trainable_variables
                                        + self.discriminator_a.trainable_variables)
        self.g_optimizer = self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.generator_variables)
        self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                     self.discriminator_variables)
        self.identity_weight = config.cyclegan_identity_weight * config.cyclegan_cycle_weight
        # The pools live in variables, so that the checkpoint saves them and a resumed run continues exactly. Every
        # replica computes the same pool (see pooled), so the first replica's is the one kept.
        self.pools: dict[str, tuple[tf.Variable, tf.Variable]] = {}
        if config.cyclegan_pool_size:
            for domain, channels in (("a", variant.input_channels(config)), ("b", config.data_shape[-1])):
                shape = (config.cyclegan_pool_size, *config.data_shape[:2], channels)
                images = tf.Variable(tf.zeros(shape), trainable=False, name=f"pool_{domain}_images",
                                     aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                filled = tf.Variable(0, trainable=False, name=f"pool_{domain}_filled",
                                     aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
                self.pools[domain] = images, filled
                self.state.update({f"pool_{domain}_images": images, f"pool_{domain}_filled": filled})

    def pooled(self, domain: str, fakes: tf.Tensor, batch: Batch) -> tf.Tensor:
        """The fakes the discriminator of `domain` sees: the newest, or earlier ones from its pool."""
        import tensorflow as tf

        if domain not in self.pools:
            return fakes
        images, filled = self.pools[domain]
        # Each image's coin, then (in the same draw, the batch's first row) an order of the slots.
        draws = batch.noise(POOL_SEED_OFFSETS[domain], [self.config.batch_size, 1 + images.shape[0]], uniform=True)
        # The pool takes the whole batch, every replica's slice in order, so that it holds the same images on every
        # replica and however many replicas share the step; each replica then keeps its own slice.
        context = tf.distribute.get_replica_context()
        all_fakes = context.all_gather(tf.stop_gradient(fakes), axis=0)
        all_draws = context.all_gather(draws, axis=0)
        shown, pool, count = pool_query(images, filled, all_fakes, all_draws[:, 0], all_draws[0, 1:])
        images.assign(pool)
        filled.assign(count)
        start = context.replica_id_in_sync_group * batch.size
        return shown[start : start + batch.size]

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        from gan_core.nets.losses import lsgan_discriminator_loss

        replicas, config = batch.replicas, self.config
        real_a, real_b = batch.inputs(0), batch.real(0)
        with tf.GradientTape(persistent=True) as tape:
            made_b = self.generator(real_a, training=True)
            made_a = self.generator_ba(real_b, training=True)
            cycle = cycle_consistency_loss(real_a, self.generator_ba(made_b, training=True), real_b,
                                           self.generator(made_a, training=True), config.cyclegan_cycle_weight)
            identity = tf.constant(0.0)
            if self.identity_weight > 0:
                identity = identity_loss(real_a, self.generator_ba(real_a, training=True), real_b,
                                         self.generator(real_b, training=True), self.identity_weight)
            ab_adversarial = generator_adversarial_loss(self.discriminator_b(made_b, training=True))
            ba_adversarial = generator_adversarial_loss(self.discriminator_a(made_a, training=True))
            g_loss = ab_adversarial + ba_adversarial + cycle + identity
            g_share = g_loss / replicas
            d_b_loss = lsgan_discriminator_loss(self.discriminator_b(real_b, training=True),
                                                self.discriminator_b(self.pooled("b", made_b, batch), training=True))
            d_a_loss = lsgan_discriminator_loss(self.discriminator_a(real_a, training=True),
                                                self.discriminator_a(self.pooled("a", made_a, batch), training=True))
            d_share = (d_a_loss + d_b_loss) / replicas
        g_gradients = tape.gradient(g_share, self.generator_variables)
        d_gradients = tape.gradient(d_share, self.discriminator_variables)
        del tape
        self.g_optimizer.apply_gradients(zip(g_gradients, self.generator_variables))
        self.d_optimizer.apply_gradients(zip(d_gradients, self.discriminator_variables))
        metrics = dict(d_loss=d_a_loss + d_b_loss, d_a_loss=d_a_loss, d_b_loss=d_b_loss,
                       g_adversarial_loss=ab_adversarial + ba_adversarial, g_ab_adversarial_loss=ab_adversarial,
                       g_ba_adversarial_loss=ba_adversarial, cycle_loss=cycle, identity_loss=identity, g_loss=g_loss)
        return {name: value / replicas for name, value in metrics.items()}


# ---- pictures -------------------------------------------------------------------------------------------------


def draw_translations(variant: CycleGAN, run: Run, step: int, seed: int) -> list[Picture]:
    held_out = held_out_dataset(run.config.to_json())
    images_a = held_out.inputs[draw_indices(len(held_out.inputs), VIEW_EXAMPLES, seed)]
    images_b = held_out.examples[draw_indices(len(held_out.examples), VIEW_EXAMPLES, seed)]
    groups = variant.translation_groups(variant.load_networks(run, step), images_a, images_b)
    return [grid_picture(groups, GRID_GROUPS_PER_ROW,
                         "Each row: a held-out image of A, G(a), F(G(a)); then one of B, F(b), G(F(b)).")]


registry.add(CycleGAN())

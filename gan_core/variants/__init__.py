"""The GAN variants the engine trains, one module each; importing this package registers every one of them.

Adding a variant is its module (which ends by adding itself to gan_core.spec.registry), its tests, and its name below,
whose order is the order the Train form lists the variants in. A variant may import gan_core.measuring and every
layer below it; the trainer (gan_core.training) drives it, so it never imports the trainer.
"""

from gan_core.variants import gan, infogan, acgan, began, vae, vaegan, pix2pix, cyclegan  # noqa: F401  (registers them)

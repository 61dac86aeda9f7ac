"""Networks and the numbers they compute in: builders, losses, differentiable augmentation, precision and
device placement, and generators read back from checkpoints.

Owns: models, losses, augment, precision, distribution, checkpoints (the newest readable checkpoint of a run),
sampling (a generator from a checkpoint: samples, walks, export). May import: gan_core.inputs, gan_core.store,
gan_core.spec. Loads TensorFlow inside the functions that need it, except in the modules that are nothing but
networks (models, losses, sampling).
"""

"""Workflows: what people use a GAN for, run end to end on top of training and measuring.

Owns: augmentation (a study of data augmentation: what it measures, its maths as pure functions, its folder) and
augmentation_driver (the process that runs a study: a conditional generator trained on a few labelled examples per
class, then the same small classifier trained on those examples alone, on them plus generated ones, and on every
real label, each tested on the real test split). May import: gan_core.training and every layer below it.
"""

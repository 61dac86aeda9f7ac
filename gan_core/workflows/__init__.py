"""Workflows: what people use a GAN for, run end to end on top of training and measuring.

Owns: augmentation (a conditional generator trained on a few labelled examples, then the same small classifier
trained on the real examples alone, on them plus generated ones, and on every real label; test accuracy with
intervals over seeds, and a verdict). May import: gan_core.training and every layer below it.
"""

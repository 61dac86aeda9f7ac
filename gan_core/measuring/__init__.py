"""Judging generated data: distances as pure functions on arrays, the measures' declarations, feature
spaces, a run's evaluation, health checks of its curves, the discriminator's verdict and the human real-or-fake test.

Owns: metrics, measures (each measure declared once), label_measures, features (the classifiers whose features the
distances compare), evaluation (a checkpoint measured and stored), health, critique, judging. May import:
gan_core.nets, gan_core.inputs, gan_core.store, gan_core.spec.
"""

"""Training one run: the loop over steps and the callbacks that write its samples, logs, checkpoints and
status, and how fast it goes.

Owns: trainer, throughput. May import: gan_core.variants (the trainer drives a run's variant) and every layer below.
"""

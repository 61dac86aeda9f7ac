"""A public demo link: the caps it holds (trainers in total and per visitor), starting and resuming runs
under them, whose each classifier worker is, and the showcase runs it trains by itself for its first visitor.

Owns: demo (the caps and their pure checks), demo_jobs, demo_classifiers, showcase. May import: gan_core.workers and
every layer below it.
"""

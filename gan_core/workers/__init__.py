"""Work done outside the web server: trainer processes (start, stop, resume, notice the dead), a page's heavy
work on one run, and feature-classifier preparation, each in a process of its own with a small status file.

Owns: jobs, run_jobs, feature_jobs, and warm_start with its process warm_starter (the engine's processes forked
from one that has imported TensorFlow already). May import: gan_core.training and every layer below it; never
gan_core.lab, which sits beside it. Starts gan_core modules as processes rather than importing them.
"""

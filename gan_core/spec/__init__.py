"""What a run is, before anything is computed: its settings, its validated configuration, the presets, and the
registry of variants by name.

Owns: settings (one setting's type, range and help), config (RunConfig, datasets' and losses' names, presets by
name), registry (the variants and their presets). The bottom layer: imports nothing else of gan_core, and none of
TensorFlow, Keras, SciPy or scikit-learn, so that every page can read a run's settings cheaply.
"""

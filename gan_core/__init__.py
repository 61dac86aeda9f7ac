"""The engine: data, networks, training, the run store, measures and jobs, with no user interface of its own.

Its subpackages are layers, each importing only those below it (checked by `lint-imports`, contracts in
pyproject.toml; docs/architecture.md draws them):

    __main__        the command line
    demo_mode       a public demo's caps and showcase
    sweeps          groups of runs ranked by a measure, on the queue or a Ray cluster
    workers | lab   processes outside the web server, the trainer queue | the Playground
    training        the trainer and its callbacks
    variants        the GANs, one module each
    measuring       metrics, measures, features, evaluation, health
    nets            networks, losses, checkpoints, sampling
    inputs          datasets, a person's images, pictures
    store           the run store on disk
    spec            settings, run configuration, presets, the variants' registry, search spaces

Importing it registers the built-in variants (gan_core.variants), so that gan_core.spec.registry knows them all
whichever module a program imports first.
"""

from gan_core import variants  # noqa: F401  (registers them)

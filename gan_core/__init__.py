"""The engine: data, networks, training, the run store, measures and jobs, with no user interface of its own.

Importing it registers the built-in variants (gan_core.variants), so that gan_core.registry knows them all
whichever module a program imports first.
"""

from gan_core import variants  # noqa: F401  (registers them)

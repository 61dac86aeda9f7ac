"""Sweeps: a named group of runs that differ in a few settings, each trained to one budget, ranked by one measure,
optionally halved at rungs (successive halving), on this machine's queue or across a Ray cluster.

Owns: plan (what a sweep is, checked), halving (rungs, survivors and the ranking, as pure functions), sweep_store (a
sweep's folder), cluster (Ray, imported only when an address is given), driver (the process that runs a sweep). May
import: gan_core.workers and every layer below it.
"""

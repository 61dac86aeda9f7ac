"""Feature-classifier workers in demo mode: whose each one is, so that they count against the trainer caps.

A classifier worker (gan_core.workers.feature_jobs) takes a CPU and about as much memory as a trainer for a minute or
more, so a demo counts it as a trainer: in the total cap always, and in the per-visitor cap of the visitor who started
it. Its owner is kept beside the worker's progress file, as the hash a run's owner.json holds (no file: nobody's, as for
the showcase's own workers). Nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

from gan_core.workers import feature_jobs
from gan_core.store.files import write_text_atomically

PROGRESS_SUFFIX = ".preparing.json"


def owner_path(dataset_name: str, cache_dir: Path | str | None = None) -> Path:
    return feature_jobs.status_path(dataset_name, cache_dir).with_suffix(".owner")


def record_owner(dataset_name: str, owner_hash: str | None, cache_dir: Path | str | None = None) -> None:
    """Say whose the worker just started for `dataset_name` is (None: nobody's, the showcase's)."""
    path = owner_path(dataset_name, cache_dir)
    if owner_hash is None:
        path.unlink(missing_ok=True)
    else:
        write_text_atomically(path, owner_hash)


def read_owner(dataset_name: str, cache_dir: Path | str | None = None) -> str | None:
    try:
        return owner_path(dataset_name, cache_dir).read_text().strip() or None
    except OSError:
        return None


def active_worker_owners(cache_dir: Path | str | None = None) -> list[str | None]:
    """The owner hash (None for nobody's) of every classifier worker at work now, whatever its dataset."""
    folder = feature_jobs.status_path("any", cache_dir).parent
    if not folder.is_dir():
        return []
    datasets = [path.name.removesuffix(PROGRESS_SUFFIX) for path in folder.glob(f"*{PROGRESS_SUFFIX}")]
    return [read_owner(name, cache_dir) for name in datasets
            if feature_jobs.preparation_status(name, cache_dir).is_active]

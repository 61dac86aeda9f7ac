"""Where a trainer runs: one device, every GPU of one machine, or several machines (workers) at once.

One worker with at most one GPU trains as it always has. With several GPUs the batch is split over them
(MirroredStrategy). When the environment variable TF_CONFIG names a cluster of several workers (TensorFlow's
standard way, see the README), every worker runs the same trainer under MultiWorkerMirroredStrategy: each takes
its share of every global batch and the gradients are summed over all of them, so the run is the one a single
worker would train, only faster. One worker is the chief (the task "chief", or worker 0): only it writes the
run's metrics, samples and status; the others write their checkpoints to a scratch folder, as TensorFlow requires
of every worker, and delete it.

A strategy must exist before TensorFlow runs any operation, so the command line builds it first thing.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf


def cluster_spec() -> dict[str, list[str]]:
    """The cluster TF_CONFIG names ({} when unset); ValueError saying what is wrong when it cannot be read."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return {}
    try:
        cluster = json.loads(text).get("cluster", {})
    except (json.JSONDecodeError, AttributeError):
        raise ValueError("TF_CONFIG is not a JSON object like {\"cluster\": {\"worker\": [\"host1:port\", "
                         "\"host2:port\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}") from None
    if not isinstance(cluster, dict) or not all(isinstance(hosts, list) for hosts in cluster.values()):
        raise ValueError("TF_CONFIG's \"cluster\" must map task types to lists of \"host:port\" addresses")
    return cluster


def is_multi_worker() -> bool:
    """True when TF_CONFIG names more than one machine (workers and a chief, if any)."""
    cluster = cluster_spec()
    return len(cluster.get("worker", [])) + len(cluster.get("chief", [])) > 1


def choose_strategy() -> tf.distribute.Strategy | None:
    """The strategy this process trains under; None for one device (TensorFlow's default strategy)."""
    import tensorflow as tf

    if is_multi_worker():
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_physical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return None


def is_chief(strategy: tf.distribute.Strategy | None) -> bool:
    """Whether this worker writes the run: always, except the non-chief workers of a multi-worker cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().jobs

"""Shared test set-up: where the real datasets live on these machines, and quiet TensorFlow logs."""

import os
from pathlib import Path

# The repository sits beside shared/ (its datasets folder holds MNIST and a CIFAR-10 subset); an existing
# GAN_DATA_DIR wins so the suite can run elsewhere too.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if SHARED_DATASETS.is_dir():
    os.environ.setdefault("GAN_DATA_DIR", str(SHARED_DATASETS))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

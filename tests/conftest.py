"""Shared test set-up: where the real datasets live on these machines, quiet TensorFlow logs, small disks."""

import os
import subprocess
from pathlib import Path

import pytest

# The repository sits beside shared/ (its datasets folder holds MNIST and a CIFAR-10 subset); an existing
# GAN_DATA_DIR wins so the suite can run elsewhere too.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if SHARED_DATASETS.is_dir():
    os.environ.setdefault("GAN_DATA_DIR", str(SHARED_DATASETS))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def small_disk(tmp_path):
    """A function mounting a tmpfs of the given size (e.g. "8m") and returning its folder, to fill a disk or make it
    read-only for real; the test is skipped where mounting is not allowed (it needs root)."""
    mounted = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk-{len(mounted)}"
        disk.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)]
        if subprocess.run(command, capture_output=True).returncode:
            pytest.skip("needs permission to mount a small tmpfs (root), to fill a disk or make it read-only for real")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)

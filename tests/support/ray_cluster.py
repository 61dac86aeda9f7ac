"""A Ray cluster of two nodes on loopback, each node started by `ray start --block` as a process tree (a session) of
its own, so that a test can kill one node whole, as a machine that is lost.

Two raylets on one host need ports of their own: every port each node opens is given explicitly (each number used
once, since the kernel may hand a just-closed port out again), and their worker ports lie in separate ranges. The
head's health checks run every second, so that a lost node is noticed in about two seconds instead of fifteen.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from support.processes import live_pids, session_of
from support.waiting import wait_for

PROJECT = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).with_name("ray")
# Ray reads these from the head's environment (its GCS server): checks every second, a node dead after two misses.
FAST_HEALTH_CHECKS = {"RAY_health_check_initial_delay_ms": "1000", "RAY_health_check_period_ms": "1000",
                      "RAY_health_check_timeout_ms": "1000", "RAY_health_check_failure_threshold": "2"}


@dataclass
class Node:
    name: str
    process: subprocess.Popen
    temporary: str

    def session_processes(self) -> list[int]:
        """Every live process of this node's session: the raylet, its agents, its workers and what they started."""
        return [pid for pid in live_pids() if session_of(pid) == self.process.pid]

    def kill(self) -> None:
        """SIGKILL every process of the node, as when its machine is lost."""
        for pid in [self.process.pid, *self.session_processes()]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        wait_until(lambda: not self.session_processes(), timeout=30, what=f"every process of node {self.name} gone")


class PortSource:
    """Free loopback ports, each handed out once."""

    def __init__(self) -> None:
        self.given: set[int] = set()

    def __call__(self) -> int:
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            if port not in self.given and not 21000 <= port < 23000:  # the worker port ranges below
                self.given.add(port)
                return port


def node_ports(ports: PortSource, first_worker_port: int) -> list[str]:
    return ["--node-manager-port", str(ports()), "--object-manager-port", str(ports()),
            "--min-worker-port", str(first_worker_port), "--max-worker-port", str(first_worker_port + 99),
            "--dashboard-agent-listen-port", str(ports()), "--dashboard-agent-grpc-port", str(ports()),
            "--runtime-env-agent-port", str(ports()), "--metrics-export-port", str(ports())]


def start_node(name: str, arguments: list[str], folder: Path, environment: dict[str, str]) -> Node:
    # Ray's sockets live in its temporary folder, and a Unix socket's path may not exceed 107 bytes: a short one.
    temporary = tempfile.mkdtemp(prefix=f"ray-{name}-", dir="/tmp")
    command = [str(RAY), "start", "--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats",
               f"--temp-dir={temporary}", *arguments]
    with open(folder / f"{name}.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=environment, start_new_session=True)
    return Node(name, process, temporary)


def wait_until(condition, timeout: float, what: str) -> None:
    if not wait_for(condition, timeout):
        raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def wait_for_nodes(address: str, count: int, timeout: float = 90) -> None:
    """Wait until the cluster has `count` live nodes, asked by a driver of its own: the test process never joins the
    cluster (a driver's threads and state would stay in it)."""
    script = (f"import ray, time; ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)\n"
              f"deadline = time.monotonic() + {timeout}\n"
              f"while sum(node['Alive'] for node in ray.nodes()) != {count} and time.monotonic() < deadline:\n"
              f"    time.sleep(0.2)\n"
              f"assert sum(node['Alive'] for node in ray.nodes()) == {count}, ray.nodes()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout + 60)
    assert result.returncode == 0, f"the cluster never had {count} live nodes:\n{result.stderr[-3000:]}"


@contextlib.contextmanager
def two_node_cluster(folder: Path) -> Iterator[tuple[str, Node, Node]]:
    """(address, head, second node) of a cluster with one CPU on each node; both are killed at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    ports = PortSource()
    port = ports()
    address = f"127.0.0.1:{port}"
    environment = {**os.environ, "PYTHONPATH": str(PROJECT)}
    nodes = []
    try:
        nodes.append(start_node("head", ["--head", f"--port={port}", "--include-dashboard=false",
                                         f"--ray-client-server-port={ports()}", *node_ports(ports, 21000)],
                                folder, {**environment, **FAST_HEALTH_CHECKS}))
        wait_until(lambda: port_open(port) or ended(nodes[0], folder), timeout=60, what="the head's GCS port open")
        nodes.append(start_node("second", [f"--address={address}", *node_ports(ports, 22000)], folder, environment))
        wait_for_nodes(address, 2)
        yield address, nodes[0], nodes[1]
    finally:
        for node in reversed(nodes):
            if node.process.poll() is None or node.session_processes():
                node.kill()
            shutil.rmtree(node.temporary, ignore_errors=True)


def ended(node: Node, folder: Path) -> bool:
    """False while the node's `ray start` runs; AssertionError with its log once it has ended."""
    if node.process.poll() is None:
        return False
    log = (folder / f"{node.name}.log").read_text(errors="replace")
    raise AssertionError(f"ray start of node {node.name} ended with status {node.process.returncode}:\n{log[-3000:]}")


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False

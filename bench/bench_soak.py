"""Soak: many people watching one training run. What do 20 Monitor viewers cost the server and the trainer?

    python3 bench/bench_soak.py [--viewers 20] [--seconds 300] [--baseline 60] [--preset fashion-dcgan]

One trainer process runs throughout, with `streamlit run app.py` over the same run store. The script measures a
window with no viewer (the baseline), then `--viewers` viewers watching the run's Monitor page for `--seconds`,
then a second window with none. A viewer is a websocket client that speaks Streamlit's own protocol, as the
browser does: it opens /monitor?run=ID, answers every auto-rerun the page asks for (the live view's one-second
fragment), and downloads each new image the page shows, but renders nothing. So the trainer shares the two cores
with the server and these light clients only, and the clients' own CPU is measured and printed too.

It prints, for each window: the server's CPU (cores) and memory, the trainer's images per second, and for the
viewers their page updates and session errors (exceptions shown in the page, or a dropped connection). Targets:
no session errors, server memory growth under 200 MB, the server under half a core with 20 viewers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

import websockets  # a dependency of Streamlit itself
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)
from gan_core.workers import jobs
from gan_core.training import throughput
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from bench_monitor import start_streamlit  # the same server start as the Monitor benchmark

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MEDIA_URL = re.compile(rb"/media/[0-9a-f]+\.(?:png|jpg|jpeg|webp)")


@dataclass
class ViewerTally:
    """What one viewer saw."""

    script_runs: int = 0  # full page runs and fragment reruns that finished
    images_fetched: int = 0
    errors: list[str] = field(default_factory=list)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far, from /proc."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def resident_megabytes(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rerun_message(query_string: str, page_name: str, page_script_hash: str = "", fragment_id: str = "") -> bytes:
    message = BackMsg()
    state = message.rerun_script
    state.query_string = query_string
    state.page_name = page_name
    state.page_script_hash = page_script_hash
    if fragment_id:
        state.fragment_id = fragment_id
        state.is_auto_rerun = True
    return message.SerializeToString()


async def fetch_image(url: str, tally: ViewerTally) -> None:
    def download() -> None:
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()

    try:
        await asyncio.to_thread(download)
        tally.images_fetched += 1
    except OSError as error:
        tally.errors.append(f"image {url}: {error}")


async def watch_monitor(base_url: str, run_id: str, seconds: float, tally: ViewerTally) -> None:
    """Open the Monitor page of `run_id` and keep it live for `seconds`, as a browser tab would."""
    query_string, deadline = f"run={run_id}", time.monotonic() + seconds
    fetched: set[bytes] = set()
    timers: dict[str, asyncio.Task] = {}
    page_script_hash = ""
    async with websockets.connect(base_url.replace("http", "ws", 1) + "/_stcore/stream",
                                  subprotocols=["streamlit"], max_size=None) as connection:

        async def rerun_every(fragment_id: str, interval: float) -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(interval)
                await connection.send(rerun_message(query_string, "monitor", page_script_hash, fragment_id))

        await connection.send(rerun_message(query_string, "monitor"))
        try:
            while time.monotonic() < deadline:
                try:
                    data = await asyncio.wait_for(connection.recv(), timeout=max(0.1, deadline - time.monotonic()))
                except TimeoutError:
                    break
                message = ForwardMsg()
                message.ParseFromString(data)
                kind = message.WhichOneof("type")
                if kind == "new_session":
                    page_script_hash = message.new_session.page_script_hash
                elif kind == "auto_rerun":
                    fragment_id = message.auto_rerun.fragment_id
                    if fragment_id not in timers:
                        timers[fragment_id] = asyncio.create_task(
                            rerun_every(fragment_id, message.auto_rerun.interval))
                elif kind == "script_finished":
                    tally.script_runs += 1
                elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
                    tally.errors.append("the page failed to compile")
                elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
                    element = message.delta.new_element
                    if element.WhichOneof("type") == "exception":
                        tally.errors.append(f"exception shown: {element.exception.message[:200]}")
                    for path in MEDIA_URL.findall(data):
                        if path not in fetched:
                            fetched.add(path)
                            await fetch_image(base_url + path.decode(), tally)
        except websockets.ConnectionClosed as closed:
            tally.errors.append(f"connection closed by the server: {closed}")
        finally:
            for timer in timers.values():
                timer.cancel()


def run_viewers(base_url: str, run_id: str, count: int, seconds: float) -> list[ViewerTally]:
    tallies = [ViewerTally() for _ in range(count)]

    async def all_viewers() -> None:
        async def one(index: int) -> None:
            await asyncio.sleep(index * 0.25)  # people arrive over a few seconds, not in the same millisecond
            await watch_monitor(base_url, run_id, seconds - index * 0.25, tallies[index])

        await asyncio.gather(*(one(index) for index in range(count)))

    asyncio.run(all_viewers())
    return tallies


@dataclass
class Window:
    name: str
    seconds: float
    server_cores: float
    server_megabytes_start: float
    server_megabytes_end: float
    images_per_second: float
    viewer_cores: float = 0.0
    tallies: list[ViewerTally] = field(default_factory=list)


def measure(name: str, run, server_pid: int, seconds: float, work=None) -> Window:
    """Server CPU and memory and the trainer's throughput over `seconds`, while `work(seconds)` runs (if given)."""
    first = run.metrics_since(run.latest_step() - 1)[-1]
    cpu_start, memory_start = process_cpu_seconds(server_pid), resident_megabytes(server_pid)
    own_start, wall_start = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    tallies = work(seconds) if work else time.sleep(seconds)
    elapsed = time.monotonic() - wall_start
    own_end = resource.getrusage(resource.RUSAGE_SELF)
    last = run.metrics_since(first["step"])[-1]
    images_per_second = ((last["step"] - first["step"]) * throughput.images_per_step(run.config)
                         / (last["wall_time"] - first["wall_time"]))
    own_cpu = (own_end.ru_utime + own_end.ru_stime) - (own_start.ru_utime + own_start.ru_stime)
    return Window(name, elapsed, (process_cpu_seconds(server_pid) - cpu_start) / elapsed, memory_start,
                  resident_megabytes(server_pid), images_per_second, own_cpu / elapsed if work else 0.0, tallies or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=300, help="how long the viewers watch")
    parser.add_argument("--baseline", type=float, default=60, help="seconds of each window with no viewer")
    parser.add_argument("--preset", default="fashion-dcgan")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as runs_dir:
        run = create_run(preset(options.preset, steps=10_000_000, checkpoint_every=10_000_000), runs_dir)
        jobs.start_run(run)
        server, url = start_streamlit(runs_dir)
        try:
            while len(run.metrics_since()) < 5:
                time.sleep(1)
            time.sleep(10)  # past the trainer's tracing and first samples
            # One page view first, so that the imports and caches every later visitor shares are in place.
            run_viewers(url, run.run_id, 1, 5)
            windows = [measure("no viewer", run, server.pid, options.baseline)]
            windows.append(measure(f"{options.viewers} viewers", run, server.pid, options.seconds,
                                   lambda seconds: run_viewers(url, run.run_id, options.viewers, seconds)))
            windows.append(measure("no viewer again", run, server.pid, options.baseline))
        finally:
            jobs.stop_run(run)
            server.terminate()
            server.wait(timeout=30)

    print(f"\n{options.viewers} Monitor viewers for {options.seconds:.0f} s on one {options.preset} run "
          f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)\n")
    print(f"{'window':<18}{'seconds':>9}{'server cores':>14}{'server MB start':>17}{'server MB end':>15}"
          f"{'trainer images/s':>18}{'viewer cores':>14}")
    for window in windows:
        print(f"{window.name:<18}{window.seconds:>9.0f}{window.server_cores:>14.3f}{window.server_megabytes_start:>17.0f}"
              f"{window.server_megabytes_end:>15.0f}{window.images_per_second:>18.0f}{window.viewer_cores:>14.3f}")
    watched = windows[1]
    errors = [error for tally in watched.tallies for error in tally.errors]
    updates = sum(tally.script_runs for tally in watched.tallies)
    baseline = (windows[0].images_per_second + windows[2].images_per_second) / 2
    print(f"\npage updates received: {updates:,} ({updates / watched.seconds / max(1, options.viewers):.2f} per viewer "
          f"per second); images downloaded: {sum(tally.images_fetched for tally in watched.tallies):,}")
    print(f"session errors: {len(errors)}" + "".join(f"\n  {error}" for error in errors[:10]))
    print(f"server memory growth while watched: {watched.server_megabytes_end - windows[0].server_megabytes_start:+.0f}"
          f" MB (target: under 200 MB)")
    print(f"server CPU while watched: {watched.server_cores:.3f} cores, "
          f"{watched.server_cores / max(1, options.viewers):.4f} per viewer (target: under 0.5)")
    print(f"ratio trainer throughput watched / not watched: {watched.images_per_second / baseline:.3f} "
          f"(the viewers' own clients used {watched.viewer_cores:.3f} cores of the same machine)")


if __name__ == "__main__":
    main()

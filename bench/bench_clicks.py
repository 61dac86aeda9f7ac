"""Clicks that count: every click on a run's controls registered exactly once and shown on the page within 1.5 s.

Starts `streamlit run app.py` over a fresh run store and drives Debian's chromium like a person, one click at a time:

- Monitor: a digits-mlp run trained from the page's own Resume, then `--cycles` rounds of Stop, wait until stopped,
  Resume, wait until it trains again. A Stop is registered when the run's stop request appears, a Resume when a
  new trainer process is started; each is counted from the run's files (stop requests seen, trainer pids seen).
- Playground: a ring-of-8 run playing, then `--clicks` clicks drawn at random (seeded) among Play / Pause, D step,
  G step and Step both. The trainer counts the commands it applied (`commands_applied` in its snapshot), so a click
  lost or counted twice shows as a count off by one.

Clicks on the Playground start once its page has drawn the figure (loading plotly.js into the figure's frame holds
the whole page up for about a second). A click is acknowledged when the page shows its effect: Monitor's state badge
and button ("stopping", then Resume; "queued" or "running", then Stop), the Playground's caption naming the snapshot
the trainer wrote after applying the command (and "playing" or "paused" after Play or Pause). The table gives the
median, the 95th percentile and the slowest acknowledgement per kind of click, each as a ratio of the 1.5 s goal.
Run it on a quiet machine:

    python3 bench/bench_clicks.py [--cycles 20] [--clicks 100] [--seed 0]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from project_paths import PROJECT_ROOT
from gan_core.workers import jobs
from gan_core.lab import playground_store
from gan_core.store import runs
from gan_core.spec.config import preset
from support.browser import CHROMIUM, CHROMIUM_ARGS, dashboard_server, main_area, wait_for_app

GOAL_SECONDS = 1.5
STARTUP_SECONDS = 180  # a trainer loading TensorFlow on a busy machine
STEP_LABELS = ("D step", "G step", "Step both")
# The largest snapshot number the Playground's caption names ("… · snapshot 1,234").
SHOWN_SNAPSHOT = r"""() => {
    let shown = -1;
    for (const caption of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
        const found = caption.innerText.match(/snapshot ([\d,]+)/);
        if (found) shown = Math.max(shown, parseInt(found[1].replace(/,/g, ''), 10));
    }
    return shown;
}"""


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def wait_until(condition, seconds: float, what: str, interval: float = 0.01) -> float:
    """Poll `condition` until it holds; the monotonic time it first held. RuntimeError after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(interval)
    raise RuntimeError(f"{what} did not happen within {seconds:.0f} s")


class TrainerWatch:
    """Watches a run's files in the background: the trainer pids and stop requests seen, and for a Playground run
    each snapshot's number with the commands applied when it was written."""

    def __init__(self, run: runs.Run) -> None:
        self.run = run
        self.pids: list[int] = []
        self.stop_requests = 0
        self.applied_at: dict[int, int] = {}  # commands applied -> first snapshot number that shows them
        self.latest_applied = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self) -> None:
        requested = False
        while not self.stopped.is_set():
            status = self.run.status
            if status.pid and status.pid not in self.pids:
                self.pids.append(status.pid)
            exists = self.run.stop_request_path.exists()
            if exists and not requested:
                self.stop_requests += 1
            requested = exists
            if self.run.config.playground and (snapshot := playground_store.read_snapshot(self.run)) is not None:
                applied = int(snapshot.commands_applied)
                self.applied_at.setdefault(applied, int(snapshot.sequence))
                self.latest_applied = applied
            time.sleep(0.005)

    def close(self) -> None:
        """Stop watching, and stop the run's trainer if it still trains."""
        self.stopped.set()
        self.thread.join()
        if self.run.status.is_active:
            jobs.stop_run(self.run)


def monitor_cycles(page, url: str, runs_dir: Path, cycles: int) -> tuple[dict[str, list[float]], list[str]]:
    """Stop / Resume cycles on Monitor; the acknowledgement times per click kind and any miscount."""
    run = runs.create_run(preset("digits-mlp", steps=1_000_000), runs_dir)
    runs.write_status(run.path, "stopped", "created for the benchmark; resume it to train")
    watch = TrainerWatch(run)
    times: dict[str, list[float]] = {"Monitor Stop": [], "Monitor Resume": []}
    problems = []
    try:
        page.goto(f"{url}/monitor?run={run.run_id}")
        wait_for_app(page)
        for cycle in range(cycles + 1):
            pids_before = len(watch.pids)
            started = time.monotonic()
            main_area(page).get_by_role("button", name="Resume", exact=True).click()
            shown = wait_until(lambda: main_area(page).get_by_role("button", name="Stop", exact=True).count() > 0,
                               60, "the Stop button after Resume")
            times["Monitor Resume"].append(shown - started)
            wait_until(lambda: run.status.state == "running" and run.status.step > 0, STARTUP_SECONDS,
                       "training after Resume")
            if len(watch.pids) != pids_before + 1:
                problems.append(f"Resume {cycle + 1} started {len(watch.pids) - pids_before} trainers")
            if cycle == cycles:
                break
            requests_before = watch.stop_requests
            started = time.monotonic()
            main_area(page).get_by_role("button", name="Stop", exact=True).click()
            shown = wait_until(lambda: main_area(page).get_by_text("Stopping…").count() > 0
                               or main_area(page).get_by_role("button", name="Resume", exact=True).count() > 0,
                               60, "Stopping… after Stop")
            times["Monitor Stop"].append(shown - started)
            wait_until(lambda: run.status.state == "stopped", STARTUP_SECONDS, "the trainer's stop")
            wait_until(lambda: main_area(page).get_by_role("button", name="Resume", exact=True).count() > 0, 60,
                       "the Resume button after the stop")
            if watch.stop_requests != requests_before + 1:
                problems.append(f"Stop {cycle + 1} made {watch.stop_requests - requests_before} stop requests")
    finally:
        watch.close()
    return times, problems


def playground_clicks(page, url: str, runs_dir: Path, clicks: int,
                      seed: int) -> tuple[dict[str, list[float]], list[str]]:
    """Mixed clicks on a playing Playground run; the acknowledgement times per click kind and any miscount."""
    run = runs.create_run(preset("ring-playground", steps=1_000_000), runs_dir)
    jobs.start_run(run)
    watch = TrainerWatch(run)
    times: dict[str, list[float]] = {}
    problems = []
    chooser = random.Random(seed)
    try:
        page.goto(f"{url}/playground?run={run.run_id}")
        wait_for_app(page)
        wait_until(lambda: playground_store.read_snapshot(run) is not None, STARTUP_SECONDS, "the first snapshot")
        # Clicks start once the page has drawn its figure: until then the browser is loading plotly.js (5 MB) into
        # the figure's frame, and everything on the page waits for it for a second or so.
        page.frame_locator('iframe[title="views.live_figure.live_figure"]').locator("#figure .main-svg").first.wait_for(
            timeout=STARTUP_SECONDS * 1000)
        playing = False
        for click in range(clicks):
            # The first click plays, so that the rest land on a playing run; then about one in four toggles.
            toggle = click == 0 or chooser.random() < 0.25
            label = ("Pause" if playing else "Play") if toggle else chooser.choice(STEP_LABELS)
            applied_before = watch.latest_applied
            started = time.monotonic()
            main_area(page).get_by_role("button", name=label, exact=True).click()
            # The waits below call their conditions within this iteration, so the loop's variables are current.
            applied = wait_until(lambda: watch.latest_applied > applied_before, 60,  # noqa: B023
                                 f"the trainer applying {label}")
            sequence = watch.applied_at[applied_before + 1] if applied_before + 1 in watch.applied_at else \
                watch.applied_at[watch.latest_applied]
            word = {"Play": "playing", "Pause": "paused"}.get(label)

            def acknowledged() -> bool:
                if page.evaluate(SHOWN_SNAPSHOT) < sequence:  # noqa: B023
                    return False
                return word is None or main_area(page).get_by_text(re.compile(rf"· {word} ·")).count() > 0  # noqa: B023

            shown = wait_until(acknowledged, 60, f"the page showing {label}", interval=0.02)
            times.setdefault(f"Playground {label}", []).append(max(shown, applied) - started)
            if max(shown, applied) - started > GOAL_SECONDS:
                print(f"click {click + 1} ({label}) acknowledged after {max(shown, applied) - started:.2f} s (applied "
                      f"by the trainer after {applied - started:.2f} s)", flush=True)
            if toggle:
                playing = not playing
            # Exactly one more command applied, not two: checked once the next state is on screen.
            if watch.latest_applied != applied_before + 1:
                problems.append(f"click {click + 1} ({label}) applied {watch.latest_applied - applied_before} "
                                "commands")
        total = watch.latest_applied
        if total != clicks:
            problems.append(f"{clicks} clicks, {total} commands applied")
    finally:
        watch.close()
    return times, problems


def report(times: dict[str, list[float]], problems: list[str], arguments: argparse.Namespace, seconds: float) -> None:
    print(f"\n{datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_name()}, {os.cpu_count()} cores, load average "
          f"{' / '.join(f'{value:.1f}' for value in os.getloadavg())} at the end, {seconds:.0f} s in all, "
          f"--cycles {arguments.cycles} --clicks {arguments.clicks} --seed {arguments.seed}")
    print(f"| click | count | median s | 95th percentile s | slowest s | slowest / {GOAL_SECONDS} s goal |")
    print("|---|---|---|---|---|---|")
    for kind, values in times.items():
        if not values:
            continue
        ordered = sorted(values)
        percentile = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"| {kind} | {len(values)} | {statistics.median(values):.2f} | {percentile:.2f} | {ordered[-1]:.2f} | "
              f"{ordered[-1] / GOAL_SECONDS:.2f} |")
    every = [value for values in times.values() for value in values]
    print(f"\n{len(every)} clicks, each registered exactly once: {'yes' if not problems else 'NO'}; "
          f"acknowledged within {GOAL_SECONDS} s: {sum(value <= GOAL_SECONDS for value in every)} of {len(every)}")
    for problem in problems:
        print(f"- {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20, help="Stop / Resume cycles on Monitor (default 20)")
    parser.add_argument("--clicks", type=int, default=100, help="clicks on the Playground (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the Playground's click sequence")
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        print("needs Debian's chromium: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder, dashboard_server(Path(folder)) as url, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            times, problems = monitor_cycles(page, url, Path(folder), arguments.cycles)
            more_times, more_problems = playground_clicks(page, url, Path(folder), arguments.clicks, arguments.seed)
        except RuntimeError:
            page.screenshot(path=str(PROJECT_ROOT / "test-output" / "bench-clicks-failure.png"), full_page=True)
            raise
        browser.close()
    report({**times, **more_times}, problems + more_problems, arguments, time.monotonic() - started)
    return 1 if problems + more_problems else 0


if __name__ == "__main__":
    sys.exit(main())

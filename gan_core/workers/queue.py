"""The trainer queue of one run store: a run waits for a free slot instead of training beside every other run.

Three runs on 2 cores each get a third of the machine and all finish late; in turn, the first finishes in a third of
the time and the last no later. A slot is an flock on `<runs>/.queue/slot-K.lock`, held by the trainer process for
as long as it trains: the operating system frees it when that process ends, however it ends, so a crashed trainer
never keeps a slot. Waiting runs take slots in the order they joined: each holds an flock on its own ticket in
`<runs>/.queue/waiting/`, named by the time it joined, and a ticket nobody holds is a waiter that has gone.
Nothing here imports TensorFlow: a waiting process costs a few tens of MB, not a trainer's hundreds.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from gan_core.store.runs import Run, status_lock, replace_status

SLOTS_VARIABLE = "GAN_TRAINER_SLOTS"
QUEUE_FOLDER = ".queue"
# How often a waiting run looks for a free slot: short beside a trainer's start-up of several seconds.
POLL_SECONDS = 0.25


def default_slots(environment: dict[str, str] | None = None) -> int:
    """Trainers one machine holds at once: $GAN_TRAINER_SLOTS, else one per two cores (a trainer keeps two busy)."""
    environment = os.environ if environment is None else environment
    text = environment.get(SLOTS_VARIABLE, "").strip()
    if not text:
        return max(1, (os.cpu_count() or 2) // 2)
    try:
        slots = int(text)
    except ValueError:
        raise ValueError(f"{SLOTS_VARIABLE}={text!r} must be a whole number of trainers, at least 1") from None
    if slots < 1:
        raise ValueError(f"{SLOTS_VARIABLE}={slots} must be at least 1 (one trainer at a time)")
    return slots


def queue_folder(runs_dir: Path) -> Path:
    return Path(runs_dir) / QUEUE_FOLDER


def waiting_tickets(runs_dir: Path) -> list[Path]:
    """The tickets of the runs waiting now, first come first; tickets of waiters that have gone are removed."""
    folder = queue_folder(runs_dir) / "waiting"
    tickets = sorted(path for path in folder.iterdir() if not path.name.startswith(".")) if folder.is_dir() else []
    alive = []
    for ticket in tickets:
        if is_held(ticket):
            alive.append(ticket)
        else:
            ticket.unlink(missing_ok=True)
    return alive


def is_held(path: Path) -> bool:
    """Whether some process holds the flock on `path` (False for a file that has gone)."""
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except FileNotFoundError:
        return False
    return False


def position(run: Run) -> tuple[int, int] | None:
    """(place, waiting) of a run in its store's queue, place 1 being next; None when it is not waiting."""
    tickets = waiting_tickets(run.path.parent)
    for place, ticket in enumerate(tickets, start=1):
        if ticket.name.endswith(f"-{run.run_id}"):
            return place, len(tickets)
    return None


@contextmanager
def trainer_slot(run: Run, slots: int, stop_requested: Callable[[], bool]) -> Iterator[bool]:
    """Wait in the queue for one of `slots` slots and hold it for the block; yields False instead when a stop was
    asked for while waiting (the run is cancelled and never trains). The run's status says its place meanwhile."""
    folder = queue_folder(run.path.parent)
    (folder / "waiting").mkdir(parents=True, exist_ok=True)
    with ExitStack() as held:
        name = f"{time.time_ns():020d}-{run.run_id}"
        ticket = folder / "waiting" / name
        # Locked before it is listed: a ticket seen unlocked is taken for a gone waiter's and removed, so it is made
        # under a hidden name, locked, and only then renamed into the line (the lock stays with the open file).
        hidden = folder / "waiting" / f".{name}"
        ticket_handle = held.enter_context(open(hidden, "wb"))
        fcntl.flock(ticket_handle, fcntl.LOCK_EX)
        os.replace(hidden, ticket)
        held.callback(ticket.unlink, missing_ok=True)
        slot = None
        while slot is None:
            if stop_requested():
                yield False
                return
            slot = take_free_slot(run, ticket, slots, held)
            if slot is None:
                time.sleep(POLL_SECONDS)
        ticket.unlink(missing_ok=True)
        yield True


def take_free_slot(run: Run, ticket: Path, slots: int, held: ExitStack):
    """A slot's open, locked file when this ticket's turn has come and a slot is free; None otherwise."""
    tickets = waiting_tickets(run.path.parent)
    place = tickets.index(ticket) + 1 if ticket in tickets else 1
    free = [number for number in range(slots) if not is_held(queue_folder(run.path.parent) / f"slot-{number}.lock")]
    if place > len(free):
        note_place(run, place, len(tickets), slots)
        return None
    for number in free:
        handle = open(queue_folder(run.path.parent) / f"slot-{number}.lock", "wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()  # taken between the look and the lock
            continue
        held.enter_context(handle)
        return handle
    return None


def note_place(run: Run, place: int, waiting: int, slots: int) -> None:
    """Write the run's place in its status when it has changed, so that every page shows it."""
    message = waiting_message(place, waiting, slots)
    with status_lock(run.path) as status:
        if status.state == "queued" and status.message != message:
            replace_status(run.path, status, "queued", message, pid=status.pid or os.getpid(), step=status.step)


def waiting_message(place: int, waiting: int, slots: int) -> str:
    trainers = "one trainer" if slots == 1 else f"{slots} trainers"
    return f"waiting for a free slot: place {place} of {waiting} in the queue ({trainers} at a time here)"

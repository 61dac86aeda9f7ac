"""Who started a run: the owner record beside the run, and whether a visitor may control it.

In demo mode each visitor's browser holds a random owner token. The run keeps only a SHA-256 hash of it, in
`owner.json` (not in config.json, which stays a reproducible RunConfig), so reading the run store never reveals
a token that would give control of a run. Outside demo mode nobody is recorded and everyone controls every run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gan_core.store.runs import Run

OWNER_FILE = "owner.json"


@dataclass(frozen=True)
class OwnerRecord:
    owner_hash: str | None  # None: nobody controls the run (a showcase run)
    showcase: bool = False  # started by the demo itself, so that the first visitor sees a run at once


def owner_hash(token: str) -> str:
    """The hash a run stores for an owner token; a token too short to be secret is refused."""
    if len(token) < 16:
        raise ValueError("an owner token must be at least 16 characters, so that it cannot be guessed")
    return hashlib.sha256(token.encode()).hexdigest()


def record_owner(run: Run, record: OwnerRecord) -> None:
    """Write the run's owner record (replaced atomically, like status.json)."""
    temporary = run.path / f".{OWNER_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps({"owner_hash": record.owner_hash, "showcase": record.showcase}))
    os.replace(temporary, run.path / OWNER_FILE)


def read_owner(run_path: Path) -> OwnerRecord | None:
    """The run's owner record; None for a run made outside demo mode (or whose record is unreadable)."""
    try:
        payload = json.loads((Path(run_path) / OWNER_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    return OwnerRecord(owner_hash=payload.get("owner_hash"), showcase=bool(payload.get("showcase", False)))


def may_control(record: OwnerRecord | None, visitor_hash: str | None, demo: bool) -> bool:
    """Whether a visitor may stop, resume, train more, delete or reset the answers of a run.

    Outside demo mode everyone may. In demo mode only the owner may: runs without an owner (showcase runs, runs
    made outside the demo) are nobody's to control.
    """
    if not demo:
        return True
    if record is None or record.owner_hash is None or not visitor_hash:
        return False
    return hmac.compare_digest(record.owner_hash, visitor_hash)


def why_not_controllable(record: OwnerRecord | None) -> str:
    """The short note a visitor sees where a run's controls would be."""
    if record is not None and record.showcase:
        return "This is a showcase run the demo started by itself: everyone can watch it, nobody can control it."
    if record is None or record.owner_hash is None:
        return "This run was not started from this demo, so nobody can control it here."
    return ("Another visitor started this run: only they can stop, resume, train more, delete it or reset its "
            "answers. Start your own on the Train page.")


def owner_label(record: OwnerRecord | None, visitor_hash: str | None) -> str:
    """Whose a run is, as a demo's overview names it to one visitor: "showcase", "yours" or "another visitor's"
    ("not from this demo" for runs made outside it)."""
    if record is not None and record.showcase:
        return "showcase"
    if record is None or record.owner_hash is None:
        return "not from this demo"
    return "yours" if may_control(record, visitor_hash, demo=True) else "another visitor's"

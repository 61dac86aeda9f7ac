"""Whether the Train page's Start may create a run: the one place that refuses it, with the reason to show.

A run that cannot train must not be created: it would fail at step 0 and offer a Resume that fails again. So
both the settings and the data are checked first (other checks, such as a demo's caps, belong here too).
"""

from __future__ import annotations

from gan_core.inputs import data
from gan_core.spec.config import RunConfig


def start_refusal(config: RunConfig | None, settings_error: str, refused_upload: str = "") -> str | None:
    """Why Start must not create a run for `config` (None when the settings did not validate), or None to go ahead.

    `refused_upload` is why the person's upload was refused (it was not kept, so the form has no data to train on).
    """
    if refused_upload:
        return f"The run was not started: your upload cannot be used. {refused_upload}"
    if config is None:
        # The browser does not clamp numbers (see train_form), so the person learns the allowed range here.
        return f"The run was not started: {settings_error}"
    try:
        data.check_available(config)
    except ValueError as error:
        return f"The run was not started: its data cannot be used. {error}"
    return None

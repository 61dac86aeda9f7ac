"""The warm starter's process (`python -m gan_core.workers.warm_starter`, started by gan_core.workers.warm_start):
it imports TensorFlow and Keras, says it is ready (with its environment variables, to which the imports add), then
forks one engine process per request.

Each child becomes what `python -m MODULE ARGUMENTS` would have been: a session of its own, its output appended to
its log, the request's folder and environment, and the engine imported afresh (only the third-party modules are
kept from the starter), so that it runs the code on disk and reads the settings of the moment.

No TensorFlow operation ever runs here, so that nothing TensorFlow starts on first use (its thread pools) exists
when a child is forked.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import traceback

from gan_core.nets.tensorflow_import import import_tensorflow_quietly
from gan_core.workers.warm_start import ENGINE


def main() -> None:
    # The answers go through a copy of standard output, which itself goes to standard error from here on: nothing a
    # library prints can come between two answers.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import_tensorflow_quietly()
    # The kernel collects the children's ends: this process never waits for one, and none lingers as a zombie.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    answer(answers, {"ready": dict(os.environ)})  # with what the imports added to it
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            answers.close()  # the child holds no end of the starter's pipes
            become(request)
        answer(answers, {"pid": pid})


def answer(answers, message: dict) -> None:
    answers.write(json.dumps(message) + "\n")
    answers.flush()


def become(request: dict) -> None:
    """In the child: run the request's command as `python -m` would, then exit with its status; never returns."""
    status = 1
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the child waits for its own children (subprocess does)
        redirect_output(request["log"])
        os.chdir(request["directory"])
        os.environ.clear()
        os.environ.update(request["environment"])
        forget_engine_modules()
        module, *arguments = request["command"][2:]
        sys.argv = [module, *arguments]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as ended:
        status = exit_status(ended.code)
    except BaseException:  # noqa: BLE001  (whatever ends the command is told in its log, as a fresh process would)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def redirect_output(log_path: str) -> None:
    """Standard input from /dev/null; standard output and error appended to the log."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)


def forget_engine_modules() -> None:
    """Drop the engine's modules, which the next import then reads afresh from disk."""
    for name in [name for name in sys.modules if name == ENGINE or name.startswith(ENGINE + ".")]:
        del sys.modules[name]


def exit_status(code) -> int:
    """What a process exits with for `sys.exit(code)`: 0 for None, the number, or 1 after printing anything else."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    main()

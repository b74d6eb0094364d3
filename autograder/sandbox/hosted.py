"""The sandbox mode a hosted grader uses: Gradescope's and PrairieLearn's, which run
the grader as root inside a Docker container of their own.

One decision for both engines: bubblewrap when a jailed worker really answers here,
else the container mode (their Docker's default seccomp profile refuses the
namespaces bubblewrap needs). Each engine words the outcome its own way.
"""
from dataclasses import dataclass

from ..model import SandboxMode
from .jail import Limits, SandboxUnavailable
from .modes import select
from .session import WorkerProcess


@dataclass(frozen=True)
class Chosen:
    mode: SandboxMode
    refused: str | None = None    # why bubblewrap could not run, when it was left for this


def bubblewrap_fails() -> str | None:
    """Why a jailed bubblewrap worker cannot start here, or None when one answers.

    A real worker, not only bwrap's own start-up check: nested in another sandbox (or a
    container with a masked /proc) bwrap may start and its jail still fail ("Can't mount
    proc on /newroot/proc").
    """
    try:
        worker = WorkerProcess(Limits(), sandbox=select(SandboxMode.BUBBLEWRAP))
    except (SandboxUnavailable, OSError) as e:
        return str(e)
    try:
        worker.request({"op": "ping"}, 30)
        return None
    except Exception as e:   # noqa: BLE001 - any failure means: not this mode
        return f"{type(e).__name__}: {e}"
    finally:
        worker.close()


def choose(requested: SandboxMode = SandboxMode.AUTO) -> Chosen:
    """The mode asked for; for `auto`, bubblewrap when a jailed worker answers here,
    else the container mode, with why bubblewrap could not run."""
    if requested != SandboxMode.AUTO:
        return Chosen(SandboxMode(requested))
    why = bubblewrap_fails()
    if why is None:
        return Chosen(SandboxMode.BUBBLEWRAP)
    return Chosen(SandboxMode.CONTAINER, (why.strip().splitlines() or ["?"])[0][:200])

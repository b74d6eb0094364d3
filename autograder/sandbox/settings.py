"""JailSettings: how every jail of one grading run is made, in one frozen record.

Built once by the pipeline from its Options and passed down explicitly, through
the runner and the student wrapper to each WorkerProcess: nothing is read from a
global, so two runs in one process (tests, the in-process Gradescope run) cannot
see each other's mode.
"""
from dataclasses import dataclass, field

from .jail import Limits


@dataclass(frozen=True)
class JailSettings:
    """`mode`: a sandbox mode (`modes.select(...)` or `modes.UNSAFE`), which makes each
    worker's launch. `limits`: the caps of each jail. `timeout`: seconds per cell and
    per call. `budget`: wall-clock seconds for everything one student's code does
    (None: no budget beyond `timeout` per request). `secrets`: paths whose mere opening
    by student code is noted as tampering (sent to each worker before student code)."""
    mode: object
    limits: Limits = field(default_factory=Limits)
    timeout: float = 30.0
    budget: float | None = None
    secrets: tuple = ()

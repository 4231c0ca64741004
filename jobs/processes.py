"""`Supervisor`: keeps N worker processes running and passes signals on to them.

`flask worker --processes N` (N > 1) runs this in the process the operator started; each child is
`flask worker --processes 1`, a whole process of its own (fork + exec: nothing is shared with this
one, so no database connection, Redis socket or lock crosses a fork). The supervisor starts them,
replaces one that dies while it is not stopping, and exits when all of them have.

Signals: SIGTERM/SIGINT are passed to every child. RQ's worker treats the first as a warm shutdown
(finish the job in flight, then exit) and a second one, a second or more later, as a cold shutdown,
so an operator pressing Ctrl-C twice gets RQ's usual behaviour. The children stay in this process
group: a signal sent to the whole group (a terminal's Ctrl-C) reaches them twice within a second,
which RQ counts once; `kill -9` of the group takes them all down.
"""
from __future__ import annotations

import logging
import signal
import subprocess
import time
from typing import Sequence

log = logging.getLogger("shoal.worker")

POLL_EVERY = 0.2        # seconds between checks on the children
QUICK_DEATH = 10.0      # a child that dies sooner than this after starting...
RESPAWN_PAUSE = 5.0     # ...is replaced only after this pause (a broken config must not spin)


class Supervisor:
    def __init__(self, argv: Sequence[str], processes: int, *, burst: bool = False,
                 cwd: str | None = None, env: dict[str, str] | None = None) -> None:
        self.argv = list(argv)
        self.processes = processes
        self.burst = burst
        self.cwd, self.env = cwd, env
        self.children: list[tuple[subprocess.Popen, float]] = []
        self.stopping = False
        self.failed = 0

    def run(self) -> int:
        """Start the children and supervise them until all have exited. Returns the exit code:
        0, or 1 if a child exited with an error while the supervisor was stopping or in burst mode."""
        previous = {sig: signal.signal(sig, self._forward) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for _ in range(self.processes):
                self._start()
            while self.children:
                time.sleep(POLL_EVERY)
                self._reap()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 1 if self.failed else 0

    @property
    def pids(self) -> list[int]:
        return [child.pid for child, _ in self.children]

    def _start(self) -> None:
        self.children.append((subprocess.Popen(self.argv, cwd=self.cwd, env=self.env), time.monotonic()))

    def _reap(self) -> None:
        for entry in list(self.children):
            child, started = entry
            code = child.poll()
            if code is None:
                continue
            self.children.remove(entry)
            if self.stopping or self.burst:
                # A child still starting when the signal came dies of it (RQ's handlers aren't in
                # place yet; it had no job): a clean stop too.
                self.failed += code not in (0, -signal.SIGTERM, -signal.SIGINT)
                continue
            # Died on its own (killed by the OOM killer, a crash): its job is left `started`, and
            # the intent's ledger and the sweeper recover it. Keep the pool at full strength.
            log.warning("worker process %s exited with %s; starting another", child.pid, code)
            if time.monotonic() - started < QUICK_DEATH:
                time.sleep(RESPAWN_PAUSE)
            if not self.stopping:
                self._start()

    def _forward(self, signum: int, _frame) -> None:   # noqa: ANN001 (a frame object)
        self.stopping = True
        for child, _ in self.children:
            if child.poll() is None:
                child.send_signal(signum)

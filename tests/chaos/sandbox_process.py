"""One CRM sandbox in a process of its own, for the chaos test: `python sandbox_process.py <key>`.

Prints the server's base URL on its first line of output, then serves until killed. In the test
process the five sandboxes would share one interpreter lock with each other and with the test;
Pinpoint's lookup of a new person reads every application, so its slow pages then held up the
other CRMs' answers (and theirs held up its own) until, on a loaded machine, calls timed out on
every retry. Real CRMs don't share a lock, and here neither do the sandboxes."""
from __future__ import annotations

import importlib
import logging
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.common import ServerThread


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)   # not a line per request
    module = importlib.import_module(f"sandbox.{sys.argv[1]}")
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)   # before the server thread starts: it inherits the mask
    server = ServerThread(module.create_app())
    server.start()
    print(server.base, flush=True)
    signal.sigwait(stop)
    server.stop()


if __name__ == "__main__":
    main()

"""Entry of the small helper processes the harness starts (python3 -m vnet_harness._helper).

  logger OUT_FIFO IN_FIFO LOG QEMU_PID   copy the guest console into LOG
  sink BIND_IP PORT TIMEOUT              receiving end of a checked transfer
  source DST_IP PORT NBYTES SEED TIMEOUT sending end of a checked transfer

Kept apart from the modules it calls so that running it with -m does not load a
module twice.
"""

import sys

from .console import logger_main
from .traffic import sink_main, source_main

COMMANDS = {"logger": logger_main, "sink": sink_main, "source": source_main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))

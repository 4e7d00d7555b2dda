"""The compiled mail scanner (`_mailscan.c`), or None where the install could not build it.

Both paths give the same records (the differential tests in tests/test_mbox.py and
tests/test_closing.py hold them to it); the compiled one is several times faster.
`CLIENTPULSE_PURE_MAIL=1` forces the pure-Python path, so it can be proven on a machine
that has a compiler.
"""

from __future__ import annotations

import os
from types import ModuleType

scanner: ModuleType | None = None
if os.environ.get("CLIENTPULSE_PURE_MAIL") != "1":
    try:
        from connectors.mailboxes import _mailscan as scanner
    except ImportError:  # built without a compiler: the pure-Python path
        scanner = None

PATH = "compiled" if scanner is not None else "pure-python"
# why this path: what `make setup` and the benchmarks print beside it
if scanner is not None:
    WHY = "CLIENTPULSE_PURE_MAIL=1 measures the pure-Python one"
elif os.environ.get("CLIENTPULSE_PURE_MAIL") == "1":
    WHY = "CLIENTPULSE_PURE_MAIL=1 is set"
else:
    WHY = "this install has no compiled scanner: no C compiler worked when it was built"

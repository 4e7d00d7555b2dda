"""The install builds the compiled mail scanner wherever a compiler works, and falls back to
the pure-Python path (with a warning, not a failed install) where none does."""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig

from connectors.mailboxes import native


def _compiler_works() -> bool:
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    try:
        return subprocess.run([*compiler, "--version"], capture_output=True).returncode == 0
    except OSError:
        return False


def test_the_scanner_is_compiled_exactly_when_it_can_be() -> None:
    forced_pure = os.environ.get("CLIENTPULSE_PURE_MAIL") == "1"
    expected = "pure-python" if forced_pure or not _compiler_works() else "compiled"
    assert expected == native.PATH


def test_the_path_says_why_it_was_taken() -> None:
    """What the benchmarks print beside the path they measured."""
    forced_pure = os.environ.get("CLIENTPULSE_PURE_MAIL") == "1"
    if native.PATH == "compiled":
        assert "CLIENTPULSE_PURE_MAIL=1" in native.WHY and "pure-Python" in native.WHY
    elif forced_pure:
        assert native.WHY == "CLIENTPULSE_PURE_MAIL=1 is set"
    else:
        assert "no C compiler" in native.WHY

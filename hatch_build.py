"""Build hook: compile connectors/mailboxes/_mailscan.c with the machine's C compiler.

Runs for wheels and editable installs alike (`uv sync`), putting the extension next to
its source, where `connectors.mailboxes.native` imports it. Only the stdlib is needed: the
compiler is `$CC` or the one this Python was built with (`sysconfig`), with its flags.

The extension is a fast path, not a requirement: where no compiler works (a slim image,
a locked-down laptop, `CC=false`) or `CLIENTPULSE_PURE_MAIL=1` is set, the build warns and
installs without it, and mail is read by the pure-Python path, which gives the same rows.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("connectors") / "mailboxes" / "_mailscan.c"


def compile_command(source: Path, target: Path) -> list[str]:
    compiler = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    flags = shlex.split(sysconfig.get_config_var("CCSHARED") or "-fPIC")
    include = sysconfig.get_paths()["include"]
    return [*compiler, *flags, "-O2", "-shared", f"-I{include}", str(source), "-o", str(target)]


class MailscanBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        target = SOURCE.with_name("_mailscan" + sysconfig.get_config_var("EXT_SUFFIX"))
        if os.environ.get("CLIENTPULSE_PURE_MAIL") == "1":
            self.app.display_warning(
                "CLIENTPULSE_PURE_MAIL=1: mail is read by the pure-Python path"
            )
            return
        try:
            subprocess.run(  # noqa: S603 - the configured compiler
                compile_command(root / SOURCE, root / target),
                check=True,
                capture_output=True,
                text=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            self.app.display_warning(
                f"could not compile {SOURCE} ({detail.strip()[:300]}); installing without it: "
                "mail is read by the pure-Python path (same rows, slower; see benchmarks/README.md)"
            )
            (root / target).unlink(missing_ok=True)  # never import a stale build
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(root / target)] = str(target)

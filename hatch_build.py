"""Build hook: compile connectors/_mailscan.c with the machine's C compiler.

Runs for wheels and editable installs alike (`uv sync`), putting the extension next to
its source, where `connectors.mail_headers` imports it. Only the stdlib is needed: the
compiler and flags are the ones this Python was built with (`sysconfig`).
"""

from __future__ import annotations

import shlex
import subprocess
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("connectors") / "_mailscan.c"


class MailscanBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        target = SOURCE.with_name("_mailscan" + sysconfig.get_config_var("EXT_SUFFIX"))
        compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
        flags = shlex.split(sysconfig.get_config_var("CCSHARED") or "-fPIC")
        include = sysconfig.get_paths()["include"]
        command = [*compiler, *flags, "-O2", "-shared", f"-I{include}"]
        command += [str(root / SOURCE), "-o", str(root / target)]
        subprocess.run(command, check=True)  # noqa: S603 - the configured compiler
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version != "editable":
            build_data["force_include"][str(root / target)] = str(target)

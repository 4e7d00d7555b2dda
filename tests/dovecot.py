"""A private Dovecot IMAP server for tests: own config, free port, maildirs in a temp dir.

`make test` installs Dovecot from Debian packages (dovecot-imapd); without it the
tests using this server fail, naming what is missing. Run as root (CI), Dovecot's
login and mail processes take its own unprivileged users; otherwise everything runs
as the current user.
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PASSWORD = "test-secret"
CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
mail_uid = {mail_user}
mail_gid = {mail_group}
{oauth_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


# Tokens checked against an RFC 7662 introspection endpoint (POST token=...): active, and
# the `email` it names is the user logging in.
OAUTH_PASSDB = """\
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
"""
OAUTH_CONFIG = """\
introspection_mode = post
introspection_url = {url}
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """A running server; `users` may log in with `PASSWORD`, and with OAuth 2.0 bearer
    tokens (XOAUTH2, OAUTHBEARER) when `introspection_url` is given."""

    def __init__(self, binary: str, users: list[str], introspection_url: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="clientpulse-dovecot-"))
        self.root.chmod(0o755)  # Dovecot's own users must reach their directories
        self.port = _free_port()
        self.users = users
        if os.geteuid() == 0:
            internal, login, mail = "dovecot", "dovenull", "dovecot"
        else:
            internal = login = mail = getpass.getuser()
        mail_entry = pwd.getpwnam(mail)
        for folder in ("mail", "home"):
            (self.root / folder).mkdir()
            os.chown(self.root / folder, mail_entry.pw_uid, mail_entry.pw_gid)
        (self.root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}\n" for u in users))
        self.config = self.root / "dovecot.conf"
        if introspection_url is not None:
            (self.root / "oauth2.conf.ext").write_text(OAUTH_CONFIG.format(url=introspection_url))
        self.config.write_text(
            CONFIG.format(
                mechanisms="plain xoauth2 oauthbearer" if introspection_url else "plain",
                oauth_passdb=OAUTH_PASSDB.format(root=self.root) if introspection_url else "",
                root=self.root,
                port=self.port,
                internal_user=internal,
                internal_group=grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name,
                login_user=login,
                mail_user=mail,
                mail_group=mail_entry.pw_gid,
            )
        )
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited at start: {self._log()}")
            try:
                with imaplib.IMAP4("127.0.0.1", self.port, timeout=2) as probe:
                    probe.noop()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on port {self.port}: {self._log()}")

    def _log(self) -> str:
        log = self.root / "dovecot.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        if self.process.stderr and self.process.poll() is not None:
            text += self.process.stderr.read().decode(errors="replace")
        return text.strip()[-2000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def client(self, user: str) -> imaplib.IMAP4:
        """A logged-in plain IMAP session as `user` (close it with `logout`)."""
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(user, PASSWORD)
        return imap

"""Start and stop the demo sandbox: the simulated world behind local fake services.

`start_sandbox` writes the world's mailbox (a Takeout mbox at the path the config names)
and ground truth, then starts `python -m sandbox serve` as a detached process in its own
session. That process rebuilds the same world from config and seed (the simulator is
deterministic) and serves the fake Asana, HubSpot and Slack APIs, the Gmail API and
Microsoft Graph fakes holding the mailboxes the config reads through them
(sandbox/demo_mail.py), and a real SMTP capture server on free loopback ports. It
reports its ports (and the Google service account key it made) over a pipe once
listening; `start` then checks that each service answers, and writes `connections.env`
(Airflow connection variables: the only place the credentials are) and `sandbox.json`.

One sandbox per out dir: starting again stops the running one first (the world may have
changed with the seed or config), so `start` always leaves a fresh, matching sandbox.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shlex
import signal
import smtplib
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from clientpulse.config import PROJECT_ROOT, AgencyConfig, load_config

from .demo_mail import GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET, GRAPH_TENANT_ID
from .mbox_writer import write_mbox
from .simulator import DEMO_MONTHS, DEMO_SEED, World, simulate

if TYPE_CHECKING:
    from .demo_mail import DemoMail

# Fixed demo credentials; they guard nothing but let clients exercise real auth.
ASANA_TOKEN = "demo-asana-token"  # noqa: S105
HUBSPOT_TOKEN = "demo-hubspot-token"  # noqa: S105
SLACK_TOKEN = "xoxb-demo-slack-token"  # noqa: S105
# The app-level token that opens the fake Slack's Socket Mode (the Slack listener's).
SLACK_APP_TOKEN = "xapp-1-A0CLIENTP1-demo-app-token"  # noqa: S105

# The serve process builds the world and files its mail in the fakes first (~10 s).
STARTUP_TIMEOUT = 180.0
STOP_TIMEOUT = 10.0
log = logging.getLogger(__name__)

# Serve processes started by this Python process, so `stop_sandbox` can reap them.
_CHILDREN: dict[int, subprocess.Popen] = {}


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says where its log is."""


@dataclass(frozen=True)
class SandboxInfo:
    out_dir: Path
    pid: int
    asana_url: str
    hubspot_url: str
    slack_url: str
    smtp_host: str
    smtp_port: int
    mbox_path: Path
    env_file: Path
    log_file: Path
    gmail_url: str = ""  # "" when the config reads no mailbox through that fake
    graph_url: str = ""

    def to_json(self) -> dict:
        return {
            key: str(value) if isinstance(value, Path) else value
            for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class _Paths:
    root: Path

    @property
    def dir(self) -> Path:
        return self.root / "sandbox"

    @property
    def pid(self) -> Path:
        return self.dir / "sandbox.pid"

    @property
    def log(self) -> Path:
        return self.dir / "sandbox.log"

    @property
    def info(self) -> Path:
        return self.dir / "sandbox.json"

    @property
    def env(self) -> Path:
        return self.dir / "connections.env"

    @property
    def slack_capture(self) -> Path:
        return self.root / "slack" / "messages.jsonl"

    @property
    def email_dir(self) -> Path:
        return self.root / "email"


# --- start ---------------------------------------------------------------------------


def start_sandbox(
    config_path: Path | str,
    out_dir: Path | str,
    seed: int = DEMO_SEED,
    *,
    months: int = DEMO_MONTHS,
    timeout: float = STARTUP_TIMEOUT,
) -> SandboxInfo:
    """Build the world, start the fake services in the background, return where they are."""
    config_path = Path(config_path).resolve()
    paths = _Paths(Path(out_dir).resolve())
    config = load_config(config_path)
    mbox_path = _mbox_path(config, paths)
    stop_sandbox(paths.root)
    paths.dir.mkdir(parents=True, exist_ok=True)
    for stale in (paths.info, paths.env):
        stale.unlink(missing_ok=True)
    ready_read, ready_write = os.pipe()
    command = [
        sys.executable,
        "-m",
        "sandbox",
        "serve",
        "--config",
        str(config_path),
        "--out",
        str(paths.root),
        "--seed",
        str(seed),
        "--months",
        str(months),
        "--ready-fd",
        str(ready_write),
    ]
    with paths.log.open("wb") as log_file:
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(ready_write,),
            start_new_session=True,
        )
    os.close(ready_write)
    _CHILDREN[child.pid] = child
    _write_atomic(paths.pid, f"{child.pid}\n")
    try:
        # The serve process builds its own copy meanwhile; this one writes the files.
        world = simulate(config, seed=seed, months=months)
        _write_world_files(world, paths, mbox_path)
        ready = _await_ready(ready_read, child, paths, timeout)
        ports = ready["ports"]
        info = SandboxInfo(
            out_dir=paths.root,
            pid=child.pid,
            asana_url=f"http://127.0.0.1:{ports['asana']}/api/1.0",
            hubspot_url=f"http://127.0.0.1:{ports['hubspot']}",
            slack_url=f"http://127.0.0.1:{ports['slack']}/api/",
            smtp_host="127.0.0.1",
            smtp_port=ports["smtp"],
            mbox_path=mbox_path,
            env_file=paths.env,
            log_file=paths.log,
            gmail_url=_url(ports, "gmail"),
            graph_url=_url(ports, "graph"),
        )
        _check_health(info)
    except BaseException:
        stop_sandbox(paths.root)
        raise
    finally:
        os.close(ready_read)
    _write_atomic(paths.env, render_connections(config, info, ready.get("service_account")))
    _write_atomic(paths.info, json.dumps(info.to_json(), indent=2) + "\n")
    return info


def _mbox_path(config: AgencyConfig, paths: _Paths) -> Path:
    """Where the shared inbox's Takeout goes: the config's mbox file, else (the mail
    read through the Gmail and Graph fakes) the sandbox's folder."""
    mailboxes = config.sources.mailboxes
    if mailboxes is not None and mailboxes.mbox:
        return mailboxes.mbox[0].path
    return paths.dir / "mail" / "shared-inbox.mbox"


def _url(ports: dict[str, int], name: str) -> str:
    return f"http://127.0.0.1:{ports[name]}" if name in ports else ""


def _write_world_files(world: World, paths: _Paths, mbox_path: Path) -> None:
    write_mbox(world.messages, mbox_path)
    _write_atomic(
        paths.dir / "ground_truth.json",
        json.dumps(world.ground_truth, indent=2, sort_keys=True) + "\n",
    )
    _write_atomic(paths.dir / "world_summary.json", json.dumps(world.summary(), indent=2) + "\n")


def _await_ready(ready_fd: int, child: subprocess.Popen, paths: _Paths, timeout: float) -> dict:
    """The line the serve process writes once every service listens: its `ports`, and
    the `service_account` key it made for the Gmail fake (if it serves one)."""
    deadline = time.monotonic() + timeout
    received = b""
    while not received.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxError(f"sandbox did not start within {timeout:.0f} s; see {paths.log}")
        readable, _, _ = select.select([ready_fd], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(ready_fd, 4096)
        if not chunk:  # the pipe closed: the process is exiting before it was ready
            try:
                code = child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = None
            raise SandboxError(
                f"sandbox process exited (code {code}) before it was ready; see {paths.log}"
            )
        received += chunk
    return json.loads(received)


def _check_health(info: SandboxInfo) -> None:
    """Each fake answers an authenticated request; the SMTP server greets and says OK."""
    checks = {
        "Asana": lambda: requests.get(
            f"{info.asana_url}/users/me", timeout=5, headers=_bearer(ASANA_TOKEN)
        ),
        "HubSpot": lambda: requests.get(
            f"{info.hubspot_url}/crm/v3/owners",
            timeout=5,
            params={"limit": 1},
            headers=_bearer(HUBSPOT_TOKEN),
        ),
        "Slack": lambda: requests.post(
            f"{info.slack_url}auth.test", timeout=5, headers=_bearer(SLACK_TOKEN)
        ),
    }
    # the mail fakes: a request without a token is refused in the provider's error shape
    if info.gmail_url:
        checks["Gmail"] = lambda: requests.get(
            f"{info.gmail_url}/gmail/v1/users/me/profile", timeout=5
        )
    if info.graph_url:
        checks["Graph"] = lambda: requests.get(f"{info.graph_url}/v1.0/users", timeout=5)
    refused = {"Gmail", "Graph"}
    for name, check in checks.items():
        try:
            response = check()
        except requests.RequestException as exc:
            raise SandboxError(
                f"fake {name} is not answering ({exc}); see {info.log_file}"
            ) from None
        if name in refused:
            if response.status_code != 401 or "error" not in response.json():
                raise SandboxError(
                    f"fake {name} answered HTTP {response.status_code} without a token; "
                    f"see {info.log_file}"
                )
            continue
        if response.status_code != 200 or (name == "Slack" and not response.json().get("ok")):
            raise SandboxError(
                f"fake {name} answered HTTP {response.status_code}; see {info.log_file}"
            )
    try:
        with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=5) as smtp:
            code, _ = smtp.noop()
    except (OSError, smtplib.SMTPException) as exc:
        raise SandboxError(f"SMTP capture is not answering ({exc}); see {info.log_file}") from None
    if code != 250:
        raise SandboxError(f"SMTP capture answered {code} to NOOP; see {info.log_file}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def render_connections(
    config: AgencyConfig, info: SandboxInfo, service_account: dict | None = None
) -> str:
    """`export AIRFLOW_CONN_<ID>='<json>'` lines for the connections the config names."""
    sources, delivery = config.sources, config.delivery
    connections = {
        sources.asana.connection_id if sources.asana else "clientpulse_asana": {
            "conn_type": "http",
            "host": info.asana_url,
            "password": ASANA_TOKEN,
        },
        sources.crm.connection_id if sources.crm else "clientpulse_hubspot": {
            "conn_type": "http",
            "host": info.hubspot_url,
            "password": HUBSPOT_TOKEN,
        },
        delivery.slack.connection_id: {
            "conn_type": "slack",
            "password": SLACK_TOKEN,
            "extra": {"base_url": info.slack_url},
        },
        delivery.email.connection_id: {
            "conn_type": "smtp",
            "host": info.smtp_host,
            "port": info.smtp_port,
            "extra": {"disable_tls": True, "disable_ssl": True},
        },
    }
    connections |= _mail_connections(config, info, service_account)
    lines = [
        "# Airflow connections for the ClientPulse sandbox (demo tokens, not secrets).",
        f"# Use with: source {info.env_file}",
    ]
    lines += [
        f"export AIRFLOW_CONN_{conn_id.upper()}={shlex.quote(json.dumps(value))}"
        for conn_id, value in connections.items()
    ]
    return "\n".join(lines) + "\n"


def _mail_connections(
    config: AgencyConfig, info: SandboxInfo, service_account: dict | None
) -> dict[str, dict]:
    """The Gmail entries' Connection (the service account's JSON key, as the Google
    provider keeps it, and the fake's base URLs) and the Graph accounts' (the app
    registration: client id and secret, tenant id, the fake's login and Graph URLs)."""
    mailboxes = config.sources.mailboxes
    connections: dict[str, dict] = {}
    for entry in mailboxes.gmail if mailboxes and info.gmail_url else []:
        key = dict(service_account or {}, token_uri=f"{info.gmail_url}/token")
        connections[entry.connection_id] = {
            "conn_type": "google_cloud_platform",
            "extra": {
                "keyfile_dict": key,
                "api_base_url": info.gmail_url,
                "directory_base_url": info.gmail_url,
            },
        }
    for account in mailboxes.graph if mailboxes and info.graph_url else []:
        connections[account.connection_id] = {
            "conn_type": "generic",
            "login": GRAPH_CLIENT_ID,
            "password": GRAPH_CLIENT_SECRET,
            "extra": {
                "tenant_id": GRAPH_TENANT_ID,
                "login_url": info.graph_url,
                "graph_url": f"{info.graph_url}/v1.0",
            },
        }
    return connections


def read_connections(out_dir: Path | str) -> dict[str, str]:
    """The `AIRFLOW_CONN_*` variables `render_connections` wrote for a running sandbox."""
    env = {}
    for line in _Paths(Path(out_dir)).env.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    os.replace(temp, path)


# --- stop / status -------------------------------------------------------------------


def stop_sandbox(out_dir: Path | str, timeout: float = STOP_TIMEOUT) -> bool:
    """Stop the sandbox serving `out_dir` (SIGTERM, then SIGKILL); True if one was running."""
    paths = _Paths(Path(out_dir).resolve())
    pid = running_pid(paths.root)
    was_running = pid is not None
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            log.warning("sandbox process %s ignored SIGTERM; killing it", pid)
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, timeout)
    for leftover in (paths.pid, paths.info, paths.env):  # their ports are gone now
        leftover.unlink(missing_ok=True)
    return was_running


def running_pid(out_dir: Path | str) -> int | None:
    """The pid of this out dir's serve process, if it is alive (and really ours)."""
    paths = _Paths(Path(out_dir).resolve())
    try:
        pid = int(paths.pid.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) and _is_serve_process(pid) else None


def status(out_dir: Path | str) -> dict | None:
    """What `sandbox.json` says, when the sandbox for `out_dir` is running."""
    paths = _Paths(Path(out_dir).resolve())
    pid = running_pid(paths.root)
    if pid is None:
        return None
    try:
        return json.loads(paths.info.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # running, but `start` has not written it yet
        return {"pid": pid, "state": "starting"}


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """The serve process leads its own session, so its group id is its pid."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        del _CHILDREN[pid]
        return True
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _proc_field(pid, "stat").split(") ")[-1][:1] != "Z"


def _is_serve_process(pid: int) -> bool:
    """Guards against a stale pid file naming a pid the system has since reused."""
    cmdline = _proc_field(pid, "cmdline")
    return not cmdline or ("sandbox" in cmdline and "serve" in cmdline)


def _proc_field(pid: int, name: str) -> str:
    try:
        return (
            Path(f"/proc/{pid}/{name}").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        )
    except OSError:
        return ""


# --- the serve process ---------------------------------------------------------------


def serve(config_path: Path, out_dir: Path, seed: int, months: int, ready_fd: int | None) -> int:
    """Run the fakes for the world of (config, seed) until SIGTERM or SIGINT."""
    # Imported here: only this process needs the web stack, not `start`, `stop`, `status`.
    from .demo_mail import demo_mail
    from .fake_asana import create_app as asana_app
    from .fake_gmail import create_app as gmail_app
    from .fake_graph import create_app as graph_app
    from .fake_hubspot import create_app as hubspot_app
    from .fake_slack import create_app as slack_app
    from .http_server import start_server
    from .smtp_capture import SmtpCapture

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection
    paths = _Paths(Path(out_dir).resolve())
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    config = load_config(config_path)
    world = simulate(config, seed=seed, months=months)
    log.info("world built: %s", json.dumps(world.summary()["hubspot"]))
    mail = demo_mail(config.sources.mailboxes, world.messages)
    _log_mailboxes(mail)
    # Whatever started is stopped, even when a later start fails: a uvicorn thread still
    # running while the interpreter shuts down can crash it (SIGSEGV instead of exit 1).
    with contextlib.ExitStack() as started:
        apps = {
            "asana": asana_app(world.asana, ASANA_TOKEN),
            "hubspot": hubspot_app(world.hubspot, HUBSPOT_TOKEN),
            "slack": slack_app(
                SLACK_TOKEN, capture_path=paths.slack_capture, app_token=SLACK_APP_TOKEN
            ),
        }
        if mail.gmail is not None:
            apps["gmail"] = gmail_app(mail.gmail)
        if mail.graph is not None:
            apps["graph"] = graph_app(mail.graph)
        servers = {}
        for name, app in apps.items():
            servers[name] = start_server(app)
            started.callback(servers[name].stop)
        smtp = started.enter_context(SmtpCapture(out_dir=paths.email_dir, port=0))
        ports = {name: server.port for name, server in servers.items()} | {"smtp": smtp.port}
        if mail.gmail is not None:  # the JWT assertions' audience
            mail.gmail.authority.token_uri = f"{servers['gmail'].base_url}/token"
        log.info("serving on 127.0.0.1: %s", ports)
        if ready_fd is not None:
            ready = {"ports": ports, "service_account": mail.service_account}
            os.write(ready_fd, json.dumps(ready).encode() + b"\n")
            os.close(ready_fd)
        while not stopping.wait(1.0):
            pass
        log.info("stopping")
    return 0


def _log_mailboxes(mail: DemoMail) -> None:
    """How many messages each fake mailbox holds (addresses only, no credentials)."""
    if mail.gmail is not None:
        sizes = {box: len(m.messages) for box, m in mail.gmail.mailboxes.items()}
        log.info("Gmail fake mailboxes: %s", json.dumps(sizes))
    if mail.graph is not None:
        sizes = {box: len(m.items) for box, m in mail.graph.mailboxes.items()}
        log.info("Graph fake mailboxes: %s", json.dumps(sizes))

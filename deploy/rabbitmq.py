"""A private RabbitMQ instance for a local network or a test session: TLS only, EXTERNAL only.

`PrivateBroker` runs its own Erlang node, with everything under one directory (`home`): its
configuration, Erlang cookie, database, logs and PID file. It never reads /etc/rabbitmq, never
uses the default cookie, and runs its own epmd on a private port, so it cannot disturb (or be
disturbed by) a system RabbitMQ on the same machine. The AMQP listener accepts TLS only, on
127.0.0.1 by default (an organisation's broker listens on its host's address: see
deploy/org_broker.py), requires a client certificate from the network's CA (at most the node CA
and the doorman CA between it and the root), and logs the client in as the certificate's whole
subject (SASL EXTERNAL, `ssl_cert_login_from = distinguished_name`); there is no password login
and no management plugin. Erlang/OTP applies the node CA's name constraints when it validates the
client chain, so a node can log in only as the name the doorman approved (tests/broker proves it).

Provisioning gives each node a password-less user named `broker_user_name(legal name)`, allowed to
declare and read only its own inbox queue and to publish through the default exchange (which is
how it reaches every other node's inbox). See `node_permissions`.

Nothing here stops a process it did not start: `stop()` uses `rabbitmqctl stop <pidfile>` for the
node it started, then the PIDs (and process group) of the processes it spawned.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

INBOX_PREFIX = "p2p.inbound."
OUTBOX_PREFIX = "p2p.outbound."
"""Queue name prefixes of dlt.messaging (amqp, routing); repeated so this module stays free of
the platform's imports."""

INSTALL_HINT = "sudo apt-get install -y rabbitmq-server  (or: sudo bash deploy/ensure-rabbitmq.sh)"
REQUIRED_PLUGIN = "rabbitmq_auth_mechanism_ssl"
DEFAULT_VHOST = "/"

# Queue names go into permission regexes and definitions; keep them plain.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# User names are rendered subjects: RabbitMQ escapes every byte outside printable ASCII.
_SAFE_USER = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,1023}")

_SCRIPT_CANDIDATES = (
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
    "/usr/sbin/rabbitmq-server",
    "/usr/local/sbin/rabbitmq-server",
    "/opt/homebrew/sbin/rabbitmq-server",
)
_EPMD_CANDIDATES = ("/usr/bin/epmd", "/usr/local/bin/epmd")


# Runs beside the broker in its own session and stops it if the Python process that started it
# dies without calling stop() (killed by a timeout, say): owner gone == we were reparented.
_WATCHDOG = r"""
import os, signal, subprocess, sys, time
owner, server, epmd = (int(a) for a in sys.argv[1:4])
ctl, node, pid_file = sys.argv[4:7]

def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

while os.getppid() == owner and alive(server):
    time.sleep(1)
if alive(server):
    try:
        subprocess.run([ctl, "-n", node, "stop", pid_file], timeout=60, capture_output=True)
    except Exception:
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive(server):
            break
        try:
            os.killpg(server, sig)
        except OSError:
            pass
        time.sleep(5)
if alive(epmd):
    os.kill(epmd, signal.SIGTERM)
"""


class BrokerError(RuntimeError):
    """The private broker could not be started, stopped or provisioned; the message says why."""


class RabbitMQNotInstalledError(BrokerError):
    """The RabbitMQ server programs are not on this machine."""


# ---------------------------------------------------------------------------------------------
# Finding (and, if allowed, installing) RabbitMQ.


def find_rabbitmq_scripts() -> Path | None:
    """The directory holding the real `rabbitmq-server` and `rabbitmqctl` scripts, if any.

    Distribution wrappers (Debian's /usr/sbin/rabbitmq-server switches to the `rabbitmq` user
    and the system's cookie) are skipped: the scripts next to `rabbitmq-env` are used instead.
    """
    candidates = [shutil.which("rabbitmq-server"), *_SCRIPT_CANDIDATES]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        if not path.exists():
            continue
        for directory in (path.resolve().parent, path.parent):
            server = directory / "rabbitmq-server"
            if not server.exists():
                continue
            real_dir = server.resolve().parent
            if (real_dir / "rabbitmq-env").exists() and (real_dir / "rabbitmqctl").exists():
                return real_dir
    return None


def _find_epmd() -> Path | None:
    found = shutil.which("epmd")
    if found:
        return Path(found)
    for candidate in _EPMD_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    for candidate in sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd"), reverse=True):
        return candidate
    return None


def _check_plugin(scripts: Path) -> None:
    plugins = scripts.parent / "plugins"
    if plugins.is_dir() and not any(plugins.glob(f"{REQUIRED_PLUGIN}-*")):
        raise RabbitMQNotInstalledError(
            f"RabbitMQ at {scripts.parent} has no {REQUIRED_PLUGIN} plugin in {plugins}; "
            "install a RabbitMQ 3.10+ distribution that ships it"
        )


def ensure_rabbitmq_installed() -> Path:
    """The RabbitMQ scripts directory, installing the package with apt-get when root can.

    Raises RabbitMQNotInstalledError naming the command to run otherwise.
    """
    scripts = find_rabbitmq_scripts()
    if scripts is not None:
        _check_plugin(scripts)
        return scripts
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or apt is None:
        why = "not root" if os.geteuid() != 0 else "apt-get is not available"
        raise RabbitMQNotInstalledError(
            f"rabbitmq-server is not installed and cannot be installed here ({why}); "
            f"run: {INSTALL_HINT}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        [apt, "update"],
        [apt, "install", "-y", "--no-install-recommends", "rabbitmq-server"],
    ):
        log.info("running %s", " ".join(command))
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RabbitMQNotInstalledError(
                f"`{' '.join(command)}` failed with exit code {result.returncode}: "
                f"{_tail_text(result.stderr or result.stdout, 20)}; run: {INSTALL_HINT}"
            )
    scripts = find_rabbitmq_scripts()
    if scripts is None:
        raise RabbitMQNotInstalledError(
            f"apt-get installed rabbitmq-server but its scripts were not found; run: {INSTALL_HINT}"
        )
    _check_plugin(scripts)
    return scripts


# ---------------------------------------------------------------------------------------------
# Ports and names.


def free_port(low: int | None = None, high: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (in [low, high) when given)."""
    if low is None or high is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    for _ in range(200):
        port = low + secrets.randbelow(high - low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BrokerError(f"no free TCP port found in {low}..{high - 1}")


def default_node_name(home: Path) -> str:
    """`dlt-<hash of home>@localhost`: unique per directory, stable across restarts."""
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
    return f"dlt-{digest}@localhost"


def _check_name(kind: str, value: str) -> str:
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError(
            f"{kind} {value!r} must be 1-200 characters of letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def _check_user(value: str) -> str:
    if not _SAFE_USER.fullmatch(value):
        raise ValueError(
            f"broker user {value!r} must be 1-1024 printable ASCII characters, as RabbitMQ "
            "renders a certificate subject; make it with broker_user_name(legal name)"
        )
    return value


@dataclass(frozen=True)
class Permissions:
    """A user's regexes on one vhost (RabbitMQ matches resource names against them)."""

    configure: str
    write: str
    read: str


def node_permissions(inbox_queue: str) -> Permissions:
    """What a node may do: declare (configure) and consume/purge (read) its own inbox, and its
    own outboxes (`p2p.outbound.<its key hash>.<peer>`, where messages for peers on other brokers
    wait to be forwarded, see dlt.messaging.routing), and publish (write) to the default
    exchange, which routes to any queue by name. It can reach every peer's inbox that way but
    can neither read, bind, purge nor delete another's queue, nor create other queues or
    exchanges. (RabbitMQ checks no permission on a *passive* declare, so a node can learn
    whether a queue exists and its message count; inbox names are public.)"""
    own = _check_name("queue name", inbox_queue)
    key_hash = own.removeprefix(INBOX_PREFIX)
    outboxes = rf"{re.escape(OUTBOX_PREFIX + key_hash)}\.[A-Za-z0-9]+" if own != key_hash else None
    allowed = f"^{re.escape(own)}$" if outboxes is None else f"^({re.escape(own)}|{outboxes})$"
    return Permissions(configure=allowed, write=r"^amq\.default$", read=allowed)


def peer_permissions() -> Permissions:
    """What a node of another organisation may do on this organisation's broker: publish
    through the default exchange (to the inboxes hosted here), and nothing else: no queue of
    its own, no reading. Its user exists so EXTERNAL can log it in and `user_id` be checked."""
    return Permissions(configure="^$", write=r"^amq\.default$", read="^$")


@dataclass(frozen=True)
class ClusterMember:
    """What lets brokers on several hosts form one RabbitMQ cluster (the consortium option):
    Erlang distribution and epmd listen on the host's address as well as loopback, on ports
    every member shares, and every member has the same cookie."""

    address: str
    cookie: str
    epmd_port: int = 4369
    dist_port: int = 25672

    @property
    def node_name(self) -> str:
        return f"dlt-consortium@{self.address}"


# ---------------------------------------------------------------------------------------------
# The broker.


class PrivateBroker:
    """One RabbitMQ node of our own, configured for mutual TLS and EXTERNAL auth only."""

    def __init__(
        self,
        home: Path,
        amqps_port: int,
        dist_port: int | None,
        node_name: str | None,
        ca_pem: bytes,
        server_cert_pem: bytes,
        server_key_pem: bytes,
        *,
        vhost: str = DEFAULT_VHOST,
        startup_timeout: float = 60.0,
        host: str = "127.0.0.1",
        cluster: ClusterMember | None = None,
    ) -> None:
        """`server_cert_pem` is the broker's TLS certificate chain, leaf first; `ca_pem` the
        CA certificates that clients' chains must lead to. `dist_port` None picks a free port
        (in 20000..29999, so the CLI's port range, dist_port + 10000, stays valid); the private
        epmd gets a free port in 12000..12999. Both stay fixed across restarts."""
        self.home = Path(home).resolve()
        self.amqps_port = amqps_port
        self.cluster = cluster
        self._auto_dist_port = dist_port is None and cluster is None
        if cluster is not None:
            dist_port, node_name = cluster.dist_port, node_name or cluster.node_name
        self.dist_port = dist_port if dist_port is not None else free_port(20000, 30000)
        self.epmd_port = cluster.epmd_port if cluster else free_port(12000, 13000)
        name = node_name or default_node_name(self.home)
        self.node_name = name if "@" in name else f"{name}@localhost"
        self.vhost = vhost
        self.host = host
        self.startup_timeout = startup_timeout
        self._ca_pem = ca_pem
        self._server_cert_pem = server_cert_pem
        self._server_key_pem = server_key_pem
        self._scripts: Path | None = None
        self._server: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- paths ----------------------------------------------------------------------------

    @property
    def short_name(self) -> str:
        return self.node_name.partition("@")[0]

    @property
    def config_file(self) -> Path:
        return self.home / "rabbitmq.conf"

    @property
    def enabled_plugins_file(self) -> Path:
        return self.home / "enabled_plugins"

    @property
    def pid_file(self) -> Path:
        return self.home / f"{self.short_name}.pid"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.short_name}.log"

    @property
    def startup_log(self) -> Path:
        return self.log_dir / "startup.log"

    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    def url(self, vhost: str | None = None) -> str:
        """The amqps URL a node connects to (EXTERNAL auth is requested in the query)."""
        path = quote(vhost or self.vhost, safe="")
        return f"amqps://{self.host}:{self.amqps_port}/{path}?auth=external"

    # -- files ----------------------------------------------------------------------------

    def render_config(self) -> str:
        """The rabbitmq.conf this broker runs with."""
        tls = self.tls_dir
        return "\n".join(
            [
                f"# Generated by deploy/rabbitmq.py; TLS only on {self.host}, EXTERNAL auth only.",
                "listeners.tcp = none",
                f"listeners.ssl.default = {self.host}:{self.amqps_port}",
                f"ssl_options.cacertfile = {tls / 'ca.pem'}",
                f"ssl_options.certfile = {tls / 'server.pem'}",
                f"ssl_options.keyfile = {tls / 'server.key'}",
                "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true",
                # leaf <- node CA <- doorman CA <- root: exactly two intermediates, so no other
                # CA stands between a client and its node CA (OTP does not count self-issued
                # ones, which the node CA's name constraints still bind).
                "ssl_options.depth = 2",
                "ssl_options.versions.1 = tlsv1.3",
                "ssl_options.versions.2 = tlsv1.2",
                "auth_mechanisms.1 = EXTERNAL",
                # The user is the whole subject, which name constraints bind to the approved
                # name; a common name alone is a field any certificate may carry.
                "ssl_cert_login_from = distinguished_name",
                # No one gets anything by default; the `guest` user is deleted after first boot.
                "default_permissions.configure = ^$",
                "default_permissions.write = ^$",
                "default_permissions.read = ^$",
                f"default_vhost = {self.vhost}",
                f"distribution.listener.interface = {self._dist_address}",
                "log.console = false",
                f"log.file = {self.log_file}",
                "log.file.level = info",
                "",
            ]
        )

    def _write_files(self) -> None:
        for directory in (self.home, self.log_dir, self.tls_dir, self.home / "conf.d"):
            directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        cookie = self.home / ".erlang.cookie"
        if self.cluster is not None:
            if cookie.exists():
                os.chmod(cookie, 0o600)
            cookie.write_text(self.cluster.cookie)
        elif not cookie.exists():
            cookie.write_text(secrets.token_hex(20).upper())
        os.chmod(cookie, 0o400)
        (self.tls_dir / "ca.pem").write_bytes(self._ca_pem)
        (self.tls_dir / "server.pem").write_bytes(self._server_cert_pem)
        key = self.tls_dir / "server.key"
        key.touch(mode=0o600)
        os.chmod(key, 0o600)
        key.write_bytes(self._server_key_pem)
        self.config_file.write_text(self.render_config())
        self.enabled_plugins_file.write_text(f"[{REQUIRED_PLUGIN}].\n")
        (self.home / "rabbitmq-env.conf").write_text(
            "# Intentionally empty: every setting comes from the environment deploy/rabbitmq.py"
            " passes, so /etc/rabbitmq/rabbitmq-env.conf is never read.\n"
        )

    def environment(self) -> dict[str, str]:
        """The environment rabbitmq-server and rabbitmqctl run with for this node."""
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_", "ERLANG"))
        }
        home = self.home
        env.update(
            {
                # The Erlang cookie is read from $HOME/.erlang.cookie, so HOME is ours.
                "HOME": str(home),
                "RABBITMQ_NODENAME": self.node_name,
                "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
                "RABBITMQ_CONFIG_FILE": str(self.config_file),
                "RABBITMQ_CONFIG_FILES": str(home / "conf.d"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(home / "advanced.config"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.enabled_plugins_file),
                "RABBITMQ_PLUGINS_EXPAND_DIR": str(home / "plugins-expand"),
                "RABBITMQ_MNESIA_BASE": str(home / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.log_dir),
                "RABBITMQ_LOGS": str(self.log_file),
                "RABBITMQ_PID_FILE": str(self.pid_file),
                "RABBITMQ_MOTD_FILE": str(home / "motd"),
                "RABBITMQ_DIST_PORT": str(self.dist_port),
                # Erlang distribution (for rabbitmqctl) listens on loopback only, or on the
                # host's address for a cluster member.
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": (
                    f"-kernel inet_dist_use_interface {{{self._dist_address.replace('.', ',')}}}"
                ),
                "ERL_EPMD_PORT": str(self.epmd_port),
                "ERL_EPMD_ADDRESS": self._epmd_addresses,
            }
        )
        if self.cluster is not None:
            env["RABBITMQ_USE_LONGNAME"] = "true"
        return env

    @property
    def _dist_address(self) -> str:
        return self.cluster.address if self.cluster is not None else "127.0.0.1"

    @property
    def _epmd_addresses(self) -> str:
        if self.cluster is None:
            return "127.0.0.1"
        return f"127.0.0.1,{self.cluster.address}"

    # -- lifecycle ------------------------------------------------------------------------

    def is_running(self) -> bool:
        """Whether the broker process this object started is still alive."""
        return self._server is not None and self._server.poll() is None

    def start(self) -> None:
        """Start the node and return once it accepts TLS connections; provisioning may follow."""
        if self.is_running():
            raise BrokerError(f"broker {self.node_name} is already running")
        self.stop()  # leftovers of a node that died on its own: its epmd, its watchdog
        self._scripts = ensure_rabbitmq_installed()
        self._refuse_stale_node()
        if _port_open(self.host, self.amqps_port):
            raise BrokerError(
                f"{self.host}:{self.amqps_port} is already in use by another process; "
                "give the broker a free amqps_port"
            )
        # Ports we picked ourselves may have been taken since (e.g. between stop and start).
        if self.cluster is None and _port_open("127.0.0.1", self.epmd_port):
            self.epmd_port = free_port(12000, 13000)
        if self._auto_dist_port and _port_open("127.0.0.1", self.dist_port):
            self.dist_port = free_port(20000, 30000)
        self._write_files()
        env = self.environment()
        try:
            self._start_epmd(env)
            self.startup_log.parent.mkdir(parents=True, exist_ok=True)
            with self.startup_log.open("ab") as out:
                self._server = subprocess.Popen(
                    [str(self._scripts / "rabbitmq-server")],
                    cwd=self.home,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            # Safety nets: stop() at interpreter exit, and a watchdog if this process dies.
            atexit.register(self.stop)
            self._start_watchdog(env)
            self._await_startup()
            self._remove_default_user()
        except BaseException:
            self.stop()
            raise

    def _start_watchdog(self, env: Mapping[str, str]) -> None:
        assert self._server is not None and self._epmd is not None and self._scripts is not None
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WATCHDOG,
                str(os.getpid()),
                str(self._server.pid),
                str(self._epmd.pid),
                str(self._scripts / "rabbitmqctl"),
                self.node_name,
                str(self.pid_file),
            ],
            cwd=self.home,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _refuse_stale_node(self) -> None:
        """A node from an earlier run in this home (whose owner died without stopping it) would
        hold the ports and the database; name it rather than fail obscurely."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        raise BrokerError(
            f"a RabbitMQ node from an earlier run still runs in {self.home} (PID {pid}, "
            f"file {self.pid_file}); stop it first, e.g. with HOME={self.home} "
            f"ERL_EPMD_PORT=<its epmd port> rabbitmqctl -n {self.node_name} stop {self.pid_file}, "
            f"or kill {pid}"
        )

    def _start_epmd(self, env: Mapping[str, str]) -> None:
        epmd = _find_epmd()
        if epmd is None:
            raise RabbitMQNotInstalledError(f"epmd (Erlang) is not installed; run: {INSTALL_HINT}")
        with (self.log_dir / "epmd.log").open("ab") as out:
            self._epmd = subprocess.Popen(
                [str(epmd), "-port", str(self.epmd_port), "-address", self._epmd_addresses],
                cwd=self.home,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not _port_open("127.0.0.1", self.epmd_port) or self._epmd.poll() is not None:
            if self._epmd.poll() is not None or time.monotonic() > deadline:
                raise BrokerError(
                    f"epmd did not start on port {self.epmd_port}: "
                    f"{_tail_file(self.log_dir / 'epmd.log', 10)}"
                )
            time.sleep(0.05)

    def _await_startup(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error = ""
        while True:
            server = self._server
            assert server is not None
            if server.poll() is not None:
                raise BrokerError(
                    f"rabbitmq-server for {self.node_name} exited with code {server.returncode} "
                    f"during start-up.\n{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerError(
                    f"broker {self.node_name} did not start within {self.startup_timeout:.0f} s "
                    f"(last check: {last_error}).\n{self.log_tail()}"
                )
            wait = max(1, min(10, int(remaining)))
            try:
                result = self._ctl(
                    "await_startup", "--timeout", str(wait), check=False, timeout=wait + 15
                )
            except BrokerError as exc:  # the CLI itself timed out: a busy machine; ask again
                last_error = str(exc)
                continue
            if result.returncode == 0:
                break
            last_error = _tail_text(result.stderr or result.stdout, 3)
            time.sleep(0.2)
        # Booted; but a listener that failed to bind (port taken meanwhile) does not stop the
        # node, so ask the node itself whether it listens on our port.
        listener = self._ctl(
            "check_port_listener", str(self.amqps_port), check=False, tool="rabbitmq-diagnostics"
        )
        if listener.returncode != 0:
            raise BrokerError(
                f"broker {self.node_name} started but has no TLS listener on "
                f"{self.host}:{self.amqps_port}: "
                f"{_tail_text(listener.stderr or listener.stdout, 3)}\n{self.log_tail()}"
            )

    def _remove_default_user(self) -> None:
        marker = self.home / ".guest-removed"
        if marker.exists():
            return
        result = self._ctl("delete_user", "guest", check=False)
        if result.returncode != 0 and "no_such_user" not in (result.stderr + result.stdout):
            raise BrokerError(f"cannot delete the default user: {result.stderr.strip()}")
        marker.touch()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop exactly the processes start() spawned: the watchdog, the node (via its PID
        file, then its process group if it lingers), then epmd. Safe to call more than once."""
        atexit.unregister(self.stop)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            _terminate(watchdog, grace=0)
        server, self._server = self._server, None
        if server is not None and server.poll() is None:
            if self.pid_file.exists() and self._scripts is not None:
                result = self._ctl(
                    "stop", str(self.pid_file), check=False, timeout=timeout, quiet=True
                )
                if result.returncode != 0:
                    log.warning(
                        "rabbitmqctl stop %s failed: %s", self.node_name, result.stderr.strip()
                    )
            _terminate(server, grace=min(timeout, 30))
        epmd, self._epmd = self._epmd, None
        if epmd is not None:
            _terminate(epmd, grace=0)

    def __enter__(self) -> PrivateBroker:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- rabbitmqctl ----------------------------------------------------------------------

    def _ctl(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 60.0,
        quiet: bool = False,
        tool: str = "rabbitmqctl",
    ) -> subprocess.CompletedProcess[str]:
        if self._scripts is None:
            self._scripts = ensure_rabbitmq_installed()
        command = [str(self._scripts / tool), "-n", self.node_name]
        if quiet:
            command.append("-q")
        command.extend(args)
        try:
            result = subprocess.run(
                command,
                cwd=self.home,
                env=self.environment(),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BrokerError(f"`{tool} {' '.join(args)}` timed out after {timeout} s") from exc
        if check and result.returncode != 0:
            raise BrokerError(
                f"`{tool} {' '.join(args)}` failed ({result.returncode}): "
                f"{_tail_text(result.stderr or result.stdout, 10)}"
            )
        return result

    def rabbitmqctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run rabbitmqctl against this node and return its output; raises BrokerError."""
        return self._ctl(*args, timeout=timeout).stdout

    # -- provisioning ---------------------------------------------------------------------

    def provision(
        self, nodes: Mapping[str, str], *, declare_inboxes: bool = True, quorum: bool = False
    ) -> None:
        """Create (or update) one password-less user per node, each allowed only its own inbox,
        in one definitions import; `nodes` maps `broker_user_name(legal name)` -> inbox queue."""
        users, permissions, queues = [], [], []
        for user, queue in nodes.items():
            _check_user(user)
            rules = node_permissions(queue)
            users.append(
                {
                    "name": user,
                    # Empty hash: no password can ever match, so only EXTERNAL logs it in.
                    "password_hash": "",
                    "hashing_algorithm": "rabbit_password_hashing_sha256",
                    "tags": [],
                }
            )
            permissions.append(
                {
                    "user": user,
                    "vhost": self.vhost,
                    "configure": rules.configure,
                    "write": rules.write,
                    "read": rules.read,
                }
            )
            if declare_inboxes:
                queues.append(_queue_definition(queue, self.vhost, quorum=quorum))
        self._import({"users": users, "permissions": permissions, "queues": queues})

    def provision_peers(self, users: list[str]) -> None:
        """Create (or update) one password-less user per node of other organisations, allowed
        only to publish (see `peer_permissions`), in one definitions import."""
        rules = peer_permissions()
        self._import(
            {
                "users": [
                    {
                        "name": _check_user(user),
                        "password_hash": "",
                        "hashing_algorithm": "rabbit_password_hashing_sha256",
                        "tags": [],
                    }
                    for user in users
                ],
                "permissions": [
                    {
                        "user": user,
                        "vhost": self.vhost,
                        "configure": rules.configure,
                        "write": rules.write,
                        "read": rules.read,
                    }
                    for user in users
                ],
            }
        )

    def add_node_user(self, user: str, inbox_queue: str, *, declare_inbox: bool = True) -> None:
        """One node's user and permissions (see `node_permissions`), and its inbox declared, so
        messages sent before the node first connects are kept."""
        self.provision({user: inbox_queue}, declare_inboxes=declare_inbox)

    def declare_inbox(self, queue: str) -> None:
        """Declare a durable inbox queue (idempotent; the arguments AmqpTransport declares)."""
        self._import({"queues": [_queue_definition(_check_name("queue name", queue), self.vhost)]})

    def join_cluster(self, seed: str) -> None:
        """Make this (running) node a member of the cluster that node `seed` belongs to."""
        if self.cluster is None:
            raise BrokerError(f"{self.node_name} was not started as a cluster member")
        self._ctl("stop_app")
        self._ctl("join_cluster", seed, timeout=120)
        self._ctl("start_app", timeout=120)

    def running_members(self) -> list[str]:
        """The cluster's members that are running, as this node sees them."""
        out = self._ctl("cluster_status", "--formatter", "json", quiet=True).stdout
        return sorted(json.loads(out or "{}").get("running_nodes", []))

    def delete_node_user(self, user: str) -> None:
        self._ctl("delete_user", _check_user(user))

    def revoke_user(self, user: str, reason: str) -> None:
        """Shut a revoked node out: delete its user, so EXTERNAL login finds no one to log in
        as, then close the connections it has open, which deleting the user leaves alone.
        Running it again is harmless."""
        _check_user(user)
        if user in self.list_users():
            self._ctl("delete_user", user)
        self._ctl("close_all_user_connections", user, f"revoked: {reason}")

    def connected_users(self) -> list[str]:
        """The user of every open client connection (one entry per connection)."""
        out = self._ctl("list_connections", "user", "--formatter", "json", quiet=True).stdout
        return [row["user"] for row in json.loads(out or "[]")]

    def _import(self, definitions: Mapping[str, object]) -> None:
        document = {"vhosts": [{"name": self.vhost}], **definitions}
        path = self.home / f"definitions-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(document))
        try:
            self._ctl("import_definitions", str(path))
        finally:
            path.unlink(missing_ok=True)

    # -- inspection -----------------------------------------------------------------------

    def list_permissions(self) -> dict[str, Permissions]:
        """User -> permissions on this broker's vhost."""
        out = self._ctl(
            "list_permissions", "-p", self.vhost, "--formatter", "json", quiet=True
        ).stdout
        return {
            row["user"]: Permissions(row["configure"], row["write"], row["read"])
            for row in json.loads(out or "[]")
        }

    def list_users(self) -> list[str]:
        out = self._ctl("list_users", "--formatter", "json", quiet=True).stdout
        return [row["user"] for row in json.loads(out or "[]")]

    def queue_depths(self) -> dict[str, int]:
        """Queue -> messages (ready + unacknowledged) on this broker's vhost."""
        out = self._ctl(
            "list_queues", "-p", self.vhost, "name", "messages", "--formatter", "json", quiet=True
        ).stdout
        return {row["name"]: int(row["messages"]) for row in json.loads(out or "[]")}

    def queue_types(self) -> dict[str, str]:
        """Queue -> type (classic, quorum) on this broker's vhost."""
        out = self._ctl(
            "list_queues", "-p", self.vhost, "name", "type", "--formatter", "json", quiet=True
        ).stdout
        return {row["name"]: str(row["type"]) for row in json.loads(out or "[]")}

    def log_tail(self, lines: int = 40) -> str:
        parts = []
        for path in (self.startup_log, self.log_file):
            parts.append(f"--- {path} (last {lines} lines) ---\n{_tail_file(path, lines)}")
        return "\n".join(parts)


def _queue_definition(queue: str, vhost: str, *, quorum: bool = False) -> dict[str, object]:
    """A durable queue; a quorum queue (replicated over a cluster's members) when `quorum`."""
    arguments = {"x-queue-type": "quorum"} if quorum else {}
    return {
        "name": queue,
        "vhost": vhost,
        "durable": True,
        "auto_delete": False,
        "arguments": arguments,
    }


# ---------------------------------------------------------------------------------------------
# Helpers.


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _terminate(process: subprocess.Popen[bytes], *, grace: float) -> None:
    """End a process we spawned (in its own session): let it exit for `grace` seconds, then
    SIGTERM it, then SIGKILL its process group (which holds only what it spawned)."""
    if grace > 0:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    if process.poll() is not None:
        return
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=15)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        # start_new_session made the child its process group leader: the group is ours alone.
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _tail_file(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no file)"
    return _tail_text(text, lines) or "(empty)"


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])

"""Starting and stopping one broker node: its private epmd, `rabbitmq-server`, and a watchdog
that stops them if the Python process that started them dies.

Nothing here stops a process it did not start: `stop()` uses `rabbitmqctl stop <pidfile>` for the
node it started, then the PIDs (and process group) of the processes it spawned.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from deploy.rabbitmq.config import BrokerConfig
from deploy.rabbitmq.ctl import Rabbitmqctl
from deploy.rabbitmq.errors import BrokerError, RabbitMQNotInstalledError
from deploy.rabbitmq.install import INSTALL_HINT, ensure_rabbitmq_installed, find_epmd
from deploy.rabbitmq.logs import tail_file, tail_text
from deploy.rabbitmq.ports import port_open

log = logging.getLogger(__name__)

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


class BrokerProcess:
    """The processes of the node `config` describes, as this object spawned them."""

    def __init__(self, config: BrokerConfig, ctl: Rabbitmqctl) -> None:
        self.config = config
        self._ctl = ctl
        self._server: subprocess.Popen[bytes] | None = None
        self._epmd: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    def is_running(self) -> bool:
        """Whether the broker process this object started is still alive."""
        return self._server is not None and self._server.poll() is None

    def start(self) -> None:
        """Start the node and return once it accepts TLS connections; provisioning may follow."""
        config = self.config
        if self.is_running():
            raise BrokerError(f"broker {config.node_name} is already running")
        self.stop()  # leftovers of a node that died on its own: its epmd, its watchdog
        self._ctl.scripts = scripts = ensure_rabbitmq_installed()
        self._refuse_stale_node()
        if port_open(config.host, config.amqps_port):
            raise BrokerError(
                f"{config.host}:{config.amqps_port} is already in use by another process; "
                "give the broker a free amqps_port"
            )
        config.repick_taken_ports()
        config.write_files()
        env = config.environment()
        try:
            self._start_epmd(env)
            config.startup_log.parent.mkdir(parents=True, exist_ok=True)
            with config.startup_log.open("ab") as out:
                self._server = subprocess.Popen(
                    [str(scripts / "rabbitmq-server")],
                    cwd=config.home,
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
        scripts = self._ctl.scripts
        assert self._server is not None and self._epmd is not None and scripts is not None
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WATCHDOG,
                str(os.getpid()),
                str(self._server.pid),
                str(self._epmd.pid),
                str(scripts / "rabbitmqctl"),
                self.config.node_name,
                str(self.config.pid_file),
            ],
            cwd=self.config.home,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _refuse_stale_node(self) -> None:
        """A node from an earlier run in this home (whose owner died without stopping it) would
        hold the ports and the database; name it rather than fail obscurely."""
        config = self.config
        try:
            pid = int(config.pid_file.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        raise BrokerError(
            f"a RabbitMQ node from an earlier run still runs in {config.home} (PID {pid}, "
            f"file {config.pid_file}); stop it first, e.g. with HOME={config.home} "
            f"ERL_EPMD_PORT=<its epmd port> rabbitmqctl -n {config.node_name} stop "
            f"{config.pid_file}, or kill {pid}"
        )

    def _start_epmd(self, env: Mapping[str, str]) -> None:
        config = self.config
        epmd = find_epmd()
        if epmd is None:
            raise RabbitMQNotInstalledError(f"epmd (Erlang) is not installed; run: {INSTALL_HINT}")
        with (config.log_dir / "epmd.log").open("ab") as out:
            self._epmd = subprocess.Popen(
                [str(epmd), "-port", str(config.epmd_port), "-address", config.epmd_addresses],
                cwd=config.home,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", config.epmd_port) or self._epmd.poll() is not None:
            if self._epmd.poll() is not None or time.monotonic() > deadline:
                raise BrokerError(
                    f"epmd did not start on port {config.epmd_port}: "
                    f"{tail_file(config.log_dir / 'epmd.log', 10)}"
                )
            time.sleep(0.05)

    def _await_startup(self) -> None:
        config = self.config
        deadline = time.monotonic() + config.startup_timeout
        last_error = ""
        while True:
            server = self._server
            assert server is not None
            if server.poll() is not None:
                raise BrokerError(
                    f"rabbitmq-server for {config.node_name} exited with code "
                    f"{server.returncode} during start-up.\n{self.log_tail()}"
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrokerError(
                    f"broker {config.node_name} did not start within "
                    f"{config.startup_timeout:.0f} s (last check: {last_error}).\n"
                    f"{self.log_tail()}"
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
            last_error = tail_text(result.stderr or result.stdout, 3)
            time.sleep(0.2)
        # Booted; but a listener that failed to bind (port taken meanwhile) does not stop the
        # node, so ask the node itself whether it listens on our port.
        listener = self._ctl(
            "check_port_listener", str(config.amqps_port), check=False, tool="rabbitmq-diagnostics"
        )
        if listener.returncode != 0:
            raise BrokerError(
                f"broker {config.node_name} started but has no TLS listener on "
                f"{config.host}:{config.amqps_port}: "
                f"{tail_text(listener.stderr or listener.stdout, 3)}\n{self.log_tail()}"
            )

    def _remove_default_user(self) -> None:
        marker = self.config.home / ".guest-removed"
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
            if self.config.pid_file.exists() and self._ctl.scripts is not None:
                result = self._ctl(
                    "stop", str(self.config.pid_file), check=False, timeout=timeout, quiet=True
                )
                if result.returncode != 0:
                    log.warning(
                        "rabbitmqctl stop %s failed: %s",
                        self.config.node_name,
                        result.stderr.strip(),
                    )
            _terminate(server, grace=min(timeout, 30))
        epmd, self._epmd = self._epmd, None
        if epmd is not None:
            _terminate(epmd, grace=0)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the node's start-up and main logs, for an error the user can act on."""
        parts = []
        for path in (self.config.startup_log, self.config.log_file):
            parts.append(f"--- {path} (last {lines} lines) ---\n{tail_file(path, lines)}")
        return "\n".join(parts)


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

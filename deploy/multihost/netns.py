"""Test hosts on one machine: Linux network namespaces, each with its own address.

`TestHosts` makes one namespace per host name and starts the WAN between them
(`deploy.multihost.wan`): a TUN device `eth0` in each namespace with address 10.213.<y>.<10+i>,
all forwarded by one process that adds the configured delay and drops a cut host's packets.
The test driver (the root namespace) gets 10.213.<y>.1 on a TUN of its own, so it reaches every
host. The namespaces have no default route: their traffic reaches each other, the driver and
their own loopback, nothing else. `delay()` sets a host's one-way latency and jitter, `cut()`
and `heal()` take its cable out and put it back.

Every name carries a random run id, so sessions side by side never meet; `close()` stops the
processes `spawn()` started, then whatever still runs in *our* namespaces (the PIDs `ip netns
pids` lists for them), the WAN, and deletes the namespaces; it runs also after a failure half-way
through `open()`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WAN_START_TIMEOUT = 30.0


class NetnsError(RuntimeError):
    """The test hosts could not be made, changed or removed; the message says why."""


class NetnsUnavailableError(NetnsError):
    """This process may not make network namespaces (not root, or no `ip`/`tc`)."""


def unavailable_reason() -> str | None:
    """Why test hosts cannot be made here, in one line; None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (run the multi-host tests as root)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (apt-get install iproute2)"
    probe = f"dltprobe{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


@dataclass(frozen=True)
class Host:
    """One test host: its name, its namespace and its address."""

    name: str
    namespace: str
    address: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]


@dataclass
class TestHosts:
    """A set of namespaces joined by the WAN; use as a context manager, or open() / close()."""

    names: Sequence[str]
    run_id: str = field(default_factory=lambda: secrets.token_hex(2))
    hosts: dict[str, Host] = field(default_factory=dict)
    subnet: ipaddress.IPv4Network | None = None
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _made: list[str] = field(default_factory=list)
    _wan: subprocess.Popen[bytes] | None = None
    _work: Path | None = None

    __test__ = False  # not a pytest test class, despite the name

    @property
    def gateway(self) -> str:
        """The driver's address (the root namespace)."""
        assert self.subnet is not None
        return str(self.subnet.network_address + 1)

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __enter__(self) -> TestHosts:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- making and removing ------------------------------------------------------------------

    def open(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise NetnsUnavailableError(reason)
        if len(set(self.names)) != len(self.names) or not 1 <= len(self.names) <= 200:
            raise NetnsError(f"host names must be 1..200 distinct names, got {list(self.names)}")
        try:
            self.subnet = _free_subnet()
            for index, name in enumerate(self.names):
                namespace = f"dlt{self.run_id}-{name}"
                _ip("netns", "add", namespace)
                self._made.append(namespace)
                address = str(self.subnet.network_address + 10 + index)
                self.hosts[name] = Host(name, namespace, address)
            self._start_wan()
        except BaseException:
            self.close()
            raise

    def _start_wan(self) -> None:
        self._work = Path(tempfile.mkdtemp(prefix=f"dlt-wan-{self.run_id}-"))
        ready = self._work / "ready"
        argv = [sys.executable, "-m", "deploy.multihost.wan", "--run-id", self.run_id]
        argv += ["--driver-address", self.gateway, "--control", str(self.control_socket)]
        argv += ["--ready", str(ready)]
        for host in self.hosts.values():
            argv += ["--host", f"{host.name}={host.namespace}={host.address}"]
        log = self._work / "wan.log"
        with log.open("ab") as out:
            self._wan = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=Path(__file__).resolve().parents[2],
            )
        deadline = time.monotonic() + WAN_START_TIMEOUT
        while not ready.exists():
            if self._wan.poll() is not None or time.monotonic() > deadline:
                raise NetnsError(f"the WAN did not start: {log.read_text(errors='replace')}")
            time.sleep(0.05)

    @property
    def control_socket(self) -> Path:
        assert self._work is not None
        return self._work / "control.sock"

    def close(self) -> None:
        """Stop what runs in our namespaces, the WAN, and delete the namespaces; safe to repeat,
        and the removal happens even if the graceful stop is interrupted."""
        try:
            _end_all(list(reversed(self._processes)))
        finally:
            self._processes.clear()
            self._remove()

    def _remove(self) -> None:
        for namespace in self._made:
            for pid in _pids_in(namespace):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self._wan is not None:
            _end_all([self._wan], grace=5)
            self._wan = None
        for namespace in reversed(self._made):
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True)
        self._made.clear()
        self.hosts.clear()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)
            self._work = None

    # -- running things on a host -------------------------------------------------------------

    def run(
        self, host: str, argv: Sequence[str], *, timeout: float = 60.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command to completion on `host`."""
        return _run(self[host].command(argv), timeout=timeout, check=check)

    def spawn(
        self,
        host: str,
        argv: Sequence[str],
        log: Path,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process on `host` (in its own session), output to `log`;
        `close()` stops it."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                self[host].command(argv),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )
        self._processes.append(process)
        return process

    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The processes `spawn()` started that `close()` will stop."""
        return list(self._processes)

    def forget(self, process: subprocess.Popen[bytes]) -> None:
        """Stop counting a process that was stopped on purpose (its host restarts it)."""
        with contextlib.suppress(ValueError):
            self._processes.remove(process)

    # -- the network between them -------------------------------------------------------------

    def _control(self, request: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(self.control_socket))
            sock.sendall(request.encode() + b"\n")
            answer = sock.makefile().readline().strip()
        if answer.startswith("error"):
            raise NetnsError(f"the WAN refused {request!r}: {answer}")
        return answer

    def delay(self, host: str, delay_ms: float, jitter_ms: float = 0.0) -> None:
        """Delay every packet `host` sends by `delay_ms` ± `jitter_ms` (normal jitter)."""
        self._control(f"delay {self[host].name} {delay_ms} {jitter_ms}")

    def delay_all(self, delay_ms: float, jitter_ms: float = 0.0) -> None:
        for name in self.hosts:
            self.delay(name, delay_ms, jitter_ms)

    def cut(self, host: str) -> None:
        """Unplug `host`: nothing reaches it or leaves it but through its own loopback."""
        self._control(f"cut {self[host].name}")

    def heal(self, host: str) -> None:
        self._control(f"heal {self[host].name}")

    @contextlib.contextmanager
    def partitioned(self, host: str) -> Iterator[None]:
        """`host` cut off for the duration of the block, and healed however it ends."""
        self.cut(host)
        try:
            yield
        finally:
            self.heal(host)

    def round_trips_ms(
        self, source: str, address: str, count: int = 5, timeout_s: float = 1.0
    ) -> list[float]:
        """TCP handshake round trips from `source` to `address` (a refused connection answers
        as fast as an accepted one), in ms; empty when nothing answered within `timeout_s`."""
        script = (
            "import socket, sys, time\n"
            "for _ in range(int(sys.argv[2])):\n"
            "    began = time.perf_counter()\n"
            "    try:\n"
            "        socket.create_connection((sys.argv[1], 9), timeout=float(sys.argv[3]))\n"
            "    except ConnectionRefusedError:\n"
            "        print((time.perf_counter() - began) * 1000)\n"
            "    except OSError:\n"
            "        pass\n"
        )
        result = self.run(
            source, [sys.executable, "-c", script, address, str(count), str(timeout_s)]
        )
        return [float(line) for line in result.stdout.split()]

    def reachable(self, source: str, address: str, timeout_s: float = 1.0) -> bool:
        return bool(self.round_trips_ms(source, address, count=1, timeout_s=timeout_s))


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.213.y.0/24 that no interface or route on this machine uses yet."""
    used = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True
    )
    taken = used.stdout
    for _ in range(100):
        candidate = ipaddress.IPv4Network(f"10.213.{secrets.randbelow(250) + 1}.0/24")
        if str(candidate.network_address)[: -len(".0")] + "." not in taken:
            return candidate
    raise NetnsError("no free 10.213.y.0/24 subnet for the test hosts")


def _pids_in(namespace: str) -> list[int]:
    result = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    return [int(pid) for pid in result.stdout.split() if pid.isdigit()]


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _run(
    argv: Sequence[str], *, timeout: float = 60.0, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise NetnsError(
            f"`{' '.join(argv)}` failed ({result.returncode}): {result.stderr.strip()}"
        )
    return result


def _end_all(processes: Sequence[subprocess.Popen[bytes]], grace: float = 20.0) -> None:
    """SIGTERM processes we spawned (each in its own session) in order, then SIGKILL the groups
    of those still running after `grace` seconds."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.1)
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

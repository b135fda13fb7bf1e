"""Finding (and, if allowed, installing) RabbitMQ and Erlang's epmd on this machine."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from deploy.rabbitmq.errors import RabbitMQNotInstalledError
from deploy.rabbitmq.logs import tail_text

log = logging.getLogger(__name__)

INSTALL_HINT = "sudo apt-get install -y rabbitmq-server  (or: sudo bash deploy/ensure-rabbitmq.sh)"
REQUIRED_PLUGIN = "rabbitmq_auth_mechanism_ssl"

_SCRIPT_CANDIDATES = (
    "/usr/lib/rabbitmq/bin/rabbitmq-server",
    "/usr/sbin/rabbitmq-server",
    "/usr/local/sbin/rabbitmq-server",
    "/opt/homebrew/sbin/rabbitmq-server",
)
_EPMD_CANDIDATES = ("/usr/bin/epmd", "/usr/local/bin/epmd")


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


def find_epmd() -> Path | None:
    """Erlang's port mapper daemon, which each private broker runs on a port of its own."""
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
                f"{tail_text(result.stderr or result.stdout, 20)}; run: {INSTALL_HINT}"
            )
    scripts = find_rabbitmq_scripts()
    if scripts is None:
        raise RabbitMQNotInstalledError(
            f"apt-get installed rabbitmq-server but its scripts were not found; run: {INSTALL_HINT}"
        )
    _check_plugin(scripts)
    return scripts

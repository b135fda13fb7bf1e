"""Running RabbitMQ's command-line tools (rabbitmqctl, rabbitmq-diagnostics) against one node,
with its environment, so they reach our private node and never a system one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from deploy.rabbitmq.config import BrokerConfig
from deploy.rabbitmq.errors import BrokerError
from deploy.rabbitmq.install import ensure_rabbitmq_installed
from deploy.rabbitmq.logs import tail_text


class Rabbitmqctl:
    """The CLI tools for the node `config` describes; finds the scripts on first use."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.scripts: Path | None = None

    def __call__(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 60.0,
        quiet: bool = False,
        tool: str = "rabbitmqctl",
    ) -> subprocess.CompletedProcess[str]:
        """Run `tool -n <node> [-q] args`; raises BrokerError on a timeout, or on a non-zero
        exit when `check`."""
        if self.scripts is None:
            self.scripts = ensure_rabbitmq_installed()
        command = [str(self.scripts / tool), "-n", self.config.node_name]
        if quiet:
            command.append("-q")
        command.extend(args)
        try:
            result = subprocess.run(
                command,
                cwd=self.config.home,
                env=self.config.environment(),
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
                f"{tail_text(result.stderr or result.stdout, 10)}"
            )
        return result

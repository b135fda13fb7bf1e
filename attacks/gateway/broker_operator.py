"""The dishonest broker operator: a channel interceptor loaded into the running RabbitMQ.

RabbitMQ terminates every node's TLS, so its operator sees message bodies in the clear. This
adversary is real in the way an operator is: it runs `rabbitmqctl` with the broker's own
environment and Erlang cookie (read from the broker process, as root on the broker host could),
compiles `dlt_broker_mitm.erl` into the running node, registers it as a channel interceptor and
has every channel pick it up. Rules then pick publishes by recipient inbox and body content and
drop them (to a black-hole queue, so the sender's confirm still comes) or delay them.

What it cannot do: forge a message that opens under sealing, since it holds no node key (see
dlt/messaging/sealing.py); with sealing on its content rules never match.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from deploy.rabbitmq import find_rabbitmq_scripts

MODULE = Path(__file__).with_name("dlt_broker_mitm.erl")
HOLE = "dlt.mitm.dropped"
"""Where dropped publishes go: a queue that keeps nothing (x-max-length 0)."""


class BrokerOperatorError(Exception):
    """The interceptor could not be installed or driven; the message says which step."""


@dataclass(frozen=True)
class Rule:
    """Drop (delay_ms None) or delay publishes to `queue` from broker user `sender` (None:
    any, for either) whose body holds every one of `patterns` (none: by envelope alone)."""

    name: str
    queue: str | None
    patterns: tuple[bytes, ...] = ()
    sender: str | None = None
    delay_ms: int | None = None


def _binary(data: bytes) -> str:
    return "<<" + ",".join(str(b) for b in data) + ">>"


def _rule_term(rule: Rule) -> str:
    queue = "any" if rule.queue is None else _binary(rule.queue.encode())
    sender = "any" if rule.sender is None else _binary(rule.sender.encode())
    patterns = "[" + ",".join(_binary(p) for p in rule.patterns) + "]"
    action = "drop" if rule.delay_ms is None else f"{{delay,{int(rule.delay_ms)}}}"
    return f"{{{_binary(rule.name.encode())},{queue},{sender},{patterns},{action}}}"


class BrokerOperator:
    """Drives the interceptor in the broker of the local network under `home`."""

    def __init__(self, home: Path) -> None:
        self.broker_home = home / "broker"
        scripts = find_rabbitmq_scripts()
        if scripts is None:
            raise BrokerOperatorError("rabbitmqctl is not installed")
        self._ctl_path = scripts / "rabbitmqctl"
        self._env = self._broker_environment()
        self.node_name = self._env["RABBITMQ_NODENAME"]

    def _broker_environment(self) -> dict[str, str]:
        """The environment the broker runs with (node name, epmd port, cookie's HOME)."""
        pid_files = sorted(self.broker_home.glob("*.pid"))
        if not pid_files:
            raise BrokerOperatorError(f"no running broker under {self.broker_home}")
        pid = pid_files[0].read_text().strip()
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError as exc:
            raise BrokerOperatorError(f"cannot read broker process {pid}: {exc}") from exc
        theirs = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_", "ERLANG"))
        }
        env.update(
            {k: v for k, v in theirs.items() if k.startswith(("RABBITMQ_", "ERL_")) or k == "HOME"}
        )
        if "RABBITMQ_NODENAME" not in env:
            raise BrokerOperatorError(f"broker process {pid} has no RABBITMQ_NODENAME")
        return env

    def _ctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(self._ctl_path), "-n", self.node_name, "-q", *args],
            env=self._env,
            cwd=self.broker_home,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerOperatorError(
                f"rabbitmqctl {args[0]} failed: {(result.stderr or result.stdout).strip()[-500:]}"
            )
        return result.stdout.strip()

    def eval(self, expression: str) -> str:
        return self._ctl("eval", expression)

    def install(self) -> None:
        """Load the interceptor, its counters and the black hole; have all channels use it."""
        definitions = {
            "vhosts": [{"name": "/"}],
            "queues": [
                {
                    "name": HOLE,
                    "vhost": "/",
                    "durable": True,
                    "auto_delete": False,
                    "arguments": {"x-max-length": 0},
                }
            ],
        }
        path = self.broker_home / f"mitm-{secrets.token_hex(4)}.json"
        path.write_text(json.dumps(definitions))
        try:
            self._ctl("import_definitions", str(path))
        finally:
            path.unlink(missing_ok=True)
        source = str(MODULE).replace('"', '\\"')
        outcome = self.eval(
            f'{{ok, M, B}} = compile:file("{source}", [binary, return_errors]), '
            f'{{module, M}} = code:load_binary(M, "{source}", B), '
            "case ets:info(dlt_broker_mitm) of undefined -> "
            "  Self = self(), "
            "  spawn(fun() -> ets:new(dlt_broker_mitm, [named_table, public, set]), "
            "    Self ! ready, receive stop -> ok end end), "
            "  receive ready -> ok after 5000 -> timeout end; "
            "  _ -> ok end, "
            f"persistent_term:put(dlt_broker_mitm_hole, {_binary(HOLE.encode())}), "
            "persistent_term:put(dlt_broker_mitm_rules, []), "
            'rabbit_registry:register(channel_interceptor, <<"dlt-mitm">>, M), '
            "rabbit_channel:refresh_interceptors(), installed."
        )
        if "installed" not in outcome:
            raise BrokerOperatorError(f"installing the interceptor said: {outcome}")

    def set_rules(self, rules: list[Rule]) -> None:
        terms = "[" + ",".join(_rule_term(rule) for rule in rules) + "]"
        self.eval(f"persistent_term:put(dlt_broker_mitm_rules, {terms}), ok.")

    def counters(self) -> dict[str, int]:
        """`seen <queue>`, `size <queue> <bytes>` and `matched <rule>` counts since the last
        reset."""
        path = self.broker_home / f"mitm-counters-{secrets.token_hex(4)}.txt"
        self.eval(
            f'file:write_file("{path}", [io_lib:format("~s ~s ~b~n", [K, V, N]) '
            "|| {{K, V}, N} <- ets:tab2list(dlt_broker_mitm)]), ok."
        )
        try:
            text = path.read_text()
        finally:
            path.unlink(missing_ok=True)
        found: dict[str, int] = {}
        for line in text.splitlines():
            kind, *key, count = line.split(" ")
            found[f"{kind} {' '.join(key)}"] = int(count)
        return found

    def reset(self) -> None:
        self.eval("ets:delete_all_objects(dlt_broker_mitm), ok.")

    def uninstall(self) -> None:
        self.eval(
            "persistent_term:put(dlt_broker_mitm_rules, []), "
            'rabbit_registry:unregister(channel_interceptor, <<"dlt-mitm">>), '
            "rabbit_channel:refresh_interceptors(), ok."
        )

"""A node's configuration file: TOML or JSON, validated so a mistake is reported by name."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dlt.identity import Party, X500Name
from dlt.rpc.users import RpcUser


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid; the message says where."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MessagingConfig(_Section):
    broker_url: str = Field(pattern=r"^amqps://", description="amqps://host:port/vhost")
    declare_inbox: bool = True
    """False where the broker's operator declares the inbox (a consortium cluster's quorum
    queue); the node then only checks that it exists."""
    seal: bool = Field(
        default=True,
        description="Seal P2P payloads end to end to the recipient (the broker sees envelopes "
        "only); every node of a network must agree",
    )


class RpcConfig(_Section):
    address: str = Field(default="127.0.0.1:10003", pattern=r"^[^:]+:\d+$")
    users: tuple[RpcUser, ...] = ()


class MetricsConfig(_Section):
    address: str = Field(default="127.0.0.1:9100", pattern=r"^[^:]+:\d+$")


class NetworkMapConfig(_Section):
    url: str = Field(pattern=r"^https://")
    poll_seconds: float = Field(default=2.0, gt=0)


class NotaryConfig(_Section):
    validating: bool = False
    service: Party | None = None
    """For a replica of a cluster: the service identity (name and composite key)."""
    replica_of: X500Name | None = None
    """For a replica that joined through the doorman: the name of its notary service, whose
    identity and validating flag it learns at start from the network parameters (the cluster
    listing its own legal identity key)."""
    service_module: str = "notary.service"
    """Module whose `install_notary_service(node, validating=...)` makes this node a notary."""
    behaviour: str | None = None
    """For attack drills only: a faulty behaviour the service module installs (`notary.byzantine`
    takes a mode such as `equivocate` or `delay=2`), passed as `behaviour=`."""

    @model_validator(mode="after")
    def _one_source_of_the_service(self) -> Self:
        if self.service is not None and self.replica_of is not None:
            raise ValueError(
                "give notary.service or notary.replica_of, not both: a replica that names its "
                "service learns the service key from the network parameters"
            )
        return self


class NodeConfig(_Section):
    name: X500Name
    directory: Path
    """Where the node keeps certificates, keys, its database and logs."""
    database_url: str | None = None
    """SQLAlchemy URL; an SQLite file in `directory` when not given."""
    messaging: MessagingConfig
    rpc: RpcConfig = RpcConfig()
    metrics: MetricsConfig | None = None
    network_map: NetworkMapConfig
    notary: NotaryConfig | None = None
    cordapps: tuple[str, ...] = ()
    dev_mode: bool = True
    """Register with the doorman automatically on first start when certificates are missing."""

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.directory / 'node.db').resolve()}"

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        """Read `path` (.toml or .json); a relative `directory` is taken from the file's folder."""
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read node config {path}: {exc.strerror or exc}") from exc
        try:
            raw = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{path} is not valid {path.suffix.lstrip('.').upper()}: {exc}"
            ) from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"{path} must hold a table of settings")
        directory = Path(raw.get("directory", "."))
        raw["directory"] = directory if directory.is_absolute() else path.parent / directory
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
                for error in exc.errors()
            )
            raise ConfigError(f"invalid node config {path}: {problems}") from exc

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

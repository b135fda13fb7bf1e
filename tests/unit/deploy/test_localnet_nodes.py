"""What `localnet` writes into each node's configuration: extra CorDapps and databases."""

from __future__ import annotations

import json
import stat

import pytest
from pydantic import ValidationError

from deploy.localnet import CORDAPPS, Localnet, Shape, database_name


def _configs(localnet: Localnet) -> dict[str, dict]:
    return {
        member.slug: json.loads((localnet.node_dir(member) / "config.json").read_text())
        for member in localnet.members
    }


def test_every_node_installs_the_extra_cordapps_after_the_energy_cordapp(tmp_path):
    localnet = Localnet(tmp_path / "net")

    localnet.create(Shape(producers=1, consumers=1, cordapps=("cordapp_bench",)), print)

    for config in _configs(localnet).values():
        assert config["cordapps"] == [*CORDAPPS, "cordapp_bench"]


def test_each_node_gets_its_own_database_from_the_url_template(tmp_path):
    localnet = Localnet(tmp_path / "net")
    url = "postgresql+psycopg://u:secret@127.0.0.1:6543/{node}"

    localnet.create(Shape(producers=1, consumers=1, database_url=url), print)

    configs = _configs(localnet)
    for member in localnet.members:
        expected = f"postgresql+psycopg://u:secret@127.0.0.1:6543/{database_name(member)}"
        assert configs[member.slug]["database_url"] == expected
    assert len({c["database_url"] for c in configs.values()}) == len(configs)


def test_a_node_config_holding_a_database_password_is_readable_by_its_owner_only(tmp_path):
    localnet = Localnet(tmp_path / "net")
    url = "postgresql+psycopg://u:secret@127.0.0.1:6543/{node}"

    localnet.create(Shape(producers=1, consumers=1, database_url=url), print)

    for member in localnet.members:
        mode = (localnet.node_dir(member) / "config.json").stat().st_mode
        assert stat.S_IMODE(mode) == 0o600


def test_without_a_database_url_nodes_keep_sqlite_files(tmp_path):
    localnet = Localnet(tmp_path / "net")

    localnet.create(Shape(producers=1, consumers=1), print)

    assert all(c["database_url"] is None for c in _configs(localnet).values())


def test_a_database_url_without_the_node_placeholder_is_refused():
    with pytest.raises(ValidationError, match="node"):
        Shape(database_url="postgresql+psycopg://u:p@127.0.0.1:6543/shared")


def test_a_shape_holds_the_reference_community_of_12_prosumers_and_68_consumers():
    shape = Shape(producers=12, consumers=68)
    assert (shape.producers, shape.consumers) == (12, 68)
    with pytest.raises(ValidationError):
        Shape(consumers=101)

"""`dlt localnet up` hands its CorDapp and database options to the network it creates."""

from __future__ import annotations

import deploy.localnet as localnet
from dlt.cli.main import build_parser


def test_up_passes_extra_cordapps_and_the_database_url_to_the_network(monkeypatch, tmp_path):
    shapes = []
    monkeypatch.setattr(
        localnet.Localnet, "up", lambda self, shape, say, timeout: shapes.append(shape) or []
    )
    url = "postgresql+psycopg://u:p@127.0.0.1:6543/{node}"
    args = build_parser().parse_args(
        ["localnet", "up", "--home", str(tmp_path), "--cordapp", "cordapp_bench",
         "--database-url", url]
    )  # fmt: skip

    assert args.handler(args) == 0

    (shape,) = shapes
    assert shape.cordapps == ("cordapp_bench",)
    assert shape.database_url == url

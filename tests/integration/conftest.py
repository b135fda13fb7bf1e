from __future__ import annotations

import pytest

from dlt.testing.mock_network import MockNetwork


@pytest.fixture
async def network(tmp_path):
    net = MockNetwork(tmp_path, cordapps=["sample_cordapp"])
    yield net
    await net.stop()

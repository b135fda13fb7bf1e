"""A local network's listening ports stay free until its processes start."""

from __future__ import annotations

from deploy.localnet.listen_ports import LOW, ListenPorts, ephemeral_start


def test_ports_are_distinct_and_below_the_ephemeral_range() -> None:
    listen = ListenPorts(ephemeral=32_768)

    ports = [listen.take() for _ in range(400)]

    assert len(set(ports)) == 400
    assert all(LOW <= port < 32_768 for port in ports)


def test_without_room_below_the_ephemeral_range_the_kernel_picks_distinct_ports() -> None:
    listen = ListenPorts(ephemeral=30_500)

    ports = [listen.take() for _ in range(50)]

    assert len(set(ports)) == 50


def test_the_ephemeral_range_is_read_from_the_kernel(tmp_path) -> None:
    path = tmp_path / "ip_local_port_range"
    path.write_text("32768\t60999\n")

    assert ephemeral_start(path) == 32_768
    assert ephemeral_start(tmp_path / "missing") is None

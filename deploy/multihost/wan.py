"""`python -m deploy.multihost.wan`: the wide-area network between the test hosts, in userspace.

Each host's namespace gets a TUN device `eth0` holding its address; this process holds the other
end of every TUN and forwards each IPv4 packet to the TUN of its destination address, after the
delay configured for the sending host (normally distributed jitter, order kept per pair of
hosts, as a WAN link keeps it). A cut host's packets, in or out, are dropped. The driver (root
namespace) has a TUN of its own, at the subnet's first address, without delay.

This stands in for a bridge with `tc netem`: the kernels this project is tested on are not all
built with sch_netem (CONFIG_NET_SCH_NETEM), and a TUN device works on every Linux.

Control, one line per request on the Unix socket given by --control, answered "ok" or
"error: ...": `delay HOST MS JITTER_MS`, `cut HOST`, `heal HOST`, `stats`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import random
import signal
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_PACKET = 65_535
DRIVER = "driver"


@dataclass
class Link:
    """One host's end of the WAN: its TUN, its address and what its link is like now."""

    name: str
    address: bytes
    fd: int
    delay_s: float = 0.0
    jitter_s: float = 0.0
    cut: bool = False
    sent: int = 0
    dropped: int = 0
    last_delivery: dict[bytes, float] = field(default_factory=dict)


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed: {result.stderr.strip()}")


class Wan:
    def __init__(self, links: dict[str, Link]) -> None:
        self.links = links
        self.by_address = {link.address: link for link in links.values()}
        self.random = random.Random()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        for link in self.links.values():
            loop.add_reader(link.fd, self._readable, loop, link)

    def _readable(self, loop: asyncio.AbstractEventLoop, source: Link) -> None:
        while True:
            try:
                packet = os.read(source.fd, MAX_PACKET)
            except BlockingIOError:
                return
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue
            target = self.by_address.get(packet[16:20])
            if target is None or target is source:
                continue
            if source.cut or target.cut:
                source.dropped += 1
                continue
            source.sent += 1
            delay = source.delay_s
            if source.jitter_s:
                delay = max(0.0, self.random.gauss(source.delay_s, source.jitter_s))
            now = loop.time()
            due = max(now + delay, source.last_delivery.get(target.address, 0.0))
            source.last_delivery[target.address] = due
            if due <= now:
                _write(target.fd, packet)
            else:
                loop.call_at(due, _write, target.fd, packet)

    def command(self, line: str) -> str:
        words = line.split()
        if not words:
            return "error: empty request"
        verb, args = words[0], words[1:]
        try:
            if verb == "stats":
                return json.dumps(
                    {n: {"sent": k.sent, "dropped": k.dropped} for n, k in self.links.items()}
                )
            link = self.links[args[0]]
            if verb == "delay":
                link.delay_s, link.jitter_s = float(args[1]) / 1000, float(args[2]) / 1000
            elif verb == "cut":
                link.cut = True
            elif verb == "heal":
                link.cut = False
            else:
                return f"error: unknown request {verb!r}"
        except (IndexError, KeyError, ValueError) as exc:
            return f"error: {line!r}: {exc}"
        return "ok"


def _write(fd: int, packet: bytes) -> None:
    """A full queue drops the packet, as a congested link would; TCP sends it again."""
    with contextlib.suppress(OSError):
        os.write(fd, packet)


async def serve(wan: Wan, control: Path, ready: Path) -> None:
    loop = asyncio.get_running_loop()
    wan.start(loop)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write((wan.command(line.decode()) + "\n").encode())
            await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(handle, path=str(control))
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready.write_text("ready\n")
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.multihost.wan")
    parser.add_argument("--run-id", required=True)
    parser.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME=NAMESPACE=ADDRESS",
        help="a host: its name, its namespace and its address (repeatable)",
    )
    parser.add_argument("--driver-address", required=True, help="the root namespace's address")
    parser.add_argument("--prefix-length", type=int, default=24)
    parser.add_argument("--control", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args(argv)
    links: dict[str, Link] = {}
    entries = [(DRIVER, "", args.driver_address), *(h.split("=", 2) for h in args.host)]
    for index, (name, namespace, address) in enumerate(entries):
        device = f"dlt{args.run_id}t{index}"
        fd = open_tun(device)
        links[name] = Link(name, bytes(int(p) for p in address.split(".")), fd)
        inside = ["ip", "netns", "exec", namespace] if namespace else []
        if namespace:
            _run(["ip", "link", "set", device, "netns", namespace])
            _run([*inside, "ip", "link", "set", device, "name", "eth0"])
            device = "eth0"
            _run([*inside, "ip", "link", "set", "lo", "up"])
        _run([*inside, "ip", "addr", "add", f"{address}/{args.prefix_length}", "dev", device])
        _run([*inside, "ip", "link", "set", device, "up"])
    asyncio.run(serve(Wan(links), args.control, args.ready))
    return 0


if __name__ == "__main__":
    sys.exit(main())

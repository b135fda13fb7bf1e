"""The Prometheus config scrapes every node of a local network, and `create` writes it.

PyYAML is not a dependency, so the config is read back with a parser for the small block-style
subset it is written in; when PyYAML happens to be installed, it must agree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.localnet import Localnet, Member, Shape
from deploy.monitoring import DASHBOARD, prometheus_config, write_monitoring_files

MEMBERS = [
    Member("O=Notary Service, L=Zurich, C=CH", "notary-service-zurich-ch", "notary", 1001, 9101),
    Member("O=Producer 1, L=Leeds, C=GB", "producer-1-leeds-gb", "producer", 1002, 9102),
    Member("O=Consumer 1, L=York, C=GB", "consumer-1-york-gb", "consumer", 1003, 9103),
]


def parse_yaml_subset(text: str) -> object:
    """Block mappings and sequences, indented by spaces; scalars plain or JSON-quoted; flow
    sequences of JSON strings. Anything else fails, so a malformed config cannot pass."""
    assert "\t" not in text
    lines = [
        (len(line) - len(line.lstrip(" ")), line.strip())
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    value, end = _block(lines, 0, lines[0][0])
    assert end == len(lines), f"unexpected line: {lines[end][1]!r}"
    return value


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[object, int]:
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            lines = [*lines[:i], (indent + 2, lines[i][1][2:]), *lines[i + 1 :]]
            item, i = _block(lines, i, indent + 2)
            items.append(item)
        return items, i
    mapping: dict[str, object] = {}
    while i < len(lines) and lines[i][0] == indent:
        key, colon, rest = lines[i][1].partition(":")
        assert colon and key and key not in mapping, f"bad line: {lines[i][1]!r}"
        i += 1
        if rest.strip():
            mapping[key] = _scalar(rest.strip())
        else:
            assert i < len(lines) and lines[i][0] > indent, f"{key} has no value"
            mapping[key], i = _block(lines, i, lines[i][0])
    assert i == len(lines) or lines[i][0] < indent, f"bad indentation: {lines[i][1]!r}"
    return mapping, i


def _scalar(text: str) -> object:
    if text[0] in '"[':
        return json.loads(text)
    assert not set(text) & set("\"'{}[]#:,&*!|>%@`"), f"unquoted special scalar: {text!r}"
    return text


def scraped(config: object) -> dict[str, dict[str, str]]:
    """target -> labels, from a parsed config with one job."""
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "dlt-nodes"
    result = {}
    for static in job["static_configs"]:
        for target in static["targets"]:
            result[target] = static["labels"]
    return result


def test_the_config_scrapes_every_node_with_its_slug_and_role():
    config = parse_yaml_subset(prometheus_config(MEMBERS))

    assert config["global"]["scrape_interval"] == "5s"
    assert scraped(config) == {
        "127.0.0.1:9101": {"node": "notary-service-zurich-ch", "role": "notary"},
        "127.0.0.1:9102": {"node": "producer-1-leeds-gb", "role": "producer"},
        "127.0.0.1:9103": {"node": "consumer-1-york-gb", "role": "consumer"},
    }


def test_the_scrape_interval_can_be_chosen():
    config = parse_yaml_subset(prometheus_config(MEMBERS, scrape_interval="1m30s"))

    assert config["global"] == {"scrape_interval": "1m30s", "evaluation_interval": "1m30s"}


@pytest.mark.parametrize("interval", ["", "5", "5 s", "fast", "5s\nrule_files: []", "s5"])
def test_an_interval_prometheus_would_refuse_is_refused_here(interval):
    with pytest.raises(ValueError, match="Prometheus duration"):
        prometheus_config(MEMBERS, scrape_interval=interval)


def test_labels_are_quoted_so_any_text_stays_one_value():
    odd = Member("O=Odd, L=Leeds, C=GB", 'odd: "node" # 1', "role\nwith: lines", 1, 9200)

    config = parse_yaml_subset(prometheus_config([odd]))

    assert scraped(config) == {
        "127.0.0.1:9200": {"node": 'odd: "node" # 1', "role": "role\nwith: lines"}
    }


def test_the_subset_parser_rejects_what_it_does_not_understand():
    with pytest.raises(AssertionError):
        parse_yaml_subset("a:\n  b: 1\n c: 2\n")
    with pytest.raises(AssertionError):
        parse_yaml_subset("a: {b: 1}\n")


def test_pyyaml_reads_the_config_the_same_way():
    yaml = pytest.importorskip("yaml")
    text = prometheus_config(MEMBERS)

    assert yaml.safe_load(text) == parse_yaml_subset(text)


def test_write_monitoring_files_writes_config_dashboard_and_readme(tmp_path):
    monitoring = write_monitoring_files(tmp_path, MEMBERS)

    assert monitoring == tmp_path / "monitoring"
    config = parse_yaml_subset((monitoring / "prometheus.yml").read_text())
    assert set(scraped(config)) == {"127.0.0.1:9101", "127.0.0.1:9102", "127.0.0.1:9103"}
    dashboard = monitoring / "grafana" / "dlt-dashboard.json"
    assert dashboard.read_bytes() == Path(DASHBOARD).read_bytes()
    readme = (monitoring / "README.txt").read_text()
    assert f"--config.file={(monitoring / 'prometheus.yml').resolve()}" in readme
    assert str(dashboard.resolve()) in readme
    assert "http://localhost:9090" in readme
    for member in MEMBERS:
        assert f"http://127.0.0.1:{member.metrics_port}/metrics" in readme


def test_writing_again_brings_the_files_up_to_date(tmp_path):
    write_monitoring_files(tmp_path, MEMBERS)
    write_monitoring_files(tmp_path, MEMBERS[:1])

    config = parse_yaml_subset((tmp_path / "monitoring" / "prometheus.yml").read_text())
    assert set(scraped(config)) == {"127.0.0.1:9101"}


def test_creating_a_local_network_writes_its_monitoring_files(tmp_path):
    localnet = Localnet(tmp_path / "net")

    localnet.create(Shape(producers=1, consumers=1), lambda _: None)

    config = parse_yaml_subset((localnet.home / "monitoring" / "prometheus.yml").read_text())
    assert scraped(config) == {
        f"127.0.0.1:{member.metrics_port}": {"node": member.slug, "role": member.role}
        for member in localnet.members
    }
    assert len(localnet.members) == 5
    assert (localnet.home / "monitoring" / "grafana" / "dlt-dashboard.json").exists()
    assert (localnet.home / "monitoring" / "README.txt").exists()

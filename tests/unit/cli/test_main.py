"""The `dlt` entry point: version, help and usage errors."""

from __future__ import annotations

from dlt import PLATFORM_VERSION, __version__
from dlt.cli.main import COMMAND_GROUPS, build_parser


def test_version_names_the_release_and_the_platform_version(run_dlt):
    result = run_dlt("--version")

    assert result.returncode == 0
    assert result.stdout.strip() == f"dlt {__version__} (platform {PLATFORM_VERSION})"


def test_help_lists_every_command_group(run_dlt):
    result = run_dlt("--help")

    assert result.returncode == 0
    for group in ("keys", "tx"):
        assert f"    {group} " in result.stdout


def test_no_command_prints_help_and_exits_with_status_2(run_dlt):
    result = run_dlt()

    assert result.returncode == 2
    assert result.stderr.startswith("usage: dlt")
    assert "keys" in result.stderr


def test_a_group_without_a_command_prints_the_group_help_and_exits_with_status_2(run_dlt):
    result = run_dlt("keys")

    assert result.returncode == 2
    assert result.stderr.startswith("usage: dlt keys")
    assert "generate" in result.stderr


def test_an_unknown_group_is_a_usage_error(run_dlt):
    result = run_dlt("teleport")

    assert result.returncode == 2
    assert "invalid choice: 'teleport'" in result.stderr


def test_every_listed_group_registers_a_parser():
    parser = build_parser()

    for group in COMMAND_GROUPS:
        assert parser.parse_args([group]).help_parser.prog == f"dlt {group}"

"""The committed gRPC code in dlt/rpc/generated is what `make protos` makes of protos/ now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GENERATOR = ROOT / "protos" / "generate.py"
COMMITTED = ROOT / "dlt" / "rpc" / "generated"


def generated_files(directory: Path) -> dict[str, str]:
    return {
        path.name: path.read_text()
        for path in directory.iterdir()
        if path.is_file() and path.suffix in (".py", ".pyi")
    }


def test_committed_generated_code_matches_the_protos(tmp_path):
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"protos/generate.py failed:\n{result.stderr}"

    fresh, committed = generated_files(tmp_path), generated_files(COMMITTED)

    assert sorted(committed) == sorted(fresh), "run `make protos` and commit dlt/rpc/generated"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"{stale} are stale: run `make protos` and commit dlt/rpc/generated"


def test_generated_modules_import_each_other_within_the_package():
    from dlt.rpc.generated import node_pb2, node_pb2_grpc

    assert node_pb2_grpc.dlt_dot_rpc_dot_v1_dot_node__pb2 is node_pb2
    assert node_pb2.FlowEvent.__module__ == "dlt.rpc.generated.node_pb2"

"""The schemas are the code's types: a contract changed without the code fails `make lint`.

The test copies libs/common, changes one schema in a copy of schemas/, regenerates the models
from it (`make models`, as a developer would) and type-checks the services that read that
record against the copy, the way `make lint` does. The unchanged contracts must check clean
(so the failure is the change's), and the changed one must fail where the services use it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from threadline_common.schemas import ContractSet
from threadline_devstack.codegen import generate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["services/router/src/threadline_router", "services/zendesk-sync/src/threadline_zendesk_sync"]


def _mypy(common_src: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # MYPYPATH comes before pyproject's mypy_path: the copy of libs/common stands in for the real one.
    env = {**os.environ, "MYPYPATH": str(common_src)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-error-summary", *SERVICES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("contracts")
    shutil.copytree(ROOT / "libs" / "common" / "src", base / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "schemas", base / "schemas")
    return base


def _rename_field(schema_file: Path, old: str, new: str) -> None:
    schema = json.loads(schema_file.read_text())
    schema["properties"][new] = schema["properties"].pop(old)
    schema["required"] = [new if name == old else name for name in schema["required"]]
    schema_file.write_text(json.dumps(schema, indent=2))


def test_renaming_a_field_of_the_sync_results_contract_fails_type_checking(workspace: Path):
    generated = workspace / "src" / "threadline_common" / "models" / "generated"
    unchanged = _mypy(workspace / "src", workspace / "cache")
    assert unchanged.returncode == 0, f"the services do not check clean against the schemas:\n{unchanged.stdout}"

    _rename_field(workspace / "schemas" / "json" / "threadline.sync.results.v4.schema.json", "command_id", "effect_id")
    generate(generated, ContractSet(workspace / "schemas"))
    changed = _mypy(workspace / "src", workspace / "cache")

    assert changed.returncode != 0
    errors = [line for line in changed.stdout.splitlines() if "error:" in line]
    assert any("command_id" in line for line in errors), changed.stdout
    # The router reads results and zendesk-sync writes them: both sides are caught.
    assert any("threadline_router" in line for line in errors), changed.stdout
    assert any("threadline_zendesk_sync" in line for line in errors), changed.stdout

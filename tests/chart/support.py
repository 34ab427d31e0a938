"""What the chart checks share: where the chart is, its value sets, helm, rendered output."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "threadline"
NAMESPACE = "threadline"
# The value sets every check runs on: the defaults, the test sets in ci/, skaffold's profiles.
VALUE_SETS: dict[str, Path | None] = {
    "default": None,
    "everything": CHART / "ci" / "everything-values.yaml",
    "external-kafka": CHART / "ci" / "external-kafka-values.yaml",
    "minimal": CHART / "ci" / "minimal-values.yaml",
    "dev": CHART / "values-dev.yaml",
    "prod": CHART / "values-prod.yaml",
}


@dataclass(frozen=True)
class Helm:
    binary: str
    kube_version: str

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def template(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(
            "template",
            "threadline",
            str(CHART),
            "--namespace",
            NAMESPACE,
            "--kube-version",
            self.kube_version,
            *args,
            check=check,
        )


@dataclass(frozen=True)
class Rendered:
    name: str
    path: Path
    docs: list[dict]

    def kind(self, kind: str) -> list[dict]:
        return [d for d in self.docs if d["kind"] == kind]

    def named(self, kind: str, suffix: str) -> dict:
        matches = [d for d in self.kind(kind) if d["metadata"]["name"].endswith(suffix)]
        assert len(matches) == 1, f"{self.name}: expected one {kind} *{suffix}, found {len(matches)}"
        return matches[0]

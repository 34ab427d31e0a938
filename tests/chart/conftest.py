"""Fixtures of the chart checks: the pinned tools and the chart rendered with every value set.

The tools (helm, kubernetes-validate, checkov, hadolint, the CRD validators) come from
`threadline_devstack.tools`, installed into ~/.cache/threadline/tools/ on first use.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from chart.support import VALUE_SETS, Helm, Rendered

from threadline_devstack import tools


@pytest.fixture(scope="session")
def chart_tools() -> tools.ChartTools:
    return tools.ensure()


@pytest.fixture(scope="session")
def helm(chart_tools: tools.ChartTools) -> Helm:
    return Helm(chart_tools.helm, chart_tools.kubernetes_version)


@pytest.fixture(scope="session")
def rendered(helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rendered]]:
    """`helm template` of every value set, written to files and parsed."""
    out = tmp_path_factory.mktemp("rendered")
    result: dict[str, Rendered] = {}
    for name, values in VALUE_SETS.items():
        text = helm.template(*(["--values", str(values)] if values else [])).stdout
        path = out / f"{name}.yaml"
        path.write_text(text)
        result[name] = Rendered(name, path, [d for d in yaml.safe_load_all(text) if d])
    yield result

"""The public API: one tested export list, and `run` on a path or a loaded scenario."""

from __future__ import annotations

import ceasefire

from conftest import NOV2023


def test_export_list() -> None:
    assert sorted(ceasefire.__all__) == sorted(
        [
            "END_REASONS",
            "DomainError",
            "Episode",
            "LedgerRow",
            "NegotiationAnalytics",
            "Offer",
            "Problem",
            "Scenario",
            "ScenarioError",
            "Summary",
            "TranscriptEntry",
            "__version__",
            "content_hash",
            "import_domain",
            "json_schema",
            "load_scenario",
            "negotiation_analytics",
            "offer_trace",
            "render_report",
            "run",
            "write_outputs",
        ]
    )
    for name in ceasefire.__all__:
        assert getattr(ceasefire, name) is not None


def test_run_accepts_a_path_or_a_scenario() -> None:
    from_path = ceasefire.run(NOV2023, seed=5)
    from_model = ceasefire.run(ceasefire.load_scenario(NOV2023), seed=5)
    assert from_path == from_model
    assert from_path.summary.pause_days == 7


def test_layers_import_only_downwards() -> None:
    import ast
    from pathlib import Path

    order = ["scenario", "engine", "ensemble", "outputs", "monitor", "web", "cli"]
    src = Path(ceasefire.__file__).parent
    for layer in order:
        files = list((src / layer).rglob("*.py")) if (src / layer).is_dir() else []
        allowed = set(order[: order.index(layer) + 1])
        for path in files:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                top = None
                if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
                    top = node.module.split(".")[0]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    parts = node.module.split(".")
                    top = parts[1] if parts[0] == "ceasefire" and len(parts) > 1 else None
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        parts = alias.name.split(".")
                        if parts[0] == "ceasefire" and len(parts) > 1 and parts[1] in order:
                            assert parts[1] in allowed, f"{path.name} imports {parts[1]}"
                if top in order:
                    assert top in allowed, f"{path.name} imports {top}"

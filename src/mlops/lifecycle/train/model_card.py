"""The model card: a Markdown summary stored with every trained model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops.config import Config
    from mlops.store.artifact import Artifact


def model_card(
    config: Config,
    meta: dict[str, Any],
    importance: list[dict[str, Any]],
    datasets: list[Artifact],
    warnings_: list[str],
) -> str:
    lines = [
        f"# Model card: {config.model.project}",
        "",
        f"- task: {meta['task']} (target `{meta['target']}`)",
        f"- estimator: `{meta['estimator']}` (scikit-learn {meta['sklearn_version']})",
        f"- rows: {meta['rows']['train']} for fitting, {meta['rows']['holdout']} held out "
        f"({meta['split']['method']} split)",
    ]
    if meta.get("classes"):
        lines.append(f"- classes: {', '.join(map(str, meta['classes']))}")
    lines += ["", "## Data", ""]
    for d in datasets:
        lines.append(f"- dataset `{d.name}:{d.version}` ({d.id[:12]})")
    lines.append(
        f"- features ({len(meta['features'])}): " + ", ".join(f"`{f}`" for f in meta["features"])
    )
    lines += ["", "## Holdout metrics", "", "| metric | value |", "|---|---|"]
    for k, v in meta["metrics"].items():
        lines.append(f"| {k} | {'n/a' if v is None else f'{v:.4f}'} |")
    if meta.get("cv"):
        lines += ["", "## Cross-validation", "", "| metric | mean | std |", "|---|---|---|"]
        for k, s in meta["cv"].items():
            mean = "n/a" if s["mean"] is None else f"{s['mean']:.4f}"
            std = "n/a" if s["std"] is None else f"{s['std']:.4f}"
            lines.append(f"| {k} | {mean} | {std} |")
    if importance:
        lines += ["", "## Permutation importance (holdout sample)", ""]
        for item in importance[:10]:
            v = item["importance"]
            lines.append(f"- `{item['feature']}`: {'n/a' if v is None else f'{v:.4f}'}")
    lines += ["", "## Parameters", ""]
    for k, v in meta["params"].items():
        lines.append(f"- {k}: `{v}`")
    lines += [
        "",
        "## Lineage",
        "",
        f"- run: {meta['run_id']}",
        f"- config hash: {meta['config_hash'][:16]}",
        f"- git commit: {meta['git_commit'] or '(not a git repository)'}",
        f"- mlops {meta['mlops_version']}",
    ]
    if warnings_:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings_]
    return "\n".join(lines) + "\n"

"""Help that reads well: plain metavars (`--schema PATH`, `[DATA...]`, not `<path>`,
`<list[str]>` or `[[DATA]...]...`), and an example line under every command.

Applied to a command when the top-level group hands it out (`MlopsGroup.get_command`), so it
costs nothing for commands that are not run.
"""

from __future__ import annotations

from typing import Any

EXAMPLES = {
    "init": "mlops init --example churn churn && cd churn && mlops run",
    "validate": "mlops validate data/batch.csv --junit reports/validate.xml",
    "add": "mlops add data/train.parquet --name churn-train",
    "ls": "mlops ls --kind model | cut -f1,3,4",
    "show": "mlops show model/churn:3",
    "cat": "mlops cat evaluation/churn evaluation.json | jq .rules",
    "export": "mlops export dataset/churn-train:2 restored/",
    "lineage": "mlops lineage churn@production",
    "rm": "mlops rm dataset/big-mistake.csv && mlops gc",
    "gc": "mlops gc --dry-run",
    "fsck": "mlops fsck || mlops fsck --rebuild",
    "train": "mlops train --json | jq .metrics",
    "evaluate": "mlops evaluate churn:3 --promote production --junit reports/gate.xml",
    "package": "mlops package churn@production -o dist",
    "predict": "mlops predict churn@production -i new.parquet -o scored.parquet --log",
    "serve": "mlops serve churn@production --port 8080",
    "run": "mlops run --no-promote",
    "retrain": "mlops retrain data/batches/2026-06.csv --dry-run",
    "demo": "mlops demo --temp",
    "push": "mlops push churn@production --remote origin",
    "fetch": "mlops fetch --remote origin",
    "pull": "mlops pull churn@production --with-lineage",
    "clone": "mlops clone s3://team-bucket/churn churn && cd churn && mlops pull churn@production",
    "config": "mlops config schema > mlops.schema.json",
    "config show": "mlops config show --json | jq .store",
    "config schema": "mlops config schema > mlops.schema.json",
    "runs": "mlops runs ls --step train",
    "runs ls": "mlops runs ls --step train -n 5",
    "runs show": "mlops runs show 3f2a",
    "runs compare": "mlops runs compare 3f2a 9c1d",
    "models": "mlops models history churn",
    "models ls": "mlops models ls",
    "models show": "mlops models show churn",
    "models promote": "mlops models promote churn 3 --alias production --why 'hotfix'",
    "models rollback": "mlops models rollback churn --alias production --why 'bad release'",
    "models history": "mlops models history churn --alias production",
    "monitor": "mlops monitor data/batches/2026-06.csv --html reports/monitor.html",
    "monitor run": "mlops monitor data/batches/2026-06.csv --fail-on warning",
    "monitor history": "mlops monitor history -n 12",
    "remote": "mlops remote add origin s3://bucket/mlops --default",
    "remote add": "mlops remote add origin s3://bucket/mlops --default",
    "remote ls": "mlops remote ls",
    "remote remove": "mlops remote remove origin",
}

GLOBAL_NOTE = (
    "Global options (before or after the command): --json, --quiet, --format, --store, "
    "--config; see mlops --help."
)

# option metavars that say more than the option's name would
_OPTION_WORDS = {
    "model": "REF",
    "fail_on": "LEVEL",
    "store": "DIR",
    "output": "PATH",
    "remote": "NAME",
    "notify": "URL",
    "endpoint_url": "URL",
    "labels": "PATH",
    "inputs": "PATH",
    "data": "PATH",
    "promote": "ALIAS",
    "example": "NAME",
    "id_column": "COLUMN",
}


def plain_help(command: Any, path: str) -> None:
    """Give command (and its subcommands) plain metavars and its example; idempotent."""
    if getattr(command, "_mlops_plain_help", False):
        return
    command._mlops_plain_help = True
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument":
            _plain_argument(param)
        elif param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = _option_metavar(param)
    example = EXAMPLES.get(path)
    if example and command.help is not None:
        command.help = f"{command.help.rstrip()}\n\n\b\nExample:\n  {example}\n\n{GLOBAL_NOTE}"
    for name, sub in (getattr(command, "commands", None) or {}).items():
        plain_help(sub, f"{path} {name}")


def _option_metavar(param: Any) -> str:
    if param.name in _OPTION_WORDS:
        return _OPTION_WORDS[param.name]
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and desc.is_choice:
        return "|".join(str(c) for c in desc.choices or ())
    if desc is not None and desc.is_path:
        return "PATH"
    bare = param.bare_type() if hasattr(param, "bare_type") else ""
    return {"int": "N", "float": "NUMBER"}.get(bare, str(param.name).upper())


def _plain_argument(param: Any) -> None:
    word = "DATA" if param.name == "data_args" else str(param.name).upper()
    many = param.nargs != 1
    shown = f"{word}..." if many else word
    param.metavar = shown
    usage = shown if param.required else f"[{shown}]"
    # typer would add its own braces, brackets, dots and `<type>`: say it once, plainly
    param.get_usage_pieces = lambda ctx: [usage]
    param.display_type_rich = lambda ctx: None
    param._rich_display_name = lambda: shown

"""Which module defines each top-level command, loaded only when that command is used.

`mlops --help` lists every command from `COMMANDS` without importing a command module; running a
command imports its module alone. tests/cli/test_app.py checks the table against the commands.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING

import typer
from typer.core import TyperCommand
from typer.main import get_group

if TYPE_CHECKING:
    from typer._click import Command  # TyperGroup's command type

# name -> (module in mlops.cli, the first paragraph of the command's help, as listed by --help).
# In listing order: commands, then command groups. A new command: add it here as well as to its
# module's `register`.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "init_cmd",
        "Write a commented mlops.yaml, or with --example, a whole example project with generated "
        "data.",
    ),
    "validate": (
        "validate_cmd",
        "Check data against the schema; exit 1 if any check fails, 2 if the data cannot be read.",
    ),
    "add": ("store_cmds", "Version a file or directory in the store (as `dvc add` does)."),
    "ls": ("store_cmds", "List artifacts in the store."),
    "show": ("store_cmds", "Show an artifact's manifest: files, metadata, parents, aliases."),
    "cat": ("store_cmds", "Write one file of an artifact to stdout, verified against its hash."),
    "export": (
        "store_cmds",
        "Copy an artifact's files out of the store, each verified against its hash.",
    ),
    "lineage": (
        "store_cmds",
        "The tree of artifacts an artifact came from (or, with --down, what came from it).",
    ),
    "rm": (
        "store_cmds",
        "Remove an artifact from the catalog; `mlops gc` then reclaims its files.",
    ),
    "gc": (
        "store_cmds",
        "Reclaim blobs that no artifact references, and staging files left by killed writers.",
    ),
    "fsck": (
        "store_cmds",
        "Check the catalog file, re-hash every blob, check every manifest and catalog row; exit 3 "
        "on damage. With --rebuild, first rebuild the catalog from the manifests.",
    ),
    "train": (
        "train_cmds",
        "Fit the pipeline in mlops.yaml, score the holdout, record a run and store the model.",
    ),
    "evaluate": (
        "evaluate_cmd",
        "Score a model and apply the gate rules in mlops.yaml; exit 1 when a rule fails.",
    ),
    "package": (
        "package_cmds",
        "Write a self-contained, MLflow-compatible bundle and a reproducible .tar.gz.",
    ),
    "predict": (
        "package_cmds",
        "Score a CSV/Parquet file in chunks and write the predictions beside the row ids.",
    ),
    "serve": (
        "package_cmds",
        "Serve the model over HTTP: POST /predict and /invocations (MLflow's protocol), GET /health, /ping, /metadata, /metrics.",
    ),
    "run": (
        "loop_cmds",
        "Run the lifecycle in mlops.yaml (validate, train, evaluate, package), skipping stages "
        "whose inputs match an earlier successful run; stop at the first failure with its exit "
        "code.",
    ),
    "retrain": (
        "loop_cmds",
        "Close the loop: monitor, and when the retrain policy triggers, train a candidate on the "
        "declared training set, compare it with the champion on recent held-out rows, and promote "
        "it or keep the champion (exit 1 with the reason).",
    ),
    "demo": (
        "loop_cmds",
        "Lay out the churn example and run the whole loop: run, monitor each month, retrain when "
        "drift says so, promote or refuse; prints the story and where the HTML reports are.",
    ),
    "push": (
        "remote_cmds",
        "Upload what the remote lacks: blobs, manifests, versions, runs and alias moves.",
    ),
    "fetch": (
        "remote_cmds",
        "Bring the remote's catalog (artifacts, versions, runs, alias moves) into this store.",
    ),
    "pull": (
        "remote_cmds",
        "fetch, then download (verified) the files the named artifacts need.",
    ),
    "clone": (
        "remote_cmds",
        "A new project directory from a remote: mlops.yaml, a store, the remote's catalog.",
    ),
    "config": ("config_cmds", "Inspect the resolved mlops.yaml and its JSON Schema."),
    "runs": ("train_cmds", "Tracked runs: list, show, compare params and metrics."),
    "models": ("models_cmds", "Registered models, versions and aliases."),
    "monitor": (
        "monitor_cmds",
        "Compare a batch with the model's reference: drift, data quality, predictions, "
        "performance; alert, and exit 1 at --fail-on. `mlops monitor DATA...` runs `monitor run`.",
    ),
    "remote": ("remote_cmds", "Named remotes: where the store is shared (S3, GCS, a mount)."),
}


def load_module(module: str) -> dict[str, Command]:
    """The commands one module registers, built as the top-level group would build them.

    Args:
        module: a module name in mlops.cli (`train_cmds`).

    Returns:
        Its commands and command groups by name.
    """
    sub = typer.Typer(rich_markup_mode=None)  # as `app`: plain help text
    importlib.import_module(f"mlops.cli.{module}").register(sub)
    return dict(get_group(sub).commands)


class LazyCommands(MutableMapping[str, "Command"]):
    """The top-level commands by name: every name in COMMANDS is listed, and looking one up
    imports (once) the module that defines it."""

    def __init__(self, commands: MutableMapping[str, Command]) -> None:
        self._loaded: dict[str, Command] = dict(commands)

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded and name in COMMANDS:
            for loaded, command in load_module(COMMANDS[name][0]).items():
                self._loaded.setdefault(loaded, command)
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in COMMANDS

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._loaded if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS.keys() | self._loaded.keys())

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def listed(self, name: str) -> Command:
        """The command if loaded, else a stand-in that carries only its name and short help."""
        if name in self._loaded:
            return self._loaded[name]
        return TyperCommand(name=name, help=COMMANDS[name][1])

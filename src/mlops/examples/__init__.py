"""Bundled example projects and the commented mlops.yaml template."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from mlops.errors import InputError


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    next_steps: str


EXAMPLES = {
    "churn": Example(
        name="churn",
        description="telecom churn classifier; monthly batches with gradual and sudden drift",
        next_steps=(
            "next: cd {dir} && mlops run && mlops monitor data/batches/2026-05.csv --html reports/monitor.html"
        ),
    ),
}


def template_text(name: str) -> str:
    return resources.files("mlops.templates").joinpath(name).read_text(encoding="utf-8")


def _write(path: Path, text: str, force: bool) -> Path:
    if path.exists() and not force:
        raise InputError(f"{path} already exists", hint="pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GITIGNORE = (".mlops/", "predictions/", "dist/", "reports/")


def write_gitignore(directory: Path) -> list[str]:
    """Add the store and generated outputs to directory/.gitignore: create it, or append the
    entries it lacks to an existing one (its own lines are kept as they are).

    Args:
        directory: the project directory.

    Returns:
        The entries added (empty when the file already had them all).
    """
    path = Path(directory) / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    present = {line.strip().lstrip("/") for line in text.splitlines()}
    missing = [e for e in GITIGNORE if e not in present and e.rstrip("/") not in present]
    if missing:
        if text and not text.endswith("\n"):
            text += "\n"
        text += "# mlops: the store and generated outputs\n" + "".join(e + "\n" for e in missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return missing


def write_template(directory: Path, force: bool = False) -> Path:
    return _write(Path(directory) / "mlops.yaml", template_text("mlops.yaml"), force)


def create_example(name: str, directory: Path, seed: int = 7, force: bool = False) -> list[Path]:
    if name not in EXAMPLES:
        raise InputError(
            f"no example named {name!r}", hint="available: " + ", ".join(sorted(EXAMPLES))
        )
    directory = Path(directory)
    if (directory / "mlops.yaml").exists() and not force:
        raise InputError(
            f"{directory / 'mlops.yaml'} already exists",
            hint="choose an empty directory or pass --force",
        )
    from mlops.examples import churn

    files = [_write(directory / "mlops.yaml", template_text(f"{name}.mlops.yaml"), force)]
    files += churn.write_data(directory, seed=seed)
    return files

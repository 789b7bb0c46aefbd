"""The project's mlops.yaml on a remote (project/mlops.yaml): `mlops push` run in a project
leaves it there, `mlops clone` writes it into the new directory. The one key on a remote that is
rewritten: the latest push wins."""

from __future__ import annotations

from mlops.remote.site import Site, reaching

CONFIG_KEY = "project/mlops.yaml"


def remote_config(site: Site) -> bytes | None:
    """The mlops.yaml the last push from a project left on the remote, if any."""
    with reaching(site.remote):
        if not site.fs.exists(site.key(CONFIG_KEY)):
            return None
        return bytes(site.fs.cat_file(site.key(CONFIG_KEY)))


def push_config(site: Site, text: bytes) -> bool:
    """Leave the project's mlops.yaml on the remote for clone (rewritten when it changed)."""
    if remote_config(site) == text:
        return False
    with reaching(site.remote):
        if not site.objects.atomic_put:
            site.fs.makedirs(site.key("project"), exist_ok=True)
        site.fs.pipe_file(site.key(CONFIG_KEY), text)
    return True

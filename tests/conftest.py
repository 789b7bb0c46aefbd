"""Project-wide test settings and fixtures: hypothesis without timing-based failures (CI machines
vary in load), the two ways to run `mlops` (in process and as a real process), and an S3 server.
Plain-function helpers are in the `helpers` package (tests/ is on pytest's pythonpath)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mlops",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("mlops")


# -- an S3 server for remote tests: moto's standalone server on 127.0.0.1 ------------------------
import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http://127.0.0.1:PORT of a moto S3 server for this session, with dummy credentials and
    AWS_ENDPOINT_URL set in os.environ (so child processes reach it too); skips without moto."""
    pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL"]}
    os.environ.update(S3_ENV, AWS_ENDPOINT_URL=url)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.05)
        import s3fs

        s3fs.S3FileSystem(endpoint_url=url, skip_instance_cache=True).mkdir("mlops-test")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- running `mlops`: both return helpers.cli.CliResult(returncode, stdout, stderr) --------------
@pytest.fixture(scope="session")
def cli():
    """cli(*args, cwd=None, env=None): the CLI in this process (Typer's CliRunner), stdout and
    stderr kept apart, MLOPS_STORE unset. Use `subprocess_cli` where the process boundary matters."""
    from helpers.cli import invoke_cli

    return invoke_cli


@pytest.fixture(scope="session")
def subprocess_cli():
    """subprocess_cli(*args, cwd=None, env=None, timeout=300): `python -m mlops` with src/ on
    PYTHONPATH and MLOPS_STORE removed."""
    from helpers.cli import run_cli

    return run_cli

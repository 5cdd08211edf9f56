"""A private PostgreSQL cluster that a test may stop and start (the shared test server must stay up):
initdb on a free port with trust authentication, as .ci/run does, run as the postgres user under root."""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (None when PostgreSQL is not installed)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    if found:
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """``start()``/``stop()`` a cluster in ``directory``; ``url`` reaches its ``postgres`` database."""

    def __init__(self, bin_dir: Path) -> None:
        # not under pytest's tmp_path: that is private to root, and the server runs as postgres
        self.directory = directory = Path(tempfile.mkdtemp(prefix="kpi-test-pg."))
        self.bin_dir = bin_dir
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(directory, "postgres")
        self._run("initdb", "-D", str(directory / "data"), "--auth=trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "log"),
            "-w",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends the sessions and shuts down cleanly, as an operator's restart does."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stops the server (if running) and deletes the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.bin_dir / program), *arguments]
        if os.geteuid() == 0:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)

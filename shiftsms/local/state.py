"""The sandbox's state folder, pid file and port checks (stdlib only: cheap for the CLI).

The folder (``.shiftsms/`` in the current directory by default, or ``SHIFTSMS_STATE_DIR``)
holds ``sandbox.json`` (pid, port and endpoint of the running sandbox), ``sandbox.lock`` (held
with ``flock`` by the running sandbox for its whole life: a second one on the same folder
refuses to start), ``state.json`` (every item of the stack's tables, every queued message,
the streams' unprocessed records, the stack's resource names and the phone network, written
and fsynced after every change and before the change is answered), ``sandbox.log``,
``logs/<function>.log`` and ``functions/`` (the deployed bundles, extracted). Delete it to
start afresh.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from shiftsms.errors import ShiftsmsError

HOST = "127.0.0.1"
DEFAULT_PORT = 4599
STATE_FORMAT = "shiftsms-sandbox-state/1"
PID_FILE = "sandbox.json"
STATE_FILE = "state.json"
LOCK_FILE = "sandbox.lock"
JOURNAL_FILE = "changes.log"


class StateError(ShiftsmsError):
    """The state folder cannot be used (corrupt, unreadable)."""


def default_state_dir() -> Path:
    """``$SHIFTSMS_STATE_DIR`` or ``./.shiftsms``."""
    return Path(os.environ.get("SHIFTSMS_STATE_DIR") or ".shiftsms")


def write_json(path: Path, data: Any, *, durable: bool = False) -> None:
    """Write ``data`` as JSON, atomically (a crash never leaves half a file).

    ``durable``: fsync the file and its folder before returning, so the new content survives
    a crash of the process or the machine.
    """
    if durable:
        write_durable(path, json.dumps(data, separators=(",", ":")))
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def write_durable(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically; fsync the file and its folder."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    _fsync_dir(path.parent)


class Journal:
    """An append-only log of changes, one JSON line each, fsynced before :meth:`append`
    returns. Entries are numbered; the state file says up to which number it covers."""

    def __init__(self, path: Path, seq: int = 0) -> None:
        self.path = path
        self.seq = seq
        self._fd: int | None = None

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """The entries of the log at ``path``, oldest first; a torn last line (a crash in the
        middle of an append, which was never acknowledged) is left out."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries: list[dict[str, Any]] = []
        for n, line in enumerate(lines):
            try:
                entry = json.loads(line)
            except ValueError as exc:
                if n == len(lines) - 1:
                    break
                raise StateError(f"{path} is corrupt (line {n + 1}); delete it") from exc
            if isinstance(entry, dict) and isinstance(entry.get("seq"), int):
                entries.append(entry)
        return entries

    def append(self, entry: dict[str, Any]) -> None:
        """Add ``entry`` (JSON-able) as the next numbered one; durable on return."""
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            _fsync_dir(self.path.parent)
        self.seq += 1
        line = json.dumps({**entry, "seq": self.seq}, separators=(",", ":")) + "\n"
        os.write(self._fd, line.encode("utf-8"))
        os.fsync(self._fd)

    def truncate(self) -> None:
        """Drop every entry (the state file now covers them)."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
        else:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Close the log file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateDirInUse(StateError):
    """Another sandbox holds the state folder's lock."""


def lock_state_dir(state_dir: Path) -> int:
    """Take the folder's lock for this process's life; its descriptor.

    Raise :class:`StateDirInUse` if another process holds it. The kernel releases the lock
    when the process ends, however it ends (``kill -9`` included), so there is no stale lock.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        raise StateDirInUse(
            f"the state folder {state_dir} is in use by another sandbox"
            + (f" (pid {holder})" if holder else "")
        ) from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
    return fd


def state_dir_locked(state_dir: Path) -> bool:
    """True if a live process holds the folder's lock (a sandbox runs on it)."""
    try:
        fd = os.open(state_dir / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """The saved state, None if there is none; raise :class:`StateError` if it is corrupt."""
    path = state_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(
            f"{path} is corrupt ({exc}); delete the folder {state_dir} to start afresh"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise StateError(
            f"{path} is not shiftsms sandbox state (format {STATE_FORMAT} expected); "
            f"delete the folder {state_dir} to start afresh"
        )
    tables = data.get("tables", {})
    if not isinstance(tables, dict) or not all(isinstance(v, list) for v in tables.values()):
        raise StateError(f"{path} is corrupt (tables); delete the folder {state_dir}")
    return data


@dataclass
class SandboxInfo:
    """What ``sandbox.json`` says about a running sandbox."""

    pid: int
    port: int
    endpoint: str
    region: str
    stack: str
    started_at: str


def write_pid_file(state_dir: Path, info: SandboxInfo) -> None:
    """Record the running sandbox in ``sandbox.json``."""
    write_json(state_dir / PID_FILE, {f.name: getattr(info, f.name) for f in fields(info)})


def read_pid_file(state_dir: Path) -> SandboxInfo | None:
    """The running sandbox's record, None if there is none; StateError if unreadable."""
    path = state_dir / PID_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SandboxInfo(**{f.name: data[f.name] for f in fields(SandboxInfo)})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"{path} is corrupt ({exc}); delete it") from exc


def pid_alive(pid: int) -> bool:
    """True if a process with ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def port_free(port: int) -> bool:
    """True if ``port`` can be bound on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True

"""Running deployed functions: one worker process per warm instance, pooled per function.

Each instance's code is the bundle the deployed function points at, downloaded from the
emulator's S3 and checked against the function's ``CodeSha256``; its environment is the one
it was deployed with (Lambda ``GetFunctionConfiguration``) plus the sandbox endpoint and
credentials, nothing else from this process. A changed configuration or bundle starts a
fresh worker.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from shiftsms.local.aws import client, environment
from shiftsms.local.invocation import Invocation, PumpError, Stats

log = logging.getLogger("shiftsms.local.pump")

RUNTIME = Path(__file__).with_name("_runtime.py")
STARTUP_TIMEOUT = 30.0
POOL_SIZE = 3  # concurrent instances per function, and pollers per queue
_BUNDLE_LOCK = threading.Lock()

# What the Lambda Python runtime provides besides the standard library; everything else a
# function imports must come from its bundle.
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "urllib3",
    "six",
)


def runtime_dir(work_dir: Path) -> Path:
    """A folder exposing only the runtime's own packages (links into this environment)."""
    folder = work_dir / "runtime"
    with _BUNDLE_LOCK:
        if (folder / ".complete").exists():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for name in RUNTIME_DISTRIBUTIONS:
            dist = importlib.metadata.distribution(name)
            tops = {
                str(f).split("/")[0]
                for f in dist.files or []
                if not str(f).startswith("..") and not str(f).startswith("__pycache__")
            }
            for top in sorted(tops):
                source = Path(str(dist.locate_file(top)))
                if source.exists():
                    (folder / top).symlink_to(source, target_is_directory=source.is_dir())
        (folder / ".complete").write_text("ok", encoding="utf-8")
    return folder


class FunctionRunner:
    """One warm instance of a deployed function: a worker process, one invocation at a time."""

    def __init__(
        self,
        name: str,
        endpoint: str,
        region: str,
        *,
        code_bucket: str,
        work_dir: Path,
        stats: Stats,
    ) -> None:
        self.name = name
        self.endpoint = endpoint
        self.region = region
        self.code_bucket = code_bucket
        self.work_dir = work_dir.resolve()
        self.stats = stats
        self.lam = client("lambda", endpoint, region)
        self.s3 = client("s3", endpoint, region)
        self.lock = threading.Lock()
        self.proc: subprocess.Popen[str] | None = None
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.config_key: tuple[str, str, str] | None = None
        self.modules: dict[str, str] = {}

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run the handler on ``event`` (starting or refreshing the worker as needed)."""
        with self.lock:
            try:
                config = self.lam.get_function_configuration(FunctionName=self.name)
                self._ensure_worker(config)
                outcome = self._call(event, config)
            except PumpError as exc:
                log.error("%s: %s", self.name, exc)
                outcome = Invocation(ok=False, error=str(exc))
            except Exception as exc:
                log.exception("%s: cannot invoke", self.name)
                outcome = Invocation(ok=False, error=f"{type(exc).__name__}: {exc}")
        self.stats.count(self.name, outcome.ok)
        return outcome

    def _ensure_worker(self, config: dict[str, Any]) -> None:
        env_vars = {
            str(k): str(v)
            for k, v in ((config.get("Environment") or {}).get("Variables") or {}).items()
        }
        key = (config["CodeSha256"], config["Handler"], json.dumps(env_vars, sort_keys=True))
        if self.proc is not None and self.proc.poll() is None and key == self.config_key:
            return
        self.close()
        task_root = self._bundle(config)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **env_vars,
            **environment(self.endpoint, self.region),
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize", 128)),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.get('Runtime', 'python')}",
            "LAMBDA_TASK_ROOT": str(task_root),
            "_HANDLER": config["Handler"],
        }
        log_dir = self.work_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / f"{self.name}.log").open("a", encoding="utf-8") as log_file:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [
                    sys.executable,
                    "-I",  # no PYTHON* variables, no user site
                    "-S",  # no site-packages: the bundle and the runtime's packages only
                    str(RUNTIME),
                    str(task_root),
                    config["Handler"],
                    str(runtime_dir(self.work_dir)),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=task_root,
                text=True,
                encoding="utf-8",
            )
        self.replies = queue.Queue()
        threading.Thread(
            target=self._read_replies, args=(self.proc, self.replies), daemon=True
        ).start()
        ready = self._reply(STARTUP_TIMEOUT)
        if not ready.get("ready"):
            self.close()
            raise PumpError(
                f"cannot import handler {config['Handler']}: "
                f"{ready.get('errorType', 'no answer')}: {ready.get('errorMessage', '')}"
            )
        self.modules = dict(ready.get("modules", {}))
        for module, path in self.modules.items():
            if path and not Path(path).resolve().is_relative_to(task_root.resolve()):
                self.close()
                raise PumpError(f"{module} was imported from {path}, not from the bundle")
        self.config_key = key
        log.info("%s: worker ready (%s)", self.name, config["Handler"])

    @staticmethod
    def _read_replies(
        proc: subprocess.Popen[str], replies: queue.Queue[dict[str, Any] | None]
    ) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                replies.put(json.loads(line))
            except ValueError:
                log.warning("worker wrote a line that is not JSON: %.200s", line)
        replies.put(None)

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            reply = self.replies.get(timeout=timeout)
        except queue.Empty:
            return {"ok": False, "timeout": True}
        return reply if reply is not None else {"ok": False, "errorType": "WorkerExited"}

    def _call(self, event: dict[str, Any], config: dict[str, Any]) -> Invocation:
        assert self.proc is not None and self.proc.stdin is not None
        timeout = float(config.get("Timeout", 3))
        request_id = str(uuid.uuid4())
        request = {
            "id": request_id,
            "event": event,
            "request_id": request_id,
            "function_arn": config.get("FunctionArn", ""),
            "deadline": time.time() + timeout,
        }
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            self.close()
            raise PumpError(f"worker is gone: {exc}") from exc
        reply = self._reply(timeout + 2.0)
        if reply.get("timeout"):
            self.close()
            return Invocation(ok=False, error=f"Task timed out after {timeout:.0f} seconds")
        if reply.get("ok"):
            return Invocation(ok=True, result=reply.get("result"))
        if reply.get("errorType") == "WorkerExited":
            self.close()
        return Invocation(
            ok=False, error=f"{reply.get('errorType')}: {reply.get('errorMessage', '')}"
        )

    def _bundle(self, config: dict[str, Any]) -> Path:
        """The extracted bundle of the deployed code (downloaded once per CodeSha256)."""
        with _BUNDLE_LOCK:
            return self._fetch_bundle(config)

    def _fetch_bundle(self, config: dict[str, Any]) -> Path:
        sha = str(config["CodeSha256"])
        folder = self.work_dir / "functions" / hashlib.sha256(sha.encode()).hexdigest()[:16]
        if (folder / ".complete").exists():
            return folder
        location = self.lam.get_function(FunctionName=self.name)["Code"].get("Location", "")
        key = urlparse(location).path.lstrip("/")
        try:
            data = self.s3.get_object(Bucket=self.code_bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise PumpError(f"cannot fetch s3://{self.code_bucket}/{key}: {exc}") from exc
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
        if digest != sha:
            raise PumpError(f"s3://{self.code_bucket}/{key} is not the deployed code")
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            bundle.extractall(tmp)
        (tmp / ".complete").write_text(sha, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return folder

    def close(self) -> None:
        """Stop the worker (bounded wait)."""
        proc, self.proc = self.proc, None
        self.config_key = None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)


class FunctionPool:
    """Up to ``size`` warm instances of one function, as Lambda runs concurrent invocations.

    The most recently used idle instance serves the next invocation, so a second worker
    process starts only when invocations overlap.
    """

    def __init__(
        self,
        name: str,
        endpoint: str,
        region: str,
        *,
        code_bucket: str,
        work_dir: Path,
        stats: Stats,
        size: int = POOL_SIZE,
    ) -> None:
        self.name = name
        self.code_bucket = code_bucket
        self.instances = [
            FunctionRunner(
                name, endpoint, region, code_bucket=code_bucket, work_dir=work_dir, stats=stats
            )
            for _ in range(size)
        ]
        self._idle: queue.LifoQueue[FunctionRunner] = queue.LifoQueue()
        for instance in reversed(self.instances):
            self._idle.put(instance)

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Run ``event`` on an idle instance (waiting for one if all are busy)."""
        instance = self._idle.get()
        try:
            instance.code_bucket = self.code_bucket
            return instance.invoke(event)
        finally:
            self._idle.put(instance)

    def close(self) -> None:
        """Stop every instance's worker."""
        for instance in self.instances:
            instance.close()

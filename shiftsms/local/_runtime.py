"""One deployed function in its own process, as the Lambda runtime runs it (stdlib only).

Started by the event pump as ``python -I -S _runtime.py TASK_ROOT HANDLER RUNTIME_DIR`` with
the function's deployed environment. It imports HANDLER (``package.module.function``) with
TASK_ROOT (the extracted bundle) first on ``sys.path`` and RUNTIME_DIR (the packages the Lambda
runtime provides: boto3 and its dependencies) second, and nothing else but the standard library,
so a module the bundle lacks fails here as it would in Lambda. It then answers one JSON
request a line on stdin with one JSON line on the original stdout; whatever the handler prints
or logs goes to stderr (the function's log). This file must import nothing from shiftsms: the
function's code comes from its bundle, not from the machine's installed copy.

The process ends as soon as the sandbox that started it is gone, however it went (``kill -9``
included), as a Lambda sandbox does with its host: an invocation never outlives it and never
reaches the next sandbox started on the same port.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from typing import Any


class Context:
    """The parts of the Lambda context object handlers use."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = "$LATEST"
        self.invoked_function_arn = str(request.get("function_arn", ""))
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = str(request.get("request_id", ""))
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "sandbox"
        self._deadline = float(request.get("deadline", time.time() + 60))

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds before the function's timeout."""
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "trace": traceback.format_exc(),
    }


def _exit_with_parent(interval: float = 0.1) -> None:
    """End this process (mid-invocation too) once its parent, the sandbox, has ended."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    """Import the handler, report ready, then serve invocations until stdin closes."""
    _exit_with_parent()
    task_root, handler, runtime = sys.argv[1], sys.argv[2], sys.argv[3]
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # prints and logs of the handler go to the function's log

    def send(payload: dict[str, Any]) -> None:
        out.write(json.dumps(payload, default=str) + "\n")
        out.flush()

    sys.path[:0] = [task_root, runtime]
    os.chdir(task_root)
    module_name, _, function_name = handler.rpartition(".")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except BaseException as exc:
        send({"ready": False, **_error(exc)})
        return 1
    loaded = {
        name: str(getattr(sys.modules[name], "__file__", "") or "")
        for name in ("shiftsms", module_name.split(".")[0])
        if name in sys.modules
    }
    send({"ready": True, "modules": loaded})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            result = function(request["event"], Context(request))
            send({"id": request["id"], "ok": True, "result": result})
        except Exception as exc:
            send({"id": request["id"], "ok": False, **_error(exc)})
    return 0


if __name__ == "__main__":
    sys.exit(main())

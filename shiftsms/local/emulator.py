"""The embedded AWS emulator: moto's server app behind a middleware that adds what moto lacks.

One endpoint on 127.0.0.1 serves every AWS API the system uses, so boto3 with
``AWS_ENDPOINT_URL`` reaches all of it:

- End User Messaging SMS (JSON 1.0, ``X-Amz-Target: PinpointSMSVoiceV2.*``) and Connect's
  ``PUT /contact/outbound-voice`` go to :class:`~shiftsms.local.telecom.Telecom`; requests are
  routed by the signing service in the Authorization header's credential scope.
- ``/_shiftsms/*`` is the sandbox's own control API (status, outbox, texting in, shutdown).
- Everything else goes to moto.

moto would deliver DynamoDB stream records, SQS messages and SNS notifications to Lambda
itself, through Docker (absent here): it clears the stream and re-receives queue messages when
that fails. While an emulator runs, that delivery is switched off; the sandbox's event pump is
the poller instead, as Lambda's is in AWS. And where moto executes a change set without
updating the stack's template, parameters and outputs, the emulator adds that step, as
CloudFormation does (moto 5.2.5). A cancelled DynamoDB transaction rolls back in place, its
tables keeping their streams (:mod:`~shiftsms.local.dynamo_transactions`).

Durability: every request that changes what the sandbox must keep (DynamoDB writes, SQS sends,
deletes and visibility changes, receives that returned messages (now in flight), SNS calls,
End User Messaging sends, Connect calls, texts in)
is answered only after :attr:`Emulator.on_change` returns, which persists the state; with a
:attr:`Emulator.journal`, a successful DynamoDB write is instead answered after the journal
has logged it (write-ahead, so the cost of a write does not grow with the tables). Changes
to moto run under :attr:`Emulator.mutation_lock`, so a snapshot taken under it never sees half
a request. :class:`Names` makes the names CloudFormation generates (and KMS key ids) the same
on every start of the same state folder.
"""

from __future__ import annotations

import errno
import io
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from moto.awslambda.models import LambdaBackend
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.models import ChangeSet
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.kms import models as kms_models
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.sqs.models import sqs_backends
from werkzeug.serving import BaseWSGIServer, make_server

from shiftsms.local import dynamo_transactions
from shiftsms.local.aws import client
from shiftsms.local.state import HOST, port_free
from shiftsms.local.telecom import ApiError, Telecom

CONTROL_PREFIX = "/_shiftsms/"
MAX_WAIT_SECONDS = 30.0

StartResponse = Callable[..., Any]


class PortInUse(OSError):
    """The chosen port is taken on 127.0.0.1."""


def _signing_service(environ: dict[str, Any]) -> str:
    """The service in a SigV4 Authorization header's credential scope ('' if unsigned)."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    marker = "Credential="
    if marker not in auth:
        return ""
    scope = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else ""


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        size = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        size = 0
    return environ["wsgi.input"].read(size) if size > 0 else b""


def _respond(
    start_response: StartResponse,
    status: int,
    payload: Any,
    content_type: str = "application/json",
    headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    body = json.dumps(payload).encode("utf-8")
    reasons = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error"}
    start_response(
        f"{status} {reasons.get(status, 'Error')}",
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", "shiftsms-sandbox"),
            *headers,
        ],
    )
    return [body]


_READ_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "Describe", "List", "TransactGet")


def _changes_moto(service: str, target: str) -> bool:
    """True if the moto request changes state the sandbox keeps (tables, queues, topics)."""
    operation = target.partition(".")[2]
    if service == "dynamodb" or target.startswith("DynamoDB_"):
        return not operation.startswith(_READ_PREFIXES)
    if service == "sqs" or target.startswith("AmazonSQS."):
        return (
            bool(operation)
            and operation != "ReceiveMessage"
            and not operation.startswith(_READ_PREFIXES)
        )
    return service == "sns"


class SandboxApp:
    """WSGI middleware: End User Messaging, Connect and the control API in front of moto."""

    def __init__(
        self, moto_app: Any, telecom: Telecom, control: Control, emulator: Emulator | None = None
    ) -> None:
        self.moto_app = moto_app
        self.telecom = telecom
        self.control = control
        self.emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        service = _signing_service(environ)
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if path.startswith(CONTROL_PREFIX):
            changes = path == CONTROL_PREFIX + "sms"
            return self._durable(changes, self.control.handle, environ, start_response)
        if service == "sms-voice" or target.startswith("PinpointSMSVoiceV2."):
            operation = target.partition(".")[2]
            changes = not operation.startswith(_READ_PREFIXES)
            return self._durable(changes, self._sms, environ, start_response, operation)
        if (
            service == "connect"
            and environ.get("REQUEST_METHOD") == "PUT"
            and path == "/contact/outbound-voice"
        ):
            return self._durable(True, self._connect, environ, start_response)
        if self.emulator is not None and target == "AmazonSQS.ReceiveMessage":
            return self._received(environ, start_response)
        if self.emulator is None or not _changes_moto(service, target):
            return self.moto_app(environ, start_response)
        if self.emulator.journal is not None and (
            service == "dynamodb" or target.startswith("DynamoDB_")
        ):
            return self._journaled(environ, start_response, target)
        with self.emulator.mutation_lock:
            body = list(self.moto_app(environ, start_response))
            self.emulator.changes += 1
        self.emulator.on_change()
        return body

    def _journaled(
        self, environ: dict[str, Any], start_response: StartResponse, target: str
    ) -> Any:
        """A DynamoDB write: applied, then (if it succeeded) logged, before it is answered."""
        assert self.emulator is not None and self.emulator.journal is not None
        raw = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(raw)
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        with self.emulator.mutation_lock:
            body = list(self.moto_app(environ, capture))
            if status and status[0].startswith("200"):
                self.emulator.journal(target, raw)
        return body

    def _received(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        """A receive (not under the mutation lock: it long-polls). The messages it returns are
        in flight: persisted before they are handed over, so a restart knows their receiver
        died with the sandbox."""
        assert self.emulator is not None
        body = list(self.moto_app(environ, start_response))
        if any(b'"ReceiptHandle"' in part for part in body):
            with self.emulator.mutation_lock:
                self.emulator.changes += 1
            self.emulator.on_change()
        return body

    def _durable(self, changes: bool, serve: Callable[..., Any], *args: Any) -> Any:
        """Serve, then (for a change) persist before the answer goes out."""
        if not changes or self.emulator is None:
            return serve(*args)
        body = list(serve(*args))
        with self.emulator.mutation_lock:
            self.emulator.changes += 1
        self.emulator.on_change()
        return body

    def _sms(self, environ: dict[str, Any], start_response: StartResponse, op: str) -> Any:
        ctype = "application/x-amz-json-1.0"
        try:
            body = json.loads(_read_body(environ) or b"{}")
            if not isinstance(body, dict):
                raise ApiError("ValidationException", "request body is not a JSON object")
            result = self.telecom.sms_api(op, body)
        except ApiError as exc:
            payload = {"__type": exc.code, "message": exc.message, **exc.extra}
            return _respond(start_response, exc.status, payload, ctype)
        except ValueError:
            return _respond(start_response, 400, {"__type": "SerializationException"}, ctype)
        return _respond(start_response, 200, result, ctype)

    def _connect(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        try:
            body = json.loads(_read_body(environ) or b"{}")
            result = self.telecom.start_outbound_voice_contact(body)
        except ApiError as exc:
            return _respond(
                start_response,
                exc.status,
                {"message": exc.message},
                headers=[("x-amzn-ErrorType", exc.code)],
            )
        except ValueError:
            return _respond(
                start_response,
                400,
                {"message": "request body is not JSON"},
                headers=[("x-amzn-ErrorType", "InvalidRequestException")],
            )
        return _respond(start_response, 200, result)


class Control:
    """The sandbox's control API under ``/_shiftsms/`` (JSON in, JSON out)."""

    def __init__(self, telecom: Telecom) -> None:
        self.telecom = telecom
        self.status: Callable[[], dict[str, Any]] = lambda: {"ready": False}
        self.on_shutdown: Callable[[], None] = lambda: None
        self.default_destination: Callable[[], str] = lambda: ""

    def handle(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        """Serve one control request."""
        path = str(environ.get("PATH_INFO", ""))[len(CONTROL_PREFIX) :]
        method = environ.get("REQUEST_METHOD", "GET")
        query = {k: v[-1] for k, v in parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
        try:
            if path == "status" and method == "GET":
                return _respond(start_response, 200, self.status())
            if path == "outbox" and method == "GET":
                return _respond(start_response, 200, self._outbox(query))
            if path == "calls" and method == "GET":
                calls = [asdict(c) for c in self.telecom.calls]
                return _respond(start_response, 200, {"calls": calls})
            if path == "sms" and method == "POST":
                body = json.loads(_read_body(environ) or b"{}")
                return _respond(start_response, 200, self._sms(body))
            if path == "shutdown" and method == "POST":
                threading.Thread(target=self.on_shutdown, daemon=True).start()
                return _respond(start_response, 200, {"stopping": True})
        except ApiError as exc:
            return _respond(start_response, exc.status, {"error": exc.message})
        except (ValueError, KeyError, TypeError) as exc:
            return _respond(start_response, 400, {"error": f"bad request: {exc}"})
        return _respond(start_response, 404, {"error": f"no such control call: {path}"})

    def _outbox(self, query: dict[str, str]) -> dict[str, Any]:
        to = query.get("to") or None
        after = int(query.get("after", "0"))
        wait = min(float(query.get("wait", "0")), MAX_WAIT_SECONDS)
        if wait > 0:
            texts = self.telecom.wait_texts(to, after, wait)
        else:
            texts = self.telecom.texts(to, after)
        return {"texts": [asdict(t) for t in texts], "last_seq": self.telecom.last_seq}

    def _sms(self, body: dict[str, Any]) -> dict[str, Any]:
        sender = str(body["from"])
        text = str(body["body"])
        to = str(body.get("to") or self.default_destination())
        before = self.telecom.last_seq
        result = self.telecom.receive(sender, to, text)
        return {**result, "seq_before": before}


# -- stable names ----------------------------------------------------------------------------


class Names:
    """The names CloudFormation generated, by stack and logical id, and the KMS key ids, in
    creation order: given back on the next start, so a restart keeps every table name, queue
    URL, topic and key ARN the stack outputs."""

    def __init__(self, saved: dict[str, Any] | None = None) -> None:
        saved = saved or {}
        self.resources: dict[str, str] = dict(saved.get("resources") or {})
        self.kms_keys: list[str] = list(saved.get("kms_keys") or [])
        self._next_key = 0
        self._lock = threading.Lock()

    def resource(self, resource_type: str, stack_name: str, logical_id: str) -> str:
        """The saved name of this resource, or a new one (saved)."""
        key = f"{stack_name}/{logical_id}"
        with self._lock:
            if key not in self.resources:
                self.resources[key] = _originals["generate_resource_name"](
                    resource_type, stack_name, logical_id
                )
            return self.resources[key]

    def kms_key(self, multi_region: bool = False) -> str:
        """The next saved key id, or a new one (saved)."""
        with self._lock:
            if self._next_key < len(self.kms_keys):
                key = self.kms_keys[self._next_key]
            else:
                key = str(_originals["generate_key_id"](multi_region))
                self.kms_keys.append(key)
            self._next_key += 1
            return key

    def to_json(self) -> dict[str, Any]:
        """What :meth:`__init__` takes back."""
        with self._lock:
            return {"resources": dict(self.resources), "kms_keys": list(self.kms_keys)}


_names: Names | None = None


def _name_resource(resource_type: str, stack_name: str, logical_id: str) -> str:
    if _names is None:
        return str(_originals["generate_resource_name"](resource_type, stack_name, logical_id))
    return _names.resource(resource_type, stack_name, logical_id)


def _name_key(multi_region: bool = False) -> str:
    if _names is None:
        return str(_originals["generate_key_id"](multi_region))
    return _names.kms_key(multi_region)


# -- moto's own Lambda delivery ------------------------------------------------------------

_patch_lock = threading.Lock()
_patch_users = 0
_originals: dict[str, Any] = {}


def _install_delivery_patch() -> None:
    """Stop moto delivering events to Lambda through Docker, and the emulator's other moto
    fixes (ref-counted)."""
    global _patch_users  # noqa: PLW0603
    with _patch_lock:
        _patch_users += 1
        if _patch_users > 1:
            return
        _originals["send_sns_message"] = LambdaBackend.send_sns_message
        _originals["send_dynamodb_items"] = LambdaBackend.send_dynamodb_items
        _originals["create_event_source_mapping"] = LambdaBackend.create_event_source_mapping
        original_create = LambdaBackend.create_event_source_mapping

        def no_sns(self: Any, *args: Any, **kwargs: Any) -> None:
            """The pump delivers SNS notifications (through its tap queue)."""

        def keep_stream(self: Any, *args: Any, **kwargs: Any) -> None:
            """Returning None keeps the stream records for GetRecords."""

        def create_detached(self: Any, spec: dict[str, Any]) -> Any:
            """Create the mapping, but let the pump poll its queue rather than moto."""
            esm = original_create(self, spec)
            for queue in sqs_backends[self.account_id][self.region_name].queues.values():
                queue.lambda_event_source_mappings.pop(esm.function_arn, None)
            return esm

        original_apply = ChangeSet.apply
        _originals["apply"] = original_apply

        def apply_with_outputs(self: Any) -> None:
            """moto's apply updates resources only; CloudFormation also updates the stack's
            template, parameters and outputs."""
            original_apply(self)
            stack = self.stack
            stack.template = self.template
            stack._parse_template()
            stack.parameters = self.parameters
            stack.output_map = stack._create_output_map()

        ChangeSet.apply = apply_with_outputs  # type: ignore[method-assign]
        _originals["generate_resource_name"] = cfn_parsing.generate_resource_name
        _originals["generate_key_id"] = getattr(kms_models, "generate_key_id")  # noqa: B009
        cfn_parsing.generate_resource_name = _name_resource
        setattr(kms_models, "generate_key_id", _name_key)  # noqa: B010
        LambdaBackend.send_sns_message = no_sns  # type: ignore[method-assign]
        LambdaBackend.send_dynamodb_items = keep_stream  # type: ignore[method-assign,assignment]
        LambdaBackend.create_event_source_mapping = create_detached  # type: ignore[method-assign]
        dynamo_transactions.install()


def _remove_delivery_patch() -> None:
    global _patch_users  # noqa: PLW0603
    with _patch_lock:
        _patch_users -= 1
        if _patch_users > 0:
            return
        for name, fn in _originals.items():
            owners: dict[str, Any] = {
                "apply": ChangeSet,
                "generate_resource_name": cfn_parsing,
                "generate_key_id": kms_models,
            }
            setattr(owners.get(name, LambdaBackend), name, fn)
        _originals.clear()
        dynamo_transactions.remove()


def _reset_moto() -> None:
    moto_api_backend.reset()


class Emulator:
    """moto + End User Messaging + Connect on one 127.0.0.1 endpoint, in a thread."""

    def __init__(
        self, port: int = 0, region: str = "eu-west-2", names: Names | None = None
    ) -> None:
        self.requested_port = port
        self.region = region
        self.telecom = Telecom(region)
        self.control = Control(self.telecom)
        self.names = names or Names()
        self.mutation_lock = threading.RLock()
        self.changes = 0
        self.on_change: Callable[[], None] = lambda: None
        # With a journal, a DynamoDB write is logged (target, request body) instead.
        self.journal: Callable[[str, bytes], None] | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> Emulator:
        """Bind and serve; raise :class:`PortInUse` if the port is taken."""

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """No access log on the terminal."""

        app = SandboxApp(
            DomainDispatcherApplication(create_backend_app), self.telecom, self.control, self
        )
        in_use = PortInUse(
            errno.EADDRINUSE, f"port {self.requested_port} on {HOST} is already in use"
        )
        if self.requested_port and not port_free(self.requested_port):
            raise in_use
        try:
            self._server = make_server(
                HOST, self.requested_port, app, threaded=True, request_handler=QuietHandler
            )
        except SystemExit as exc:  # werkzeug prints and exits when the port is taken
            raise in_use from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise in_use from exc
            raise
        # moto keeps its state per process: one emulator per process, starting empty.
        global _names  # noqa: PLW0603
        _install_delivery_patch()
        _names = self.names
        _reset_moto()
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()
        self.telecom.publish = self._publish
        return self

    def prune_stream_iterators(self, keep: int = 5000) -> int:
        """Forget all but the newest ``keep`` DynamoDB shard iterators; return how many went.

        moto keeps every iterator GetRecords hands out, forever; AWS expires them after 15
        minutes. A sandbox polling a stream for days would otherwise grow without bound.
        """
        dropped = 0
        for regions in dynamodbstreams_backends.values():
            for backend in regions.values():
                iterators = backend.shard_iterators
                for key in list(iterators)[: max(0, len(iterators) - keep)]:
                    iterators.pop(key, None)
                    dropped += 1
        return dropped

    def _publish(self, topic_arn: str, message: str) -> None:
        client("sns", self.endpoint, self.region).publish(TopicArn=topic_arn, Message=message)

    def stop(self) -> None:
        """Stop serving, release the port, forget moto's state."""
        if self._server is None:
            return
        self.telecom.close()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        _reset_moto()
        _remove_delivery_patch()
        global _names  # noqa: PLW0603
        if _names is self.names:
            _names = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

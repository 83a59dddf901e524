"""The template against the code: environment the handlers read, outputs the CLI reads, hardening.

The template is read with cfn-lint's own loader (it knows ``!Ref``, ``!GetAtt``, ``!If``), and
the code is read with ``ast``, so a variable or output added on one side only fails here.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from shiftsms import settings as settings_module
from shiftsms.aws.alarms import alarm_prefix
from shiftsms.aws.due_work import LEASE_SECONDS
from shiftsms.core import metrics
from shiftsms.local.event_filter import passes_filters

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "cloudformation" / "template.yaml"
# Code that runs in Lambda (the CLI, sandbox and deploy code never do).
LAMBDA_CODE = [
    p
    for p in [*(ROOT / "shiftsms").rglob("*.py"), *(ROOT / "lambdas").rglob("*.py")]
    if not {"cli", "local", "deploy"} & set(p.relative_to(ROOT).parts)
]
SAMPLE_PARAMETERS = (
    "ApprovedNumbers",
    "OriginationNumber",
    "ConnectEnable",
    "InstanceId",
    "ContactFlowID",
    "QueueID",
    "SourcePhoneNumber",
)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    tpl, problems = decode(str(TEMPLATE))
    assert not problems, problems
    assert isinstance(tpl, dict)
    return tpl


def resources(tpl: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == rtype}


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _env_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isupper():
        return node.value
    return None


def _is_env(node: ast.AST) -> bool:
    """``env`` or ``os.environ``."""
    if isinstance(node, ast.Name):
        return node.id == "env"
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def env_reads(tree: ast.AST) -> set[str]:
    """Names read with env[...] / env.get(...) / os.environ / os.getenv / _int(env, ...)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_env(node.value):
            found |= {n for n in [_env_name(node.slice)] if n}
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            first = _env_name(node.args[0])
            is_get = isinstance(func, ast.Attribute) and func.attr == "get" and _is_env(func.value)
            if is_get or (isinstance(func, ast.Attribute) and func.attr == "getenv"):
                found |= {first} if first else set()
            elif isinstance(func, ast.Name) and len(node.args) > 1 and _is_env(node.args[0]):
                # _int(env, "NAME", default), _required(env, "NAME", "OTHER")
                found |= {n for a in node.args[1:] if (n := _env_name(a))}
    return found


def _module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def handler_modules(handler: str) -> Iterator[Path]:
    """The handler's module and every shiftsms module it imports, transitively."""
    start = handler.rsplit(".", 1)[0]
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path is None:
            continue
        yield path
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith(("shiftsms", "lambdas")):
                    todo.append(node.module)
                    todo.extend(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                todo.extend(a.name for a in node.names if a.name.startswith("shiftsms"))


def settings_used(paths: Iterator[Path]) -> set[str]:
    """Attributes read from a ``settings`` object (``settings.x``, ``self.settings.x``)."""
    used: set[str] = set()
    for path in paths:
        for node in ast.walk(_parse(path)):
            if isinstance(node, ast.Attribute):
                owner = node.value
                name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
                if name == "settings":
                    used.add(node.attr)
    return used


# Variables whose settings check their shape; every other variable is set to "1".
SAMPLE_VALUES = {
    "MAX_PRICE_PER_MESSAGE": "0.20",
    "MANAGER_NUMBERS": "+447700900901",
    "QUIET_HOURS": "22:00-07:00",
}


class RecordingEnv(Mapping[str, str]):
    """An environment holding ``names`` (each "1" or its sample) that records every name read."""

    def __init__(self, names: set[str]) -> None:
        self.values = {n: SAMPLE_VALUES.get(n, "1") for n in names}
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self.values.get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def settings_class(handler: str) -> type:
    """The settings class whose ``from_env`` the code behind ``handler`` calls (exactly one)."""
    found = set()
    for path in handler_modules(handler):
        for node in ast.walk(_parse(path)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "from_env"
                and isinstance(node.value, ast.Name)
            ):
                found.add(node.value.id)
    assert len(found) == 1, f"{handler}: expected one settings class, found {sorted(found)}"
    return getattr(settings_module, found.pop())  # type: ignore[no-any-return]


def function_env(fn: dict[str, Any]) -> set[str]:
    """The function's variables, less Powertools' own (Powertools reads those itself)."""
    env = set(fn["Properties"].get("Environment", {}).get("Variables", {}))
    return {n for n in env if not n.startswith("POWERTOOLS_")}


def test_each_function_is_given_exactly_the_variables_its_settings_read(
    template: dict[str, Any],
) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert set(functions) == {
        "InboundFunction",
        "CampaignFunction",
        "SenderFunction",
        "DueFunction",
        "ShiftKeyFunction",
        "DeliveryFunction",
        "AuditFunction",
    }
    classes = {}
    for name, fn in functions.items():
        handler = fn["Properties"]["Handler"]
        cls = settings_class(handler)
        classes[name] = cls.__name__
        given = function_env(fn)
        env = RecordingEnv(given)
        cls.from_env(env)
        assert not env.read - given, f"{name} reads {sorted(env.read - given)}, unset"
        assert not given - env.read, f"{name} is given {sorted(given - env.read)}, never read"
        unused = {f.name for f in fields(cls)} - settings_used(handler_modules(handler))
        assert not unused, f"{name}: {cls.__name__} fields never used: {sorted(unused)}"
    assert classes == {
        "InboundFunction": "InboundSettings",
        "CampaignFunction": "FanOutSettings",
        "SenderFunction": "SenderSettings",
        "DueFunction": "DueSettings",
        "ShiftKeyFunction": "ShiftKeySettings",
        "DeliveryFunction": "DeliverySettings",
        "AuditFunction": "AuditSettings",
    }
    read = set().union(*(env_reads(_parse(p)) for p in LAMBDA_CODE))
    assert read >= {"SHIFTS_TABLE", "STAFF_TABLE", "ORIGINATION_IDENTITY", "SEND_QUEUE_URL"}
    set_anywhere = set().union(*(function_env(fn) for fn in functions.values()))
    assert not read - set_anywhere, f"read by the code, set by no function: {read - set_anywhere}"


def _tables_named(node: Any, tables: set[str]) -> set[str]:
    """Logical ids of ``tables`` that ``node`` names (``!Ref``, ``!GetAtt``, ``!Sub``)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and value in tables:
                found.add(value)
            elif key == "Fn::GetAtt" and isinstance(value, list) and value[0] in tables:
                found.add(value[0])
            elif key == "Fn::Sub" and isinstance(value, str):
                found |= {t for t in tables if "${" + t + "." in value}
            else:
                found |= _tables_named(value, tables)
    elif isinstance(node, list):
        for item in node:
            found |= _tables_named(item, tables)
    return found


def test_each_function_may_use_exactly_the_tables_it_is_given(template: dict[str, Any]) -> None:
    tables = set(resources(template, "AWS::DynamoDB::Table"))
    granted = {}
    for name, fn in resources(template, "AWS::Lambda::Function").items():
        role = template["Resources"][fn["Properties"]["Role"]["Fn::GetAtt"][0]]
        policies = role["Properties"]["Policies"]
        given = _tables_named(fn["Properties"]["Environment"]["Variables"], tables)
        allowed = _tables_named(policies, tables)
        assert given == allowed, f"{name}: tables given {sorted(given)}, allowed {sorted(allowed)}"
        granted[name] = sorted(given)
    assert granted == {
        "InboundFunction": ["CampaignsTable", "ShiftsTable", "StaffTable", "StateTable"],
        "CampaignFunction": ["CampaignsTable", "StaffTable"],
        "SenderFunction": ["CampaignsTable", "ShiftsTable", "StaffTable", "StateTable"],
        "DueFunction": ["CampaignsTable", "ShiftsTable", "StaffTable", "StateTable"],
        "ShiftKeyFunction": ["ShiftsTable"],
        "DeliveryFunction": ["CampaignsTable", "StateTable"],
        "AuditFunction": ["AuditTable", "CampaignsTable", "ShiftsTable", "StaffTable"],
    }


def _outputs_read(tree: ast.AST) -> set[str]:
    """Output keys read as ``x.output("K")``, ``outputs["K"]``, ``out.get("K")``."""

    def is_outputs(node: ast.AST) -> bool:
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        return name in {"out", "outputs"}

    found: set[str] = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and is_outputs(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.args
            and (
                node.func.attr == "output"
                or (node.func.attr == "get" and is_outputs(node.func.value))
            )
        ):
            key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.add(key.value)
    return found


def test_every_output_the_cli_reads_exists(template: dict[str, Any]) -> None:
    read = set().union(*(_outputs_read(_parse(p)) for p in (ROOT / "shiftsms").rglob("*.py")))
    # StackInfo.settings() and the deploy code read these at least.
    assert read >= {
        "ShiftsTableName",
        "StaffTableName",
        "CampaignsTableName",
        "StateTableName",
        "InboundTopicArn",
        "OriginationIdentity",
        "SendQueueUrl",
    }
    outputs = template["Outputs"]
    assert not read - set(outputs), f"read but not in the template: {read - set(outputs)}"
    conditional = {k for k in read if "Condition" in outputs[k]}
    assert not conditional, f"read but only sometimes there: {conditional}"


def test_sample_parameters_keep_their_names(template: dict[str, Any]) -> None:
    assert set(SAMPLE_PARAMETERS) <= set(template["Parameters"])
    # Everything but the origination number has a default, so a minimal deploy works.
    required = {k for k, v in template["Parameters"].items() if "Default" not in v}
    assert required == {"OriginationNumber", "CodeBucket", "CodeKey"}


def test_functions_are_current_arm64_with_encrypted_env_and_retained_logs(
    template: dict[str, Any],
) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    for name, fn in resources(template, "AWS::Lambda::Function").items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["KmsKeyArn"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}, name
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert "RetentionInDays" in groups[group]["Properties"], name
        assert groups[group]["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["EncryptionKey", "Arn"]}


def test_data_is_encrypted_with_the_customer_key_and_retained(template: dict[str, Any]) -> None:
    key = template["Resources"]["EncryptionKey"]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    for name, table in resources(template, "AWS::DynamoDB::Table").items():
        sse = table["Properties"]["SSESpecification"]
        assert sse["KMSMasterKeyId"] == {"Ref": "EncryptionKey"}, name
    for name in ("ShiftsTable", "StaffTable", "CampaignsTable"):
        assert template["Resources"][name]["DeletionPolicy"] == "Retain"
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}, name
    for name in ("InboundTopic", "DeliveryEventsTopic"):
        topic = template["Resources"][name]["Properties"]
        assert topic["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}, name


def test_end_user_messaging_may_publish_only_for_this_account(template: dict[str, Any]) -> None:
    policies = resources(template, "AWS::SNS::TopicPolicy")
    topics = {name: p["Properties"]["Topics"] for name, p in policies.items()}
    # inbound SMS, and the configuration set's text events
    assert topics == {
        "InboundTopicPolicy": [{"Ref": "InboundTopic"}],
        "DeliveryEventsTopicPolicy": [{"Ref": "DeliveryEventsTopic"}],
    }
    for policy in policies.values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "sms-voice.amazonaws.com"}
        assert statement["Action"] == "sns:Publish"
        condition = statement["Condition"]["StringEquals"]["aws:SourceAccount"]
        assert condition == {"Ref": "AWS::AccountId"}
    key_statements = template["Resources"]["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
    sms = [s for s in key_statements if s["Principal"].get("Service") == "sms-voice.amazonaws.com"]
    assert len(sms) == 1
    assert sms[0]["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}


def _statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                condition, yes, _no = statement["Fn::If"]
                yield {**yes, "_condition": condition}
            else:
                yield statement


def _leaves(value: Any) -> Iterator[Any]:
    """Every string or intrinsic a Resource may take, through !If branches and lists."""
    if isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict) and "Fn::If" in value:
        yield from _leaves(value["Fn::If"][1])
        yield from _leaves(value["Fn::If"][2])
    else:
        yield value


def test_roles_name_actions_and_resources(template: dict[str, Any]) -> None:
    roles = resources(template, "AWS::IAM::Role")
    assert {"InboundFunctionRole"} <= set(roles)
    for name, role in roles.items():
        for statement in _statements(role):
            actions = statement["Action"]
            for action in actions if isinstance(actions, list) else [actions]:
                assert "*" not in action, f"{name}: wildcard action {action}"
                if action.startswith("connect:"):
                    assert statement.get("_condition") == "ConnectEnabled", name
            for resource in _leaves(statement["Resource"]):
                assert resource != "*", f"{name}: {actions} on every resource"
                if isinstance(resource, dict) and "Fn::Sub" in resource:
                    assert not resource["Fn::Sub"].endswith(":*"), f"{name}: {resource}"


def test_inbound_failures_go_to_a_queue_after_bounded_retries(template: dict[str, Any]) -> None:
    configs = resources(template, "AWS::Lambda::EventInvokeConfig")
    assert set(configs) == {"InboundEventInvokeConfig", "DueEventInvokeConfig"}
    props = configs["InboundEventInvokeConfig"]["Properties"]
    assert props["FunctionName"] == {"Ref": "InboundFunction"}
    assert 0 <= props["MaximumRetryAttempts"] <= 2
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["InboundFailureQueue", "Arn"]
    }


def test_checkov_suppressions_say_why(template: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, res in template["Resources"].items()
        for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert skip["id"].startswith("CKV_"), name
        assert len(skip.get("comment", "")) > 30, f"{name}: {skip['id']} needs a reason"


def test_every_queue_is_an_output_named_for_its_role(template: dict[str, Any]) -> None:
    """`shiftsms status` finds queues from outputs only: ...QueueUrl, or ...DlqUrl for DLQs."""
    queues = set(resources(template, "AWS::SQS::Queue"))
    dead_letter = dead_letter_queues(template)
    assert dead_letter == {
        "SendDLQ",
        "CampaignStreamDLQ",
        "InboundFailureQueue",
        "ReplyDLQ",
        "ShiftKeyStreamDLQ",
        "DeliveryDLQ",
        "AuditStreamDLQ",
    }
    assert queues >= dead_letter | {"SendQueue", "ReplyQueue"}
    outputs = {
        out["Value"]["Ref"]: key
        for key, out in template["Outputs"].items()
        if isinstance(out["Value"], dict) and out["Value"].get("Ref") in queues
    }
    assert set(outputs) == queues, f"queues without an output: {queues - set(outputs)}"
    for queue, key in outputs.items():
        suffix = "DlqUrl" if queue in dead_letter else "QueueUrl"
        assert key.endswith(suffix), f"{queue}'s output {key} should end in {suffix}"
        assert "Condition" not in template["Outputs"][key], key
    others = [k for k in template["Outputs"] if k.endswith(("QueueUrl", "DlqUrl"))]
    assert sorted(others) == sorted(outputs.values()), "a queue-named output that is no queue"


# -- alarms -------------------------------------------------------------------------------

ALARM = "AWS::CloudWatch::Alarm"
# The name every alarm of the stack starts with, as the template writes it.
STACK_ALARM_PREFIX = alarm_prefix("${AWS::StackName}")


def _arn_of(node: Any) -> str | None:
    """The logical id ``!GetAtt X.Arn`` or ``!Ref X`` names."""
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        return str(node["Fn::GetAtt"][0])
    if isinstance(node, dict) and "Ref" in node:
        return str(node["Ref"])
    return None


def dead_letter_queues(tpl: dict[str, Any]) -> set[str]:
    """Queues that failed work ends in: a redrive target, an on-failure destination, a DLQ."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "deadLetterTargetArn":
                    found.add(_arn_of(value) or "")
                elif key == "OnFailure" and isinstance(value, dict):
                    found.add(_arn_of(value.get("Destination")) or "")
                elif key == "DeadLetterConfig" and isinstance(value, dict):
                    found.add(_arn_of(value.get("TargetArn")) or "")
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v.get("Properties", {}) for k, v in tpl["Resources"].items()})
    return found & set(resources(tpl, "AWS::SQS::Queue"))


def _dimension(alarm: dict[str, Any]) -> dict[str, Any]:
    """The one dimension of a single-metric alarm."""
    (dimension,) = alarm["Properties"]["Dimensions"]
    return dimension  # type: ignore[no-any-return]


def test_every_dead_letter_queue_has_an_alarm_on_a_message_in_it(
    template: dict[str, Any],
) -> None:
    dlqs = dead_letter_queues(template)
    assert {"SendDLQ", "CampaignStreamDLQ", "InboundFailureQueue"} <= dlqs
    # Every other queue hands its poison to a DLQ, so no failure can hide in a queue unseen.
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        assert name in dlqs or "RedrivePolicy" in queue["Properties"], name
    watched = {}
    for name, alarm in resources(template, ALARM).items():
        if alarm["Properties"].get("Namespace") == "AWS/SQS":
            dimension = _dimension(alarm)
            assert dimension["Name"] == "QueueName", name
            watched[dimension["Value"]["Fn::GetAtt"][0]] = alarm["Properties"]
    missing = dlqs - set(watched)
    assert not missing, f"dead-letter queues without an alarm: {sorted(missing)}"
    for queue, props in watched.items():
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible", queue
        assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
        assert props["Statistic"] == "Maximum", queue


def test_every_function_has_an_alarm_on_its_errors(template: dict[str, Any]) -> None:
    watched = set()
    for name, alarm in resources(template, ALARM).items():
        if alarm["Properties"].get("Namespace") == "AWS/Lambda":
            dimension = _dimension(alarm)
            metric = alarm["Properties"]["MetricName"]
            assert (metric, dimension["Name"]) == ("Errors", "FunctionName"), name
            assert alarm["Properties"]["Statistic"] == "Sum", name
            assert alarm["Properties"]["Threshold"] == 0, name
            watched.add(dimension["Value"]["Ref"])
    assert watched == set(resources(template, "AWS::Lambda::Function"))


def test_delivery_failure_rate_alarm_reads_the_metrics_the_code_names(
    template: dict[str, Any],
) -> None:
    props = template["Resources"]["DeliveryFailureRateAlarm"]["Properties"]
    queries = {q["Id"]: q for q in props["Metrics"]}
    stats = {i: q["MetricStat"]["Metric"] for i, q in queries.items() if "MetricStat" in q}
    service = [{"Name": "service", "Value": metrics.SERVICE}]
    assert stats == {
        "delivered": {
            "Namespace": metrics.NAMESPACE,
            "MetricName": metrics.TEXTS_DELIVERED,
            "Dimensions": service,
        },
        "failed": {
            "Namespace": metrics.NAMESPACE,
            "MetricName": metrics.TEXTS_FAILED,
            "Dimensions": service,
        },
    }
    (returned,) = [q for q in queries.values() if q["ReturnData"]]
    assert (
        "100 * FILL(failed, 0) / (FILL(delivered, 0) + FILL(failed, 0))" in returned["Expression"]
    )
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 10)
    # Powertools adds the service dimension from the functions' own setting.
    for name, fn in resources(template, "AWS::Lambda::Function").items():
        variables = fn["Properties"]["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == metrics.SERVICE, name


def test_alarms_are_named_for_the_stack_and_notify_the_alarm_topic(
    template: dict[str, Any],
) -> None:
    alarms = resources(template, ALARM)
    assert (
        len(alarms)
        == len(dead_letter_queues(template)) + len(resources(template, "AWS::Lambda::Function")) + 1
    )  # the delivery failure rate
    topic = {"Ref": "AlarmTopic"}
    for name, alarm in alarms.items():
        props = alarm["Properties"]
        sub = props["AlarmName"]["Fn::Sub"]
        assert sub.startswith(STACK_ALARM_PREFIX), name
        assert re.fullmatch(r"[a-z0-9-]+", sub[len(STACK_ALARM_PREFIX) :]), name
        assert props["AlarmActions"] == [topic] and props["OKActions"] == [topic], name
        assert props["TreatMissingData"] == "notBreaching", name
        assert len(props.get("AlarmDescription", "")) > 20, name
    names = [a["Properties"]["AlarmName"]["Fn::Sub"] for a in alarms.values()]
    assert len(set(names)) == len(names)


def test_alarm_topic_is_encrypted_and_emails_only_when_asked(template: dict[str, Any]) -> None:
    for name, topic in resources(template, "AWS::SNS::Topic").items():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "EncryptionKey"}, name
    (subscription,) = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    assert template["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    statements = template["Resources"]["EncryptionKey"]["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [
        s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert cloudwatch["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_the_max_price_is_given_to_every_function_that_sends(template: dict[str, Any]) -> None:
    given = {
        name
        for name, fn in resources(template, "AWS::Lambda::Function").items()
        if fn["Properties"]["Environment"]["Variables"].get("MAX_PRICE_PER_MESSAGE")
        == {"Ref": "MaxPricePerMessage"}
    }
    sending = {
        name
        for name, fn in resources(template, "AWS::Lambda::Function").items()
        if any(
            "sms-voice:SendTextMessage" in json.dumps(s["Action"])
            for s in _statements(template["Resources"][fn["Properties"]["Role"]["Fn::GetAtt"][0]])
        )
    }
    assert given == sending == {"InboundFunction", "SenderFunction", "DueFunction"}
    param = template["Parameters"]["MaxPricePerMessage"]
    pattern = param["AllowedPattern"]
    for accepted in (param["Default"], "", "0.05", "12.34567"):
        assert re.fullmatch(pattern, accepted), accepted
    for refused in ("1", "0.123456", "100.00", "$0.20"):
        assert not re.fullmatch(pattern, refused), refused


def test_timed_shift_parameters_reach_the_inbound_function_and_the_cli(
    template: dict[str, Any],
) -> None:
    params = template["Parameters"]
    assert params["TimeZone"]["Default"] == "Europe/London"
    assert params["MinRestHours"]["Default"] == 11
    assert params["MaxWeeklyHours"]["Default"] == 48
    env = template["Resources"]["InboundFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TIME_ZONE"] == {"Ref": "TimeZone"}
    assert env["MIN_REST_HOURS"] == {"Ref": "MinRestHours"}
    assert env["MAX_WEEKLY_HOURS"] == {"Ref": "MaxWeeklyHours"}
    assert template["Outputs"]["TimeZone"]["Value"] == {"Ref": "TimeZone"}


def test_shifts_keep_the_status_index_and_gain_a_start_index(template: dict[str, Any]) -> None:
    indexes = {
        i["IndexName"]: i
        for i in template["Resources"]["ShiftsTable"]["Properties"]["GlobalSecondaryIndexes"]
    }
    assert set(indexes) == {"by-status", "by-start"}
    assert indexes["by-status"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["shift_info", "employee", "booked_at"],
    }
    assert [k["AttributeName"] for k in indexes["by-start"]["KeySchema"]] == [
        "shift_status",
        "start_key",
    ]
    assert indexes["by-start"]["Projection"] == {"ProjectionType": "ALL"}


def test_only_console_items_inserted_reach_the_shift_key_function(
    template: dict[str, Any],
) -> None:
    mapping = template["Resources"]["ShiftKeyStreamMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["ShiftsTable", "StreamArn"]}
    console = {"shift_id": {"S": "xYz123"}, "shift_status": {"S": "available"}}
    ours = {**console, "start_key": {"S": "~untimed"}}

    def passes(event: str, image: dict[str, Any] | None) -> bool:
        record = {"eventName": event, "dynamodb": {"NewImage": image} if image else {}}
        return passes_filters(mapping, record)

    assert passes("INSERT", console)
    assert [passes("MODIFY", console), passes("INSERT", ours), passes("REMOVE", None)] == [
        False,
        False,
        False,
    ]


def test_the_inbound_role_may_book_in_a_transaction_and_read_the_start_index(
    template: dict[str, Any],
) -> None:
    role = template["Resources"]["InboundFunctionRole"]
    granted: dict[str, list[Any]] = {}
    for statement in _statements(role):
        actions = statement["Action"]
        for action in actions if isinstance(actions, list) else [actions]:
            granted.setdefault(action, []).extend(_leaves(statement["Resource"]))
    # TransactWriteItems is authorised per part: UpdateItem and ConditionCheckItem.
    assert {"Fn::GetAtt": ["StaffTable", "Arn"]} in granted["dynamodb:UpdateItem"]
    assert {"Fn::GetAtt": ["StaffTable", "Arn"]} in granted["dynamodb:ConditionCheckItem"]
    assert {"Fn::GetAtt": ["ShiftsTable", "Arn"]} in granted["dynamodb:BatchGetItem"]
    assert {"Fn::Sub": "${ShiftsTable.Arn}/index/by-start"} in granted["dynamodb:Query"]


def test_due_work_runs_every_minute_over_a_sparse_index_without_retries(
    template: dict[str, Any],
) -> None:
    (rule,) = resources(template, "AWS::Events::Rule").values()
    props = rule["Properties"]
    assert (props["ScheduleExpression"], props["State"]) == ("rate(1 minute)", "ENABLED")
    assert props["Targets"] == [{"Id": "due", "Arn": {"Fn::GetAtt": ["DueFunction", "Arn"]}}]
    permission = template["Resources"]["DueInvokePermission"]["Properties"]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "DueFunction"},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": ["DueSchedule", "Arn"]},
    }
    retry = template["Resources"]["DueEventInvokeConfig"]["Properties"]
    assert (retry["MaximumRetryAttempts"], retry["MaximumEventAgeInSeconds"]) == (0, 60)
    state = template["Resources"]["StateTable"]["Properties"]
    # One index for due work and send records: CloudFormation adds one GSI per update.
    (index,) = state["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by-group"
    assert [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]] == [
        ("group_id", "HASH"),
        ("group_key", "RANGE"),
    ]
    # A run outlives no lease: the function times out before its claim lapses.
    assert template["Resources"]["DueFunction"]["Properties"]["Timeout"] < LEASE_SECONDS


def test_text_events_flow_from_the_configuration_set_to_the_delivery_function(
    template: dict[str, Any],
) -> None:
    res = template["Resources"]
    (destination,) = res["ConfigurationSet"]["Properties"]["EventDestinations"]
    assert destination["Enabled"] is True
    assert destination["MatchingEventTypes"] == ["TEXT_ALL"]
    assert destination["SnsDestination"] == {"TopicArn": {"Ref": "DeliveryEventsTopic"}}
    (subscription,) = res["DeliveryEventsTopic"]["Properties"]["Subscription"]
    assert subscription == {"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["DeliveryQueue", "Arn"]}}
    mapping = res["DeliveryQueueMapping"]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["DeliveryQueue", "Arn"]}
    assert mapping["FunctionName"] == {"Ref": "DeliveryFunction"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    redrive = res["DeliveryQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeliveryDLQ", "Arn"]}
    # every function that texts names the configuration set
    for name in ("InboundFunction", "SenderFunction"):
        env = res[name]["Properties"]["Environment"]["Variables"]
        assert env["CONFIGURATION_SET"] == {"Ref": "ConfigurationSet"}, name

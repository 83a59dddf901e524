"""Texts reach staff countries only: the stack's protect configuration, the deploy that
blocks every other country in it, the sends that name it, and the sandbox honouring it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import phonenumbers
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from cfnlint.decode import decode

from shiftsms.aws.sms import EndUserMessagingSms
from shiftsms.deploy.protect import allowed_countries, apply_country_rules
from shiftsms.errors import DeployError, DestinationBlocked, SendRejected
from shiftsms.local.aws import client, environment
from shiftsms.local.emulator import Emulator
from shiftsms.local.protect import REGISTRY
from shiftsms.settings import InboundSettings, SenderSettings
from tests.clitools import invoke
from tests.conftest import REGION, TEMPLATE, Deployed, function_environment
from tests.sms_voice import InProcessSmsVoice
from tests.test_deploy import deploy, moto_server  # noqa: F401 (a fixture)
from tests.test_local_sandbox import base_env, down, free_port, shiftsms, up

SERVICE = "+447700900000"
ANA = "+447700900123"
PIERRE = "+33612345678"  # a French mobile: not a staff country
PROTECT_ID = "protect-0123456789abcdef"
PROTECT_ARN = f"arn:aws:sms-voice:{REGION}:123456789012:protect-configuration/{PROTECT_ID}"


def sms_client() -> Any:
    return boto3.client("pinpoint-sms-voice-v2", region_name=REGION)


def rule_set(rules: dict[str, str]) -> dict[str, Any]:
    return {
        "ProtectConfigurationArn": PROTECT_ARN,
        "ProtectConfigurationId": PROTECT_ID,
        "NumberCapability": "SMS",
        "CountryRuleSet": {c: {"ProtectStatus": s} for c, s in rules.items()},
    }


GET = {"ProtectConfigurationId": PROTECT_ID, "NumberCapability": "SMS"}


# -- the template ----------------------------------------------------------------------------


def test_every_function_that_sends_names_the_stacks_protect_configuration(
    deployed: Deployed,
) -> None:
    protect_id = deployed.outputs["ProtectConfigurationId"]
    assert protect_id.startswith("protect-")
    for output, settings in (
        ("InboundFunctionName", InboundSettings),
        ("SenderFunctionName", SenderSettings),
    ):
        env = function_environment(deployed.outputs[output])
        assert env["PROTECT_CONFIGURATION_ID"] == protect_id, output
        assert settings.from_env(env).protect_configuration_id == protect_id
    # the fan-out sends nothing itself
    assert "PROTECT_CONFIGURATION_ID" not in function_environment(
        deployed.outputs["CampaignFunctionName"]
    )


def test_allowed_countries_parameter_takes_codes_and_is_recorded_on_the_resource() -> None:
    tpl, problems = decode(str(TEMPLATE))
    assert not problems
    assert isinstance(tpl, dict)
    param = tpl["Parameters"]["AllowedCountries"]
    assert param["Default"] == ""
    pattern = param["AllowedPattern"]
    for ok in ("", "GB", "GB,IE,US"):
        assert re.fullmatch(pattern, ok), ok
    for bad in ("gb", "GB,", "GBR", "GB IE"):
        assert not re.fullmatch(pattern, bad), bad
    resource = tpl["Resources"]["ProtectConfiguration"]
    assert resource["Type"] == "AWS::SMSVOICE::ProtectConfiguration"
    tags = {t["Key"]: t["Value"] for t in resource["Properties"]["Tags"]}
    assert tags["AllowedCountries"] == {
        "Fn::Join": [" ", {"Fn::Split": [",", {"Ref": "AllowedCountries"}]}]
    }


def test_senders_may_send_through_the_protect_configuration_only() -> None:
    tpl, _ = decode(str(TEMPLATE))
    assert isinstance(tpl, dict)
    for role in ("InboundFunctionRole", "SenderFunctionRole"):
        statements = tpl["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"
        ]
        protect = [
            s
            for s in statements
            if isinstance(s, dict)
            and s.get("Resource") == {"Fn::GetAtt": ["ProtectConfiguration", "Arn"]}
        ]
        assert [s["Action"] for s in protect] == ["sms-voice:SendTextMessage"], role


# -- the SMS adapter -------------------------------------------------------------------------


def test_every_send_names_the_protect_configuration() -> None:
    sms = sms_client()
    expected = {
        "DestinationPhoneNumber": ANA,
        "OriginationIdentity": SERVICE,
        "MessageBody": "Booked: XYZ123. Thank you!",
        "MessageType": "TRANSACTIONAL",
        "ProtectConfigurationId": PROTECT_ID,
    }
    with Stubber(sms) as stub:
        stub.add_response("send_text_message", {"MessageId": "m-1"}, expected)
        sender = EndUserMessagingSms(sms, protect_configuration=PROTECT_ID)
        assert sender.send(ANA, "Booked: XYZ123. Thank you!", SERVICE) == "m-1"
        stub.assert_no_pending_responses()


def test_a_blocked_country_is_a_permanent_refusal_without_the_number() -> None:
    sms = sms_client()
    with Stubber(sms) as stub:
        stub.add_client_error(
            "send_text_message",
            service_error_code="ConflictException",
            service_message=f"Destination {PIERRE} is blocked",
            http_status_code=400,
            modeled_fields={
                "Message": f"Destination {PIERRE} is blocked",
                "Reason": "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION",
                "ResourceType": "protect-configuration",
                "ResourceId": PROTECT_ID,
            },
        )
        with pytest.raises(DestinationBlocked) as caught:
            EndUserMessagingSms(sms, protect_configuration=PROTECT_ID).send(PIERRE, "hi", SERVICE)
    assert isinstance(caught.value, SendRejected)  # the sender and inbound never retry these
    assert str(caught.value) == (
        "ConflictException: DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"
    )
    assert "612345678" not in str(caught.value)


# -- the deploy's rule set -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "origination", "default", "expected"),
    [
        ("GB,IE", SERVICE, "GB", ("GB", "IE")),
        (" ie , gb,IE", SERVICE, "GB", ("IE", "GB")),
        ("", "+14255550182", "GB", ("US",)),
        ("", SERVICE, "US", ("GB",)),
        ("", "pool-0123456789abcdef", "IE", ("IE",)),
        ("", "phone-0123456789abcdef", "GB", ("GB",)),
    ],
)
def test_allowed_countries_default_to_the_origination_numbers(
    raw: str, origination: str, default: str, expected: tuple[str, ...]
) -> None:
    assert allowed_countries(raw, origination, default) == expected


def test_every_country_but_the_allowed_is_blocked_in_one_request() -> None:
    sms = sms_client()
    with Stubber(sms) as stub:
        stub.add_response(
            "get_protect_configuration_country_rule_set",
            rule_set({"FR": "ALLOW", "GB": "ALLOW", "IE": "BLOCK", "US": "BLOCK"}),
            GET,
        )
        stub.add_response(
            "update_protect_configuration_country_rule_set",
            rule_set({"FR": "BLOCK", "GB": "ALLOW", "IE": "ALLOW", "US": "BLOCK"}),
            {
                **GET,
                "CountryRuleSetUpdates": {
                    "FR": {"ProtectStatus": "BLOCK"},
                    "IE": {"ProtectStatus": "ALLOW"},
                },
            },
        )
        result = apply_country_rules(sms, PROTECT_ID, ("GB", "IE"))
        stub.assert_no_pending_responses()
    assert (result.allowed, result.blocked, result.changed) == (("GB", "IE"), 2, 2)


def test_rules_already_in_place_are_not_sent_again() -> None:
    sms = sms_client()
    with Stubber(sms) as stub:
        stub.add_response(
            "get_protect_configuration_country_rule_set",
            rule_set({"FR": "BLOCK", "GB": "ALLOW", "US": "BLOCK"}),
            GET,
        )
        result = apply_country_rules(sms, PROTECT_ID, ("GB",))
        stub.assert_no_pending_responses()  # no UpdateProtectConfigurationCountryRuleSet
    assert (result.blocked, result.changed) == (2, 0)


def test_an_empty_rule_set_blocks_every_region_phonenumbers_knows() -> None:
    regions = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if len(r) == 2)
    assert len(regions) > 200
    sms = sms_client()
    updates = {r: {"ProtectStatus": "ALLOW" if r == "GB" else "BLOCK"} for r in regions}
    with Stubber(sms) as stub:
        stub.add_response("get_protect_configuration_country_rule_set", rule_set({}), GET)
        stub.add_response(
            "update_protect_configuration_country_rule_set",
            rule_set({}),
            {**GET, "CountryRuleSetUpdates": updates},
        )
        result = apply_country_rules(sms, PROTECT_ID, ("GB",))
        stub.assert_no_pending_responses()
    assert (result.blocked, result.changed) == (len(regions) - 1, len(regions))


def test_a_country_end_user_messaging_does_not_know_is_refused() -> None:
    sms = sms_client()
    with Stubber(sms) as stub:
        stub.add_response(
            "get_protect_configuration_country_rule_set",
            rule_set({"FR": "ALLOW", "GB": "ALLOW"}),
            GET,
        )
        with pytest.raises(DeployError, match="AllowedCountries names ZZ"):
            apply_country_rules(sms, PROTECT_ID, ("GB", "ZZ"))
        stub.assert_no_pending_responses()  # nothing was changed


def test_deploy_blocks_other_countries_and_a_second_deploy_changes_nothing(
    moto_server: str,  # noqa: F811 (the fixture)
    sms_voice: InProcessSmsVoice,
) -> None:
    result = deploy()
    assert result.exit_code == 0, result.output
    assert "Blocking texts to every country but GB" in result.output
    cf = boto3.client("cloudformation", region_name=REGION)
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cf.describe_stacks(StackName="shiftsms")["Stacks"][0]["Outputs"]
    }
    item = REGISTRY.find(outputs["ProtectConfigurationId"])
    assert item is not None
    assert [item.status("SMS", c) for c in ("GB", "FR", "US", "IE")] == [
        "ALLOW",
        "BLOCK",
        "BLOCK",
        "BLOCK",
    ]
    assert [name for name, _ in sms_voice.calls] == [
        "GetProtectConfigurationCountryRuleSet",
        "UpdateProtectConfigurationCountryRuleSet",
    ]
    again = invoke("deploy", "--yes")
    assert again.exit_code == 0, again.output
    assert [name for name, _ in sms_voice.calls[2:]] == ["GetProtectConfigurationCountryRuleSet"]


def test_allowed_countries_option_sets_the_parameter_and_the_rules(
    moto_server: str,  # noqa: F811 (the fixture)
) -> None:
    result = deploy("--allowed-countries", "gb, ie")
    assert result.exit_code == 0, result.output
    assert "Blocking texts to every country but GB, IE" in result.output
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="shiftsms"
    )["Stacks"][0]
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert params["AllowedCountries"] == "GB,IE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    item = REGISTRY.find(outputs["ProtectConfigurationId"])
    assert item is not None
    assert [item.status("SMS", c) for c in ("GB", "IE", "FR")] == ["ALLOW", "ALLOW", "BLOCK"]


# -- the sandbox -----------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    em = Emulator(port=0).start()
    em.telecom.add_number(SERVICE)
    try:
        yield em
    finally:
        em.stop()


def test_sandbox_refuses_a_blocked_country_as_end_user_messaging_does(emulator: Emulator) -> None:
    protect = REGISTRY.create(REGION)
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    rules = sms.get_protect_configuration_country_rule_set(
        ProtectConfigurationId=protect.protect_id, NumberCapability="SMS"
    )["CountryRuleSet"]
    assert {rules["GB"]["ProtectStatus"], rules["FR"]["ProtectStatus"]} == {"ALLOW"}  # as new
    sms.update_protect_configuration_country_rule_set(
        ProtectConfigurationId=protect.protect_id,
        NumberCapability="SMS",
        CountryRuleSetUpdates={"FR": {"ProtectStatus": "BLOCK"}},
    )

    with pytest.raises(ClientError) as caught:
        sms.send_text_message(
            DestinationPhoneNumber=PIERRE,
            OriginationIdentity=SERVICE,
            MessageBody="hi",
            MessageType="TRANSACTIONAL",
            ProtectConfigurationId=protect.protect_id,
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "ConflictException"
    assert error["Reason"] == "DESTINATION_COUNTRY_BLOCKED_BY_PROTECT_CONFIGURATION"
    assert (error["ResourceType"], error["ResourceId"]) == (
        "protect-configuration",
        protect.protect_id,
    )

    sender = EndUserMessagingSms(sms, protect_configuration=protect.protect_id)
    with pytest.raises(DestinationBlocked):
        sender.send(PIERRE, "New shifts", SERVICE)
    assert sender.send(ANA, "New shifts", SERVICE)
    assert [t.destination for t in emulator.telecom.texts()] == [ANA]


def test_sandbox_does_not_know_a_protect_configuration_it_never_created(
    emulator: Emulator,
) -> None:
    sms = client("pinpoint-sms-voice-v2", emulator.endpoint)
    with pytest.raises(SendRejected, match=r"^ResourceNotFoundException"):
        EndUserMessagingSms(sms, protect_configuration=PROTECT_ID).send(ANA, "hi", SERVICE)
    assert emulator.telecom.texts() == []


@pytest.mark.slow
def test_sandbox_campaign_never_texts_a_number_in_another_country(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    port = free_port()
    env = base_env(tmp_path)
    pid = up(folder, port, env)
    aws = {**env, **environment(f"http://127.0.0.1:{port}")}
    try:
        for args in (
            ("allowlist", "add", ANA, "--name", "Ana"),
            ("allowlist", "add", PIERRE, "--name", "Pierre"),
            ("shifts", "add", "XYZ123", "--info", "15/08 5h nightshift"),
            ("campaign", "create", "C1", "--shifts", "XYZ123", "--yes"),
        ):
            result = shiftsms(*args, env=aws)
            assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 90
        summary: dict[str, Any] = {}
        while time.monotonic() < deadline:
            shown = shiftsms("campaign", "show", "C1", "--json", env=aws)
            summary = json.loads(shown.stdout) if shown.returncode == 0 else {}
            if summary.get("sent", 0) + summary.get("failed", 0) == 2:
                break
            time.sleep(1)
        assert (summary["recipients"], summary["sent"], summary["failed"]) == (2, 1, 1)
        outbox = shiftsms("local", "outbox", "--json", "--state-dir", str(folder), env=env)
        texts = json.loads(outbox.stdout)
        assert [t["destination"] for t in texts] == [ANA]
    finally:
        down(folder, port, pid, env)

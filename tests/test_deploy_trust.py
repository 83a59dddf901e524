"""The deploy trusts only its own account's artifacts bucket (every S3 request pinned)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from shiftsms.deploy import deployer as deployer_module
from shiftsms.deploy.deployer import Deployer
from shiftsms.deploy.stack import StackOps
from shiftsms.errors import BucketNotOurs, DeployError
from tests.clitools import invoke
from tests.conftest import REGION

ACCOUNT = "123456789012"
BUCKET = f"shiftsms-artifacts-{ACCOUNT}-{REGION}"
KEY = "shiftsms/bundles/abc.zip"
OWNER = {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT}
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}
NOT_OURS = (
    f"bucket {BUCKET} is not owned by account {ACCOUNT} (403): it is never used; "
    "pass --s3-bucket with a bucket of this account"
)


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


class Stubbed:
    """Stubbed cloudformation, sts and s3 clients, and a Deployer on them."""

    def __init__(self) -> None:
        self.clients = {name: client(name) for name in ("cloudformation", "sts", "s3")}
        self.stubs = {name: Stubber(c) for name, c in self.clients.items()}
        self.stubs["sts"].add_response(
            "get_caller_identity",
            {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/op", "UserId": "AID"},
            {},
        )
        self.deployer = Deployer(clients=self.clients.__getitem__)

    @property
    def s3(self) -> Stubber:
        return self.stubs["s3"]

    def s3_error(self, method: str, code: str, status: int, params: dict[str, Any]) -> None:
        self.s3.add_client_error(method, code, http_status_code=status, expected_params=params)


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    s = Stubbed()
    for stub in s.stubs.values():
        stub.activate()
    yield s
    for stub in s.stubs.values():
        stub.deactivate()


def expect_hardening(stubbed: Stubbed) -> None:
    """The requests that make the artifacts bucket private, encrypted, versioned, TLS only."""
    stubbed.s3.add_response(
        "put_public_access_block",
        {},
        {
            **OWNER,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    stubbed.s3.add_response(
        "put_bucket_encryption",
        {},
        {
            **OWNER,
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        },
    )
    stubbed.s3.add_response(
        "put_bucket_versioning", {}, {**OWNER, "VersioningConfiguration": {"Status": "Enabled"}}
    )
    stubbed.s3.add_response("put_bucket_policy", {}, {**OWNER, "Policy": json.dumps(TLS_ONLY)})


def test_a_new_artifacts_bucket_is_owner_enforced_tls_only_and_private(stubbed: Stubbed) -> None:
    stubbed.s3_error("head_bucket", "404", 404, OWNER)
    stubbed.s3.add_response(
        "create_bucket",
        {"Location": f"http://{BUCKET}.s3.amazonaws.com/"},
        {
            "Bucket": BUCKET,
            "ObjectOwnership": "BucketOwnerEnforced",
            "CreateBucketConfiguration": {"LocationConstraint": REGION},
        },
    )
    expect_hardening(stubbed)

    assert stubbed.deployer.ensure_bucket(None) == BUCKET
    stubbed.s3.assert_no_pending_responses()


def test_the_default_bucket_found_already_there_is_set_up_as_a_new_one(stubbed: Stubbed) -> None:
    # made by an earlier version: owner-enforced, private and TLS only from this deploy on
    stubbed.s3.add_response("head_bucket", {}, OWNER)
    stubbed.s3.add_response(
        "put_bucket_ownership_controls",
        {},
        {
            **OWNER,
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    )
    expect_hardening(stubbed)
    assert stubbed.deployer.ensure_bucket(None) == BUCKET
    stubbed.s3.assert_no_pending_responses()


def test_a_bucket_given_is_used_as_its_owner_set_it(stubbed: Stubbed) -> None:
    mine = {"Bucket": "mine", "ExpectedBucketOwner": ACCOUNT}
    stubbed.s3.add_response("head_bucket", {}, mine)
    assert stubbed.deployer.ensure_bucket("mine") == "mine"
    stubbed.s3.assert_no_pending_responses()


def test_the_bundle_upload_names_the_owner(stubbed: Stubbed) -> None:
    stubbed.s3_error("head_object", "404", 404, {**OWNER, "Key": KEY})
    stubbed.s3.add_response("put_object", {}, {**OWNER, "Key": KEY, "Body": b"zip"})
    assert stubbed.deployer.upload(BUCKET, KEY, b"zip") is True
    stubbed.s3.assert_no_pending_responses()


def test_an_object_already_there_is_not_uploaded_again(stubbed: Stubbed) -> None:
    stubbed.s3.add_response("head_object", {"ContentLength": 3}, {**OWNER, "Key": KEY})
    assert stubbed.deployer.upload(BUCKET, KEY, b"zip") is False
    stubbed.s3.assert_no_pending_responses()


@pytest.mark.parametrize("given", [None, BUCKET])
def test_a_bucket_of_another_account_is_never_used(stubbed: Stubbed, given: str | None) -> None:
    stubbed.s3_error("head_bucket", "403", 403, OWNER)
    # No other S3 request is stubbed: any further call would fail the test.
    with pytest.raises(BucketNotOurs) as refused:
        stubbed.deployer.ensure_bucket(given)
    assert str(refused.value) == NOT_OURS
    stubbed.s3.assert_no_pending_responses()


def test_a_name_taken_by_another_account_meanwhile_is_refused(stubbed: Stubbed) -> None:
    stubbed.s3_error("head_bucket", "404", 404, OWNER)
    stubbed.s3.add_client_error("create_bucket", "BucketAlreadyExists", http_status_code=409)
    with pytest.raises(BucketNotOurs, match=r"\(BucketAlreadyExists\): it is never used"):
        stubbed.deployer.ensure_bucket(None)
    stubbed.s3.assert_no_pending_responses()


def test_an_upload_to_a_bucket_that_changed_owner_is_refused(stubbed: Stubbed) -> None:
    stubbed.s3_error("head_object", "AccessDenied", 403, {**OWNER, "Key": KEY})
    with pytest.raises(BucketNotOurs, match=r"\(AccessDenied\): it is never used"):
        stubbed.deployer.upload(BUCKET, KEY, b"zip")
    stubbed.s3.assert_no_pending_responses()


def test_a_missing_given_bucket_is_not_created(stubbed: Stubbed) -> None:
    stubbed.s3_error("head_bucket", "404", 404, {"Bucket": "mine", "ExpectedBucketOwner": ACCOUNT})
    with pytest.raises(DeployError, match=r"^cannot use bucket mine \(404\)$"):
        stubbed.deployer.ensure_bucket("mine")
    stubbed.s3.assert_no_pending_responses()


def test_the_cli_refuses_a_foreign_bucket_in_one_line(
    stubbed: Stubbed, monkeypatch: pytest.MonkeyPatch
) -> None:
    stubbed.stubs["cloudformation"].add_client_error(
        "describe_stacks", "ValidationError", "Stack with id shiftsms does not exist"
    )
    stubbed.s3_error("head_bucket", "403", 403, OWNER)
    monkeypatch.setattr(
        deployer_module, "make_client", lambda service, session=None: stubbed.clients[service]
    )
    result = invoke("deploy", "--origination-number", "+447700900000", "--yes")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {NOT_OURS}\n"
    stubbed.s3.assert_no_pending_responses()


def test_a_missing_stack_is_told_by_its_error_code_not_its_message() -> None:
    cf = client("cloudformation")
    ops = StackOps(cf)
    with Stubber(cf) as stub:
        stub.add_client_error("describe_stacks", "ValidationError", "any wording at all")
        assert ops.status("shiftsms") is None
        stub.add_client_error("describe_stacks", "AccessDenied", "Stack does not exist")
        with pytest.raises(Exception, match="AccessDenied"):
            ops.status("shiftsms")


@mock_aws
def test_the_bucket_aws_stores_is_owner_enforced_tls_only_private_and_versioned() -> None:
    deployer = Deployer(clients=client)
    assert deployer.ensure_bucket(None) == BUCKET
    s3 = client("s3")
    ownership = s3.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]
    assert ownership == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == TLS_ONLY
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    assert deployer.ensure_bucket(None) == BUCKET  # the second deploy uses it as it is

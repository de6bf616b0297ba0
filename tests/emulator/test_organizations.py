"""Tests for the emulator's AWS Organizations, organization trails and cross-account
AssumeRole (emulator.py: patch_organizations, patch_cloudtrail, patch_sts, the
/_emulator/organization endpoint and AssumeRole faults).

Run from the repo root:  python -m unittest discover -s tests/emulator -v
"""

import datetime
import http.client
import itertools
import json
import os
import sys
import types
import unittest

import boto3
import botocore.config
from botocore.exceptions import ClientError

from test_emulator import start_emulator  # the same subprocess harness

HERE = os.path.dirname(os.path.abspath(__file__))
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})
ROLE = "OrganizationAccountAccessRole"
_accounts = itertools.count(320000000001)


def new_account():
    return str(next(_accounts))


class OrganizationsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_emulator()
        cls.endpoint = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()

    # ---- helpers

    def control(self, method, path, payload=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            conn.request(method, "/_emulator/" + path, body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def client(self, service, account, region="us-east-1", credentials=None):
        keys = {"aws_access_key_id": account, "aws_secret_access_key": "secret"}
        if credentials is not None:
            keys = {"aws_access_key_id": credentials["AccessKeyId"],
                    "aws_secret_access_key": credentials["SecretAccessKey"],
                    "aws_session_token": credentials["SessionToken"]}
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region, config=NO_RETRY, **keys)

    def organization(self, members=(), **spec):
        """An organization of a fresh management account with `members` (ids or specs)."""
        management = spec.pop("management", None) or new_account()
        status, out = self.control("POST", "organization", {
            "management": management, "accounts": list(members), **spec})
        self.assertEqual(status, 200, out)
        return management, out

    def error(self, call, code, status=None):
        with self.assertRaises(ClientError) as caught:
            call()
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, caught.exception.response)
        if status is not None:
            self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        return error.get("Message", "")

    def calls(self, account):
        return self.control("GET", f"calls?account={account}")[1]["calls"]

    def faults(self, payload):
        status, out = self.control("POST", "faults", payload)
        self.assertEqual(status, 200, out)
        self.addCleanup(self.control, "DELETE", f"faults?account={payload['account']}")
        return out

    def assume(self, caller, member, role=ROLE, **extra):
        return self.client("sts", caller).assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/{role}", RoleSessionName="cis-fix", **extra)["Credentials"]

    def org_trail(self, management, name="org-trail", region="us-east-1", multi_region=True):
        """An organization trail of `management` delivering to a log group of its own."""
        self.client("s3", management).create_bucket(Bucket=f"trail-{management}-{name}")
        logs = self.client("logs", management, region)
        logs.create_log_group(logGroupName=f"/org/{name}")
        group = logs.describe_log_groups(logGroupNamePrefix=f"/org/{name}")["logGroups"][0]["arn"]
        ct = self.client("cloudtrail", management, region)
        trail = ct.create_trail(
            Name=name, S3BucketName=f"trail-{management}-{name}", IsMultiRegionTrail=multi_region,
            IsOrganizationTrail=True, CloudWatchLogsLogGroupArn=group,
            CloudWatchLogsRoleArn=f"arn:aws:iam::{management}:role/CloudTrail_CloudWatchLogs_Role")
        return trail["TrailARN"], group

    # ---- the control endpoint and Organizations

    def test_control_endpoint_builds_an_organization_with_chosen_ids(self):
        created, invited, suspended = new_account(), new_account(), new_account()
        management, out = self.organization(
            [{"id": created, "name": "prod"},
             {"id": invited, "name": "legacy", "joined_method": "INVITED"},
             {"id": suspended, "name": "old", "status": "SUSPENDED", "email": "old@example.com"}],
            management_name="root-org", management_email="root@example.com")
        self.assertEqual(out["organization"]["MasterAccountId"], management)
        self.assertEqual([a["Id"] for a in out["accounts"]], [management, created, invited, suspended])

        org = self.client("organizations", management)
        described = org.describe_organization()["Organization"]
        self.assertEqual(
            (described["MasterAccountId"], described["FeatureSet"], described["MasterAccountEmail"]),
            (management, "ALL", "root@example.com"))
        # Any account of the organization may describe it.
        self.assertEqual(self.client("organizations", created).describe_organization()["Organization"]["Id"],
                         described["Id"])
        accounts = org.list_accounts()["Accounts"]
        self.assertEqual([(a["Id"], a["Name"], a["Status"], a["JoinedMethod"]) for a in accounts], [
            (management, "root-org", "ACTIVE", "CREATED"), (created, "prod", "ACTIVE", "CREATED"),
            (invited, "legacy", "ACTIVE", "INVITED"), (suspended, "old", "SUSPENDED", "CREATED")])
        self.assertEqual(accounts[1]["Arn"],
                         f"arn:aws:organizations::{management}:account/{described['Id']}/{created}")

        # A second request adds accounts; an account is in one organization at most.
        more = new_account()
        status, out = self.control("POST", "organization", {"management": management, "accounts": [more]})
        self.assertEqual((status, out["accounts"][-1]["Id"]), (200, more))
        for body in ({"management": new_account(), "accounts": [created]},
                     {"management": created, "accounts": []}):
            self.assertEqual(self.control("POST", "organization", body)[0], 409, body)
        for body in ({"management": "12345"}, {"management": new_account(), "accounts": ["x"]},
                     {"management": new_account(), "accounts": [{"id": new_account(), "status": "GONE"}]}):
            self.assertEqual(self.control("POST", "organization", body)[0], 400, body)
        # A refused request changes nothing.
        fresh, taken = new_account(), new_account()
        for accounts in ([{"id": taken}, {"id": new_account(), "role": 7}], [taken, taken], [taken, created]):
            self.assertIn(self.control("POST", "organization", {"management": fresh, "accounts": accounts})[0],
                          (400, 409), accounts)
            self.error(self.client("organizations", fresh).describe_organization,
                       "AWSOrganizationsNotInUseException")
        self.organization([taken], management=fresh)

    def test_list_accounts_pages_by_at_most_20(self):
        members = [new_account() for _ in range(25)]
        management, _ = self.organization(members)
        org = self.client("organizations", management)
        first = org.list_accounts()
        self.assertEqual(len(first["Accounts"]), 20)  # AWS pages by 20 at most, whatever moto does
        second = org.list_accounts(NextToken=first["NextToken"])
        self.assertNotIn("NextToken", second)
        ids = [a["Id"] for a in first["Accounts"] + second["Accounts"]]
        self.assertEqual(ids, [management] + members)

        pages = org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 7})
        sizes = [len(p["Accounts"]) for p in pages]
        self.assertEqual(sizes, [7, 7, 7, 5])

        message = self.error(lambda: org.list_accounts(MaxResults=21), "InvalidInputException", 400)
        self.assertEqual(message, "You provided a value that exceeds the maximum allowed value.")
        self.error(lambda: org.list_accounts(NextToken="not-a-token"), "InvalidInputException")
        # Another organization's token is no token here.
        other, _ = self.organization([new_account() for _ in range(21)])
        token = self.client("organizations", other).list_accounts()["NextToken"]
        self.error(lambda: org.list_accounts(NextToken=token), "InvalidInputException")

    def test_only_the_management_account_lists_accounts(self):
        member, admin = new_account(), new_account()
        management, _ = self.organization([member, admin])
        for call in (lambda c: c.list_accounts(), lambda c: c.describe_account(AccountId=member),
                     lambda c: c.list_roots(),
                     lambda c: c.create_account(AccountName="x", Email="x@example.com")):
            message = self.error(lambda: call(self.client("organizations", member)),
                                 "AccessDeniedException", 400)
            self.assertEqual(message, "You don't have permissions to access this resource.")

        outsider = self.client("organizations", new_account())
        for call in (outsider.list_accounts, outsider.describe_organization):
            message = self.error(call, "AWSOrganizationsNotInUseException", 400)
            self.assertEqual(message, "Your account is not a member of an organization.")

        # A delegated administrator reads the organization, and changes nothing.
        self.client("organizations", management).register_delegated_administrator(
            AccountId=admin, ServicePrincipal="ssm.amazonaws.com")
        delegated = self.client("organizations", admin)
        self.assertEqual(len(delegated.list_accounts()["Accounts"]), 3)
        self.error(lambda: delegated.create_account(AccountName="x", Email="x@example.com"),
                   "AccessDeniedException")

    # ---- organization trails

    def test_only_a_management_account_with_all_features_creates_an_organization_trail(self):
        member = new_account()
        management, _ = self.organization([member])
        for account, code in ((member, "NotOrganizationMasterAccountException"),
                              (new_account(), "OrganizationsNotInUseException")):
            self.client("s3", account).create_bucket(Bucket=f"b-{account}")
            ct = self.client("cloudtrail", account)
            self.error(lambda: ct.create_trail(Name="org", S3BucketName=f"b-{account}",
                                               IsOrganizationTrail=True), code, 400)
            ct.create_trail(Name="own", S3BucketName=f"b-{account}")
            self.error(lambda: ct.update_trail(Name="own", IsOrganizationTrail=True), code)

        billing, _ = self.organization([new_account()], feature_set="CONSOLIDATED_BILLING")
        self.client("s3", billing).create_bucket(Bucket=f"b-{billing}")
        self.error(lambda: self.client("cloudtrail", billing).create_trail(
            Name="org", S3BucketName=f"b-{billing}", IsOrganizationTrail=True),
            "OrganizationNotInAllFeaturesModeException")

        arn, _ = self.org_trail(management)
        self.assertEqual(arn, f"arn:aws:cloudtrail:us-east-1:{management}:trail/org-trail")

    def test_a_member_sees_the_organization_trail_but_reads_only_its_status(self):
        member = new_account()
        management, _ = self.organization([member])
        arn, group = self.org_trail(management)
        owner = self.client("cloudtrail", management)
        owner.start_logging(Name="org-trail")
        owner.put_event_selectors(TrailName="org-trail", EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": True}])

        for region in ("us-east-1", "eu-west-1"):  # multi-Region: every Region of every member
            [trail] = self.client("cloudtrail", member, region).describe_trails()["trailList"]
            self.assertEqual((trail["TrailARN"], trail["Name"], trail["HomeRegion"]),
                             (arn, "org-trail", "us-east-1"))
            self.assertIs(trail["IsOrganizationTrail"], True)
            self.assertIs(trail["IsMultiRegionTrail"], True)
            self.assertEqual(trail["CloudWatchLogsLogGroupArn"], group)
            self.assertIn(f":{management}:", group)
        ct = self.client("cloudtrail", member)
        # "If you do not include shadow trails, organization trails in a member account ... will
        # not be returned."
        self.assertEqual(ct.describe_trails(includeShadowTrails=False)["trailList"], [])
        self.assertEqual([t["TrailARN"] for t in ct.list_trails()["Trails"]], [arn])
        # Named, a trail is one of this account and Region; by ARN any the account sees.
        self.assertEqual(ct.describe_trails(trailNameList=["org-trail"])["trailList"], [])
        self.assertEqual([t["TrailARN"] for t in ct.describe_trails(trailNameList=[arn])["trailList"]], [arn])

        # By its full ARN a member reads the status (documented), by name it cannot.
        self.assertIs(ct.get_trail_status(Name=arn)["IsLogging"], True)
        message = self.error(lambda: ct.get_trail_status(Name="org-trail"), "TrailNotFoundException", 400)
        self.assertEqual(message, f"Unknown trail: arn:aws:cloudtrail:us-east-1:{member}:trail/org-trail "
                                  f"for the user: {member}")
        # Nothing else of the trail is the member's to read or change.
        for call in (lambda: ct.get_event_selectors(TrailName=arn), lambda: ct.get_trail(Name=arn),
                     lambda: ct.stop_logging(Name=arn), lambda: ct.delete_trail(Name=arn),
                     lambda: ct.put_event_selectors(TrailName=arn, EventSelectors=[
                         {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}])):
            message = self.error(call, "TrailNotFoundException", 400)
            self.assertEqual(message, f"Unknown trail: {arn} for the user: {member}")
        self.error(lambda: ct.list_tags(ResourceIdList=[arn]), "CloudTrailARNInvalidException")

        # The management account reads and keeps it as it was.
        self.assertIs(owner.get_trail_status(Name=arn)["IsLogging"], True)
        selectors = owner.get_event_selectors(TrailName=arn)
        self.assertEqual((selectors["TrailARN"], selectors["EventSelectors"][0]["ReadWriteType"]),
                         (arn, "All"))
        [own] = owner.describe_trails()["trailList"]
        self.assertEqual(own["TrailARN"], arn)
        self.assertEqual([t["TrailARN"] for t in owner.describe_trails(trailNameList=["org-trail"])["trailList"]],
                         [arn])
        self.assertEqual(self.client("cloudtrail", management, "eu-west-1").describe_trails(
            trailNameList=["org-trail"])["trailList"], [])

        # An account outside the organization sees nothing of it.
        self.assertEqual(self.client("cloudtrail", new_account()).describe_trails()["trailList"], [])

    def test_single_region_organization_trail_shows_in_its_region_only(self):
        member = new_account()
        management, _ = self.organization([member])
        arn, _ = self.org_trail(management, name="eu-only", region="eu-west-1", multi_region=False)
        self.assertEqual([t["TrailARN"] for t in
                          self.client("cloudtrail", member, "eu-west-1").describe_trails()["trailList"]], [arn])
        self.assertEqual(self.client("cloudtrail", member, "us-east-1").describe_trails()["trailList"], [])

    def test_missing_trails_are_not_found(self):
        account = new_account()
        ct = self.client("cloudtrail", account)
        self.error(lambda: ct.delete_trail(Name="nothing"), "TrailNotFoundException")
        message = self.error(lambda: ct.get_event_selectors(TrailName="nothing"), "TrailNotFoundException")
        self.assertEqual(message, f"Unknown trail: arn:aws:cloudtrail:us-east-1:{account}:trail/nothing "
                                  f"for the user: {account}")
        other = f"arn:aws:cloudtrail:us-east-1:{new_account()}:trail/theirs"
        message = self.error(lambda: ct.get_trail_status(Name=other), "CloudTrailARNInvalidException")
        self.assertEqual(message, f"AccountID in ARN is wrong, you can only access resources with AccountID {account}.")

    # ---- AssumeRole and temporary credentials

    def test_assumed_role_calls_belong_to_the_member(self):
        member = new_account()
        management, _ = self.organization([member])
        credentials = self.assume(management, member)
        self.assertTrue(credentials["AccessKeyId"].startswith("ASIA"))
        self.assertEqual(self.client("sts", management).get_caller_identity()["Arn"],
                         f"arn:aws:iam::{management}:user/moto")
        identity = self.client("sts", None, credentials=credentials).get_caller_identity()
        self.assertEqual(identity["Account"], member)
        self.assertEqual(identity["Arn"], f"arn:aws:sts::{member}:assumed-role/{ROLE}/cis-fix")

        self.client("logs", None, credentials=credentials).create_log_group(logGroupName="made-by-role")
        groups = self.client("logs", member).describe_log_groups()["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["made-by-role"])  # in the member account
        self.assertEqual(self.client("logs", management).describe_log_groups()["logGroups"], [])

        calls = [(c["service"], c["operation"], c["principal"]) for c in self.calls(member)]
        session = f"arn:aws:sts::{member}:assumed-role/{ROLE}/cis-fix"
        self.assertEqual(calls[:2], [("sts", "GetCallerIdentity", session), ("logs", "CreateLogGroup", session)])
        [assume] = [c for c in self.calls(management) if c["operation"] == "AssumeRole"]
        self.assertEqual((assume["status"], assume["role_arn"], assume["principal"]),
                         (200, f"arn:aws:iam::{member}:role/{ROLE}", f"arn:aws:iam::{management}:user/moto"))

        # Faults planned for the member apply to calls made there through the role.
        self.faults({"account": member, "kinds": ["throttle"], "operations": ["DescribeLogGroups"]})
        logs = self.client("logs", None, credentials=credentials)
        self.error(logs.describe_log_groups, "ThrottlingException", 400)
        self.assertEqual(self.calls(member)[-1]["fault"], "throttle")

    def test_temporary_credentials_need_their_session_token(self):
        member = new_account()
        management, _ = self.organization([member])
        credentials = self.assume(management, member)
        for token in (None, "forged"):
            kwargs = {"aws_session_token": token} if token else {}
            sts = boto3.client("sts", endpoint_url=self.endpoint, region_name="us-east-1", config=NO_RETRY,
                               aws_access_key_id=credentials["AccessKeyId"],
                               aws_secret_access_key=credentials["SecretAccessKey"], **kwargs)
            self.error(sts.get_caller_identity, "InvalidClientTokenId", 403)
            logs = boto3.client("logs", endpoint_url=self.endpoint, region_name="us-east-1", config=NO_RETRY,
                                aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"], **kwargs)
            self.error(logs.describe_log_groups, "UnrecognizedClientException", 400)
        unknown = dict(credentials, AccessKeyId="ASIAEXAMPLEEXAMPLE00")
        self.error(self.client("sts", None, credentials=unknown).get_caller_identity, "InvalidClientTokenId")

    def test_assume_role_needs_the_role_and_its_trust(self):
        invited, suspended, created = new_account(), new_account(), new_account()
        management, _ = self.organization([
            {"id": invited, "joined_method": "INVITED"}, {"id": suspended, "status": "SUSPENDED"}, created])
        def denied(member, role=ROLE, **extra):
            message = self.error(lambda: self.assume(management, member, role, **extra), "AccessDenied", 403)
            self.assertEqual(message, f"User: arn:aws:iam::{management}:user/moto is not authorized to perform: "
                                      f"sts:AssumeRole on resource: arn:aws:iam::{member}:role/{role}")

        denied(invited)  # no OrganizationAccountAccessRole in an invited account
        denied(suspended)  # a closed account cannot be entered
        denied(created, role="NoSuchRole")
        self.assume(management, created)

        # A role the member made itself, trusting the management account with an external id.
        iam = self.client("iam", invited)
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
            "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "cis-fix-42"}}}]}
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
        denied(invited)
        denied(invited, ExternalId="wrong-id")
        self.assertTrue(self.assume(management, invited, ExternalId="cis-fix-42")["AccessKeyId"].startswith("ASIA"))
        # Trusting another account is not trusting this one.
        iam.create_role(RoleName="Elsewhere", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": new_account()},
                                                    "Action": "sts:AssumeRole"}]}))
        denied(invited, role="Elsewhere")

        # The control endpoint makes such a role too (the Rust tests have no IAM client).
        guarded, trusting_other = new_account(), new_account()
        self.organization([{"id": guarded, "role": {"name": "Auditor", "external_id": "x-1"}},
                           {"id": trusting_other, "joined_method": "INVITED", "role": {
                               "trust_policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": invited},
                                                               "Action": "sts:AssumeRole"}]}}}],
                          management=management)
        denied(guarded, role=ROLE)  # only the role asked for
        denied(guarded, role="Auditor")
        self.assume(management, guarded, role="Auditor", ExternalId="x-1")
        denied(trusting_other)
        self.assume(invited, trusting_other)

        message = self.error(lambda: self.assume(management, created, DurationSeconds=7200), "ValidationError", 400)
        self.assertIn("MaxSessionDuration", message)
        # Role chaining: a session of the member's role assumes a role that trusts it, for an
        # hour at most whatever the role allows; the organization role trusts only the
        # management account, not its own sessions.
        self.client("iam", created).create_role(
            RoleName="Chained", MaxSessionDuration=43200, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{created}:role/{ROLE}"},
                    "Action": "sts:AssumeRole"}]}))
        chained = self.client("sts", None, credentials=self.assume(management, created))
        for role, duration, code in ((ROLE, 900, "AccessDenied"), ("Chained", 3601, "ValidationError")):
            self.error(lambda: chained.assume_role(RoleArn=f"arn:aws:iam::{created}:role/{role}",
                                                   RoleSessionName="again", DurationSeconds=duration), code)
        chained.assume_role(RoleArn=f"arn:aws:iam::{created}:role/Chained", RoleSessionName="again")
        self.assertEqual([c["status"] for c in self.calls(management) if c["operation"] == "AssumeRole"],
                         [403, 403, 403, 200, 403, 403, 200, 403, 403, 403, 200, 403, 400, 200])
        self.assertEqual([(c["status"], c["principal"]) for c in self.calls(created) if c["operation"] == "AssumeRole"],
                         [(403, f"arn:aws:sts::{created}:assumed-role/{ROLE}/cis-fix"),
                          (400, f"arn:aws:sts::{created}:assumed-role/{ROLE}/cis-fix"),
                          (200, f"arn:aws:sts::{created}:assumed-role/{ROLE}/cis-fix")])

    def test_assume_role_denial_fault_for_a_target_account(self):
        denied_member, allowed_member = new_account(), new_account()
        management, _ = self.organization([denied_member, allowed_member])
        out = self.faults({"account": management, "kinds": ["access_denied"], "operations": ["AssumeRole"],
                           "target_account": denied_member})
        self.assertEqual(out["target_accounts"], [denied_member])
        with self.assertRaises(ClientError) as caught:
            self.assume(management, denied_member)
        response = caught.exception.response
        self.assertEqual((response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]),
                         ("AccessDenied", 403))
        self.assertEqual(response["Error"]["Message"],
                         f"User: arn:aws:iam::{management}:user/moto is not authorized to perform: "
                         f"sts:AssumeRole on resource: arn:aws:iam::{denied_member}:role/{ROLE}")
        self.assume(management, allowed_member)
        self.client("sts", management).get_caller_identity()  # other calls are not faulted
        self.assertEqual(self.control("GET", f"faults?account={management}")[1]["injected"], {"access_denied": 1})
        assumes = [(c["role_arn"].split(":")[4], c["status"], c["fault"])
                   for c in self.calls(management) if c["operation"] == "AssumeRole"]
        self.assertEqual(assumes, [(denied_member, 403, "access_denied"), (allowed_member, 200, None)])

        self.faults({"account": management, "kinds": ["throttle"], "target_account": [allowed_member]})
        self.error(lambda: self.assume(management, allowed_member), "Throttling", 400)
        status, out = self.control("POST", "faults", {"account": management, "kinds": ["throttle"],
                                                      "operations": ["ListAccounts"], "target_account": "1"})
        self.assertEqual(status, 400, out)


class TrustPolicyTest(unittest.TestCase):
    """The emulator's trust-policy evaluation and credential checks, in process."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, HERE)
        import emulator
        cls.em = emulator

    CALLER = "111122223333"
    USER = "arn:aws:iam::111122223333:user/moto"

    def decide(self, *statements, context=None, principal=USER):
        return self.em.evaluate_trust_policy({"Version": "2012-10-17", "Statement": list(statements)},
                                             self.CALLER, principal, context or {})

    def allow(self, **overrides):
        return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.CALLER}:root"},
                "Action": "sts:AssumeRole", **overrides}

    def test_principals(self):
        for principal in ("*", {"AWS": "*"}, {"AWS": self.CALLER}, {"AWS": [f"arn:aws:iam::{self.CALLER}:root"]},
                          {"AWS": self.USER}):
            self.assertEqual(self.decide(self.allow(Principal=principal)), "Allow", principal)
        for principal in ({"AWS": "999988887777"}, {"AWS": "arn:aws:iam::111122223333:user/other"},
                          {"Service": "ec2.amazonaws.com"}, {"Federated": "cognito-identity.amazonaws.com"}):
            self.assertEqual(self.decide(self.allow(Principal=principal)), "ImplicitDeny", principal)
        session_role = "arn:aws:iam::111122223333:role/Deployer"
        self.assertEqual(self.decide(self.allow(Principal={"AWS": session_role}), principal=session_role), "Allow")
        self.assertEqual(self.decide({"Effect": "Allow", "NotPrincipal": {"AWS": "999988887777"},
                                      "Action": "sts:AssumeRole"}), "Allow")

    def test_actions_conditions_and_denies(self):
        self.assertEqual(self.decide(self.allow(Action="sts:*")), "Allow")
        self.assertEqual(self.decide(self.allow(Action="sts:AssumeRoleWithSAML")), "ImplicitDeny")
        not_action = {"Effect": "Allow", "Principal": "*", "NotAction": "sts:TagSession"}
        self.assertEqual(self.decide(not_action), "Allow")
        self.assertEqual(self.decide(dict(not_action, NotAction="sts:Assume*")), "ImplicitDeny")
        external = self.allow(Condition={"StringEquals": {"sts:ExternalId": "abc"}})
        self.assertEqual(self.decide(external), "ImplicitDeny")
        self.assertEqual(self.decide(external, context={"sts:externalid": ["abc"]}), "Allow")
        self.assertEqual(self.decide(external, context={"sts:externalid": ["abd"]}), "ImplicitDeny")
        org = self.allow(Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
        self.assertEqual(self.decide(org, context={"aws:principalorgid": ["o-abc"]}), "Allow")
        self.assertEqual(self.decide(org), "ImplicitDeny")
        deny = {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}
        self.assertEqual(self.decide(self.allow(), deny), "ExplicitDeny")
        for document in (None, "", "not json", {"Statement": "nonsense"}):
            self.assertEqual(self.em.evaluate_trust_policy(document, self.CALLER, self.USER, {}), "ImplicitDeny")

    def test_expired_credentials(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        role = types.SimpleNamespace(session_token="tok", expiration=now - datetime.timedelta(seconds=1))
        self.em.ASSUMED_KEYS["ASIATESTEXPIRED00001"] = role
        try:
            (status, _, body), assumed = self.em.credential_refusal("query", "ASIATESTEXPIRED00001", "tok", "")
            self.assertEqual((status, assumed), (400, role))
            self.assertIn(b"<Code>ExpiredToken</Code>", body)
            (status, _, body), _ = self.em.credential_refusal("json", "ASIATESTEXPIRED00001", "tok", "")
            self.assertEqual(json.loads(body)["__type"], "ExpiredTokenException")
            role.expiration = now + datetime.timedelta(hours=1)
            self.assertEqual(self.em.credential_refusal("query", "ASIATESTEXPIRED00001", "tok", ""), (None, role))
        finally:
            del self.em.ASSUMED_KEYS["ASIATESTEXPIRED00001"]


if __name__ == "__main__":
    unittest.main()

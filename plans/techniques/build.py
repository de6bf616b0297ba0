#!/usr/bin/env python3
"""Writes stratus-red-team.json: every AWS technique of Stratus Red Team with CloudTrail
records of the calls it makes.

    python3 plans/techniques/build.py STRATUS_GIT_DIR PANTHER_GIT_DIR > plans/techniques/stratus-red-team.json

Both repositories are read at the commits below (`git show COMMIT:PATH`), so the output does
not depend on their checkouts. The README beside this file says where each record comes from.
Only the curation is here: which Panther test stands for which call, the records built from
Stratus's prose where it gives no raw record, and why a technique is not visible to a metric
filter. Which controls catch what is never written here: `cis-fix coverage` computes it.
"""

import json
import re
import subprocess
import sys

import yaml

STRATUS = ("DataDog/stratus-red-team", "7c9a7a5a63dc370260a6528dd0d30476854806c1")
PANTHER = ("panther-labs/panther-analysis", "daa10c888566839e9918dfba1cd652743781e5fe")
DOCS = "docs/attack-techniques/AWS"
RULES = "rules/aws_cloudtrail_rules"

# The Panther test that stands for a technique's call: (technique, rule file, test name).
# Only tests with `ExpectedResult: true`, of a rule about that technique, whose record is the
# same call with the same outcome (denied or not) as Stratus's detonation.
PANTHER_TESTS = [
    ("aws.credential-access.ec2-get-password-data", "aws_ec2_many_passwors_read_attempts.yml", "Unsuccessful Attempt"),
    ("aws.credential-access.ec2-steal-instance-credentials", "aws_imds_credential_exfiltration.yml", "IMDS Credentials Used From Public IP"),
    ("aws.credential-access.secretsmanager-batch-retrieve-secrets", "aws_secretsmanager_retrieve_secrets_batch.yml", "BatchGetSecretValue"),
    ("aws.credential-access.ssm-retrieve-securestring-parameters", "aws_ssm_decrypt_ssm_params.yml", "Multiple Secrets Accessed in Same Event"),
    ("aws.defense-evasion.cloudtrail-delete", "aws_security_configuration_change.yml", "Security Configuration Changed"),
    ("aws.defense-evasion.cloudtrail-event-selectors", "aws_cloudtrail_event_selectors_disabled.yml", "Event Selector Disabled"),
    ("aws.defense-evasion.cloudtrail-lifecycle-rule", "aws_cloudtrail_short_lifecycle.yml", "1-Day Lifecycle Rule on Known CT Bucket"),
    ("aws.defense-evasion.cloudtrail-stop", "aws_cloudtrail_stopped.yml", "CloudTrail Was Stopped"),
    ("aws.defense-evasion.dns-delete-logs", "aws_dns_logs_deleted.yml", "Logs Deleted"),
    ("aws.defense-evasion.organizations-leave", "aws_cloudtrail_attempt_to_leave_org.yml", "Failed Attempt to Leave Org"),
    ("aws.defense-evasion.vpc-remove-flow-logs", "aws_vpc_flow_logs_deleted.yml", "Logs Deleted"),
    ("aws.discovery.ec2-download-user-data", "aws_ec2_download_instance_user_data.yml", "Unsuccessful Attempt"),
    ("aws.discovery.ses-enumerate", "aws_cloudtrail_ses_check_ses_sending_enabled.yml", "CheckSendingEnabled Event"),
    ("aws.discovery.ses-enumerate", "aws_cloudtrail_ses_check_send_quota.yml", "GetSendQuota Event"),
    ("aws.discovery.ses-enumerate", "aws_cloudtrail_ses_list_identities.yml", "ListIdentities Event"),
    ("aws.discovery.ses-enumerate", "aws_cloudtrail_ses_check_identity_verifications.yml", "GetIdentityVerificationStatus Event"),
    ("aws.execution.ec2-launch-unusual-instances", "aws_ec2_launch_unusual_ec2_instances.yml", "Failed Unusual EC2"),
    ("aws.execution.ec2-user-data", "aws_ec2_startup_script_change.yml", "ModifyInstanceAttributeUserdata"),
    ("aws.execution.ec2-user-data", "aws_ec2_stopinstances.yml", "CloudTrail Instances Were Stopped"),
    ("aws.execution.ssm-send-command", "aws_ssm_distributed_command.yml", "Send Command to Many Instances at Once"),
    ("aws.exfiltration.ec2-security-group-open-port-22-ingress", "aws_ec2_security_group_modified.yml", "Security Group Modified"),
    ("aws.exfiltration.ec2-share-ami", "aws_ami_modified_for_public_access.yml", "Access Granted To Unknown User"),
    ("aws.exfiltration.ec2-share-ebs-snapshot", "aws_snapshot_made_public.yml", "Snapshot Mader Available to Single Person"),
    ("aws.exfiltration.rds-share-snapshot", "aws_rds_snapshot_shared.yml", "Snapshot shared with another account"),
    ("aws.exfiltration.s3-backdoor-bucket-policy", "aws_resource_made_public.yml", "S3 Made Publicly Accessible"),
    ("aws.initial-access.console-login-without-mfa", "aws_console_login_without_mfa.yml", "No MFA Login - IAM User"),
    ("aws.lateral-movement.ec2-instance-connect", "aws_ec2_multi_instance_connect.yml", "Public SSH Key Sent Successfully - Counts Toward Threshold"),
    ("aws.persistence.iam-backdoor-role", "aws_iam_backdoor_role.yml", "IAM Role Policy Updated to Allow Internet Access"),
    ("aws.persistence.iam-backdoor-user", "aws_iam_user_key_created.yml", "user1 create keys for user2"),
    ("aws.persistence.iam-create-admin-user", "aws_iam_create_user.yml", "IAM User Created"),
    ("aws.persistence.iam-create-admin-user", "aws_iam_attach_admin_user_policy.yml", "IAM User Policy Attached with Administrator Access"),
    ("aws.persistence.iam-create-admin-user", "aws_iam_user_key_created.yml", "user1 create keys for user2"),
    ("aws.persistence.iam-create-backdoor-role", "aws_iam_create_role.yml", "IAM Role Created"),
    ("aws.persistence.iam-create-backdoor-role", "aws_iam_attach_admin_role_policy.yml", "IAM Role Policy Attached with Administrator Access"),
    ("aws.persistence.lambda-backdoor-function", "aws_backdoor_lambda_function.yml", "Lambda Add Permission Event v2"),
    ("aws.persistence.lambda-layer-extension", "aws_add_malicious_lambda_extension.yml", "IAM User Updates Lambda Configuration with Layers"),
    ("aws.persistence.lambda-overwrite-code", "aws_overwrite_lambda_code.yml", "IAM User Updates Lambda Code"),
    ("aws.privilege-escalation.iam-update-user-login-profile", "aws_user_login_profile_modified.yml", "User changed password for other"),
]

# Calls Stratus describes in prose but gives no raw record of: (eventSource, eventName,
# requestParameters, readOnly, what the doc says). Built as an IAM user's successful call,
# unless `identity` says otherwise.
BUILT = {
    "aws.discovery.ec2-enumerate-from-instance": {
        "identity": "instance",
        "doc": "Description: runs sts:GetCallerIdentity, s3:ListBuckets, iam:GetAccountSummary, iam:ListRoles, iam:ListUsers, iam:GetAccountAuthorizationDetails, ec2:DescribeSnapshots, cloudtrail:DescribeTrails, guardduty:ListDetectors under the instance role",
        "calls": [
            ("sts.amazonaws.com", "GetCallerIdentity", None, True),
            ("s3.amazonaws.com", "ListBuckets", {"Host": "s3.us-east-1.amazonaws.com"}, True),
            ("iam.amazonaws.com", "GetAccountSummary", None, True),
            ("iam.amazonaws.com", "ListRoles", None, True),
            ("iam.amazonaws.com", "ListUsers", None, True),
            ("iam.amazonaws.com", "GetAccountAuthorizationDetails", None, True),
            ("ec2.amazonaws.com", "DescribeSnapshots", {"snapshotSet": {}, "ownersSet": {}, "restorableBySet": {}, "filterSet": {}}, True),
            ("cloudtrail.amazonaws.com", "DescribeTrails", None, True),
            ("guardduty.amazonaws.com", "ListDetectors", None, True),
        ],
    },
    "aws.execution.sagemaker-update-lifecycle-config": {
        "doc": "Detonation: update the lifecycle configuration script via a Stop-Update-Start API sequence; Detection: UpdateNotebookInstance, StopNotebookInstance (calls as v2/internal/attacktechniques/aws/execution/sagemaker-lifecycle-config/main.go makes them)",
        "calls": [
            ("sagemaker.amazonaws.com", "CreateNotebookInstanceLifecycleConfig", {"notebookInstanceLifecycleConfigName": "stratus-red-team-malicious-lifecycle-config", "onStart": [{"content": "HIDDEN_DUE_TO_SECURITY_REASONS"}]}, False),
            ("sagemaker.amazonaws.com", "StopNotebookInstance", {"notebookInstanceName": "stratus-red-team-notebook"}, False),
            ("sagemaker.amazonaws.com", "UpdateNotebookInstance", {"notebookInstanceName": "stratus-red-team-notebook", "lifecycleConfigName": "stratus-red-team-malicious-lifecycle-config"}, False),
            ("sagemaker.amazonaws.com", "StartNotebookInstance", {"notebookInstanceName": "stratus-red-team-notebook"}, False),
        ],
    },
    "aws.impact.ec2-deregister-ami": {
        "doc": "Detection: the DeregisterImage event, with requestParameters imageId and deleteAssociatedSnapshots false",
        "calls": [
            ("ec2.amazonaws.com", "DeregisterImage", {"imageId": "ami-0b87ea1d007078d18", "deleteAssociatedSnapshots": False}, False),
        ],
    },
}

DATA_EVENTS = (
    "its activity is reading, writing and deleting S3 objects: S3 data events, which a "
    "trail records only with data event selectors, and which CIS's management-events trail "
    "(and the metric filters on its log group) never sees"
)

NOT_VISIBLE = {
    "aws.impact.s3-ransomware-batch-deletion": DATA_EVENTS,
    "aws.impact.s3-ransomware-client-side-encryption": DATA_EVENTS,
    "aws.impact.s3-ransomware-individual-deletion": DATA_EVENTS,
    "aws.credential-access.ec2-steal-instance-credentials": (
        "the credentials are read from the instance metadata service inside the instance, "
        "which CloudTrail does not record; their use from outside is ordinary calls by the "
        "instance role, told apart only by comparing the caller's address with the "
        "instance's, and a metric filter cannot compare two values"
    ),
}


class CoreLoader(yaml.SafeLoader):
    """YAML 1.2's core schema: `No` stays a string and a time stays text, as the JSON
    records Panther's tests stand for have them."""


CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (
        "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def show(git_dir, commit, path):
    return subprocess.run(["git", "-C", git_dir, "show", f"{commit}:{path}"],
                          check=True, capture_output=True, text=True).stdout


def ls(git_dir, commit, path):
    out = subprocess.run(["git", "-C", git_dir, "ls-tree", "--name-only", f"{commit}:{path}"],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def parse_doc(text):
    """Name, tactics, Threat Technique Catalog ids and raw detonation records of a page."""
    name = re.search(r"^title: (.*)$", text, re.M).group(1).strip()
    mappings = text.split("## Mappings", 1)[1].split("## Description", 1)[0]
    tactics, ids, section = [], [], None
    for line in mappings.splitlines():
        if line.startswith("- MITRE ATT&CK"):
            section = "tactics"
        elif line.startswith("- Threat Technique Catalog"):
            section = "catalog"
        elif section == "tactics" and re.match(r"^\s+- ", line):
            tactics.append(line.strip()[2:].strip())
        elif section == "catalog":
            ids += re.findall(r"\((T\d{4}(?:\.[A-Z0-9]+)?)\)\s*$", line)
    raw = []
    if "View raw detonation logs" in text:
        block = text.split("View raw detonation logs", 1)[1].split("```json", 1)[1]
        raw = json.loads(block.split("\n", 1)[1].split("```", 1)[0])
    return name, tactics, ids, raw


def denied(record):
    return bool(record.get("errorCode"))


def call_key(record):
    return (record["eventSource"], record["eventName"], denied(record))


def panther_record(git_dir, file, test):
    rule = yaml.load(show(git_dir, PANTHER[1], f"{RULES}/{file}"), Loader=CoreLoader)
    for case in rule.get("Tests") or []:
        if case.get("Name") == test and case.get("ExpectedResult") is True:
            # Panther's own fields (p_log_type, p_event_time, …) are not CloudTrail's.
            log = {k: v for k, v in case["Log"].items() if not k.startswith("p_")}
            return log, rule.get("RuleID")
    raise SystemExit(f"no test {test!r} expecting true in {file}")


def built_record(technique, index, call, identity):
    source, name, parameters, read_only = call
    if identity == "instance":
        who = {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEINSTANCE:i-0adc17a5acb70d9ae",
            "arn": "arn:aws:sts::123456789012:assumed-role/stratus-red-team-instance-role/i-0adc17a5acb70d9ae",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLEINSTANCE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEINSTANCE",
                                  "arn": "arn:aws:iam::123456789012:role/stratus-red-team-instance-role",
                                  "accountId": "123456789012", "userName": "stratus-red-team-instance-role"},
                "attributes": {"creationDate": "2024-08-01T12:00:00Z", "mfaAuthenticated": "false"},
                "ec2RoleDelivery": "2.0",
            },
        }
    else:
        who = {
            "type": "IAMUser", "principalId": "AIDAEXAMPLEATTACKER",
            "arn": "arn:aws:iam::123456789012:user/attacker", "accountId": "123456789012",
            "accessKeyId": "AKIAEXAMPLEATTACKER", "userName": "attacker",
        }
    region = "us-east-1"
    return {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": "2024-08-01T12:00:%02dZ" % index,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "stratus-red-team",
        "requestParameters": parameters,
        "responseElements": None,
        "requestID": "00000000-0000-4000-8000-%012d" % index,
        "eventID": "00000000-0000-4000-9000-%012d" % index,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management",
    }


def technique(stratus_dir, panther_dir, file):
    tid = file[:-3]
    doc = f"{DOCS}/{file}"
    name, tactics, ids, raw = parse_doc(show(stratus_dir, STRATUS[1], doc))
    events, seen = [], set()
    # One raw detonation record per distinct call (source, name, denied or not).
    for number, record in enumerate(raw, 1):
        if call_key(record) in seen:
            continue
        seen.add(call_key(record))
        events.append({"record": record, "origin": "stratus",
                       "source": f"{STRATUS[0]}@{STRATUS[1]} {doc}, raw detonation logs, record {number}"})
    for technique_id, rule_file, test in PANTHER_TESTS:
        if technique_id != tid:
            continue
        record, rule_id = panther_record(panther_dir, rule_file, test)
        events.append({"record": record, "origin": "panther",
                       "source": f"{PANTHER[0]}@{PANTHER[1]} {RULES}/{rule_file}, test \"{test}\" ({rule_id})"})
    built = BUILT.get(tid)
    if built:
        for index, call in enumerate(built["calls"]):
            events.append({"record": built_record(tid, index, call, built.get("identity")),
                           "origin": "built",
                           "source": f"built from {STRATUS[0]}@{STRATUS[1]} {doc} ({built['doc']})"})
    entry = {"id": tid, "name": name, "tactics": tactics, "mitre": ids, "events": events}
    if tid in NOT_VISIBLE:
        entry["not_visible"] = NOT_VISIBLE[tid]
    return entry


def main():
    stratus_dir, panther_dir = sys.argv[1], sys.argv[2]
    files = sorted(f for f in ls(stratus_dir, STRATUS[1], DOCS) if f.startswith("aws."))
    document = {
        "format_version": 1,
        "techniques_from": {"name": "Stratus Red Team", "repository": STRATUS[0],
                            "commit": STRATUS[1], "path": DOCS, "license": "Apache-2.0"},
        "records_from": [
            {"name": "Stratus Red Team raw detonation logs", "origin": "stratus",
             "repository": STRATUS[0], "commit": STRATUS[1], "license": "Apache-2.0"},
            {"name": "Panther rule tests", "origin": "panther", "repository": PANTHER[0],
             "commit": PANTHER[1], "path": RULES, "license": "Apache-2.0"},
        ],
        "techniques": [technique(stratus_dir, panther_dir, f) for f in files],
    }
    json.dump(document, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

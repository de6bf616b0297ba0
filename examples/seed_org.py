#!/usr/bin/env python3
"""Seed the test emulator with an organization for examples/bench-org.sh: a management
account with an organization trail (multi-region, logging to a log group of its own) and
MEMBERS member accounts that rely on it, and optionally LATENCY_MS of delay on every call of
every account (the emulator's `delay` fault).

Usage: seed_org.py ENDPOINT MANAGEMENT_ID MEMBERS [LATENCY_MS]
"""

import json
import sys
import urllib.request

import boto3


def post(endpoint, path, body):
    req = urllib.request.Request(f"{endpoint}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as reply:
        return json.loads(reply.read() or b"{}")


def main():
    endpoint, management, members = sys.argv[1], sys.argv[2], int(sys.argv[3])
    latency = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    base = int(management) + 1
    ids = [f"{base + i:012d}" for i in range(members)]
    post(endpoint, "/_emulator/organization", {
        "management": management, "management_name": "management",
        "accounts": [{"id": i, "name": f"member-{n + 1}"} for n, i in enumerate(ids)]})
    session = boto3.session.Session(aws_access_key_id=management, aws_secret_access_key="x",
                                    region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=f"org-trail-{management}")
    logs = session.client("logs", endpoint_url=endpoint)
    logs.create_log_group(logGroupName="aws-controltower/CloudTrailLogs")
    cloudtrail = session.client("cloudtrail", endpoint_url=endpoint)
    cloudtrail.create_trail(
        Name="org", S3BucketName=f"org-trail-{management}", IsMultiRegionTrail=True,
        IsOrganizationTrail=True,
        CloudWatchLogsLogGroupArn=(f"arn:aws:logs:us-east-1:{management}:log-group:"
                                   "aws-controltower/CloudTrailLogs:*"),
        CloudWatchLogsRoleArn=f"arn:aws:iam::{management}:role/ct-logs")
    cloudtrail.start_logging(Name="org")
    if latency:
        for account in [management, *ids]:
            post(endpoint, "/_emulator/faults", {"account": account, "kinds": ["delay"],
                                                 "rate": 1.0, "delay_ms": latency})


if __name__ == "__main__":
    main()

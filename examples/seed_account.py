#!/usr/bin/env python3
"""Build a realistic account in the test emulator, with boto3 (installed with moto).

Usage: seed_account.py ENDPOINT ACCOUNT_ID {one-trail|demo|small|large}

  one-trail  one qualifying trail and its log group, nothing else: the fewest calls a plan makes.

  demo   half-compliant: a qualifying trail and a single-region one; one good chain
         (5.6), one reordered filter with a good chain (5.1, recognised as equivalent),
         one alarm whose topic has no subscriber (5.3), one near-miss filter (5.4);
         numbered as cis-7.0, the default, does.
  small  the demo account: what one plan sees on a typical account.
  large  the demo account plus noise: hundreds of filters, a thousand alarms, topics
         and subscriptions, to measure how plan scales.
"""

import sys

import boto3

REGION = "us-east-1"
GROUP = "aws-cloudtrail-logs-management"
NS = "CISBenchmark"

FAILURES = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
# CIS 5.1 (v5.0 numbered it 4.1), reordered, re-quoted and re-spaced the way people actually write it.
UNAUTHORIZED_REORDERED = (
    '{ ($.errorCode = "*UnauthorizedOperation") ||\n'
    '  ($.eventName != "HeadBucket" && $.sourceIPAddress != "delivery.logs.amazonaws.com"\n'
    '   && $.errorCode = "AccessDenied*") }'
)
ROOT = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
# IAM policy changes, missing the three Detach* events: a near miss.
IAM_NEAR_MISS = (
    "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)"
    "||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)"
    "||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)"
    "||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=AttachUserPolicy)"
    "||($.eventName=AttachGroupPolicy)}"
)


def clients(endpoint, account):
    session = boto3.session.Session(
        aws_access_key_id=account, aws_secret_access_key="demo", region_name=REGION
    )
    return {name: session.client(name, endpoint_url=endpoint) for name in ("s3", "cloudtrail", "logs", "cloudwatch", "sns")}


def metric_filter(c, group, name, pattern, metric):
    c["logs"].put_metric_filter(
        logGroupName=group,
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[{"metricName": metric, "metricNamespace": NS, "metricValue": "1"}],
    )


def alarm(c, name, metric, topic_arn):
    c["cloudwatch"].put_metric_alarm(
        AlarmName=name,
        MetricName=metric,
        Namespace=NS,
        Statistic="Sum",
        Period=300,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        EvaluationPeriods=1,
        AlarmActions=[topic_arn],
    )


def trail(c, account, name, group, multi_region):
    bucket = f"cloudtrail-{account}-{name}"
    c["s3"].create_bucket(Bucket=bucket)
    c["logs"].create_log_group(logGroupName=group)
    c["cloudtrail"].create_trail(
        Name=name,
        S3BucketName=bucket,
        IsMultiRegionTrail=multi_region,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{account}:log-group:{group}:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/CloudTrail_CloudWatchLogs",
    )
    c["cloudtrail"].start_logging(Name=name)


def demo(c, account):
    trail(c, account, "management-events", GROUP, multi_region=True)
    trail(c, account, "dev-us-east-1", "dev-trail-logs", multi_region=False)

    security = c["sns"].create_topic(Name="security-alerts")["TopicArn"]
    # An SQS subscription is confirmed at once (email waits for a click).
    c["sns"].subscribe(
        TopicArn=security, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{account}:security-alerts"
    )
    root_topic = c["sns"].create_topic(Name="root-activity")["TopicArn"]  # nobody subscribed

    metric_filter(c, GROUP, "ConsoleAuthFailures", FAILURES, "ConsoleAuthFailures")
    alarm(c, "console-auth-failures", "ConsoleAuthFailures", security)

    metric_filter(c, GROUP, "UnauthorizedCalls", UNAUTHORIZED_REORDERED, "UnauthorizedCalls")
    alarm(c, "unauthorized-api-calls", "UnauthorizedCalls", security)

    metric_filter(c, GROUP, "RootUsage", ROOT, "RootUsage")
    alarm(c, "root-usage", "RootUsage", root_topic)

    metric_filter(c, GROUP, "IAMPolicyChanges", IAM_NEAR_MISS, "IAMPolicyChanges")


def noise(c, account):
    """Hundreds of unrelated filters, a thousand alarms, topics and subscriptions."""
    for g in range(4):
        group = f"app-{g}"
        c["logs"].create_log_group(logGroupName=group)
    # Filters on the trail's log group count toward what plan must read and compare.
    for i in range(90):
        metric_filter(c, GROUP, f"app-errors-{i}", f'{{ $.level = "ERROR" && $.service = "svc{i}" }}', f"AppErrors{i}")
    # A second trail's log group, also read (it explains near-chains).
    for i in range(90):
        metric_filter(c, "dev-trail-logs", f"dev-{i}", f'{{ $.eventName = "Dev{i}" }}', f"Dev{i}")
    # Filters on log groups no trail writes to: never read.
    for i in range(120):
        metric_filter(c, f"app-{i % 4}", f"noise-{i}", f'{{ $.code = {i} }}', f"Noise{i}")
    topics = [c["sns"].create_topic(Name=f"team-{t}")["TopicArn"] for t in range(50)]
    for i, topic in enumerate(topics):
        for j in range(4):
            c["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{account}:q-{i}-{j}")
    for i in range(1000):
        alarm(c, f"service-alarm-{i:04}", f"Latency{i}", topics[i % len(topics)])


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in ("one-trail", "demo", "small", "large"):
        sys.exit(__doc__)
    endpoint, account, kind = sys.argv[1:]
    c = clients(endpoint, account)
    if kind == "one-trail":
        trail(c, account, "management-events", GROUP, multi_region=True)
        return
    demo(c, account)
    if kind == "large":
        noise(c, account)


if __name__ == "__main__":
    main()

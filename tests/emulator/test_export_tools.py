"""Tests for export_tools.py (hcl2json and deploy of the Terraform files `cis-fix export` writes).

Run from the repo root:  python -m unittest discover -s tests/emulator -p 'test_export_tools.py' -v
"""

import itertools
import json
import os
import subprocess
import sys
import tempfile
import unittest

import boto3
import botocore.config

import export_tools
from export_tools import ExportError
from test_emulator import start_emulator  # the same subprocess harness

HERE = os.path.dirname(os.path.abspath(__file__))
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})
_accounts = itertools.count(330000000001)


def new_account():
    return str(next(_accounts))


def hcl_json(document):
    """`document` as the exporter writes a JSON argument: compact JSON in an HCL quoted string."""
    return json.dumps(json.dumps(document, separators=(",", ":")))


def provider(account, alias=None, region="us-east-1"):
    alias_line = f'  alias = "{alias}"\n' if alias else ""
    return f'provider "aws" {{\n{alias_line}  region = "{region}"\n  allowed_account_ids = ["{account}"]\n}}\n'


class TempFiles(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def write(self, text, name="main.tf"):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def json(self, text):
        return export_tools.to_json(self.write(text))

    def args(self, body):
        """The args of a topic resource with `body` as its arguments."""
        return self.json(f'resource "aws_sns_topic" "t" {{\n{body}\n}}\n')["resources"][0]["args"]


class Hcl2JsonTest(TempFiles):
    def test_literal_strings_are_terraforms_values(self):
        # Each HCL escape, the template escapes $${ and %%{ (also with escapes inside them,
        # which python-hcl2 leaves unresolved) and non-ASCII text.
        args = self.args(r'''
  quote   = "a\"b"
  slash   = "a\\b"
  lines   = "a\nb\tc\rd"
  dollar  = "$${x} and %%{y}"
  inside  = "$${a\"b\\c\nd} %%{e\tf}"
  unicode = "é\u00e9\U0001F600 ☃"
  plain   = "cost$ 100% {braces} # not // a /* comment */"
  empty   = ""
  record  = "CIS 4.6: cis-fix-record:{\"control\":\"console-authentication-failures\"}"
''')
        self.assertEqual(args, {
            "quote": 'a"b', "slash": "a\\b", "lines": "a\nb\tc\rd", "dollar": "${x} and %{y}",
            "inside": '${a"b\\c\nd} %{e\tf}', "unicode": "éé\U0001F600 ☃",
            "plain": "cost$ 100% {braces} # not // a /* comment */", "empty": "",
            "record": 'CIS 4.6: cis-fix-record:{"control":"console-authentication-failures"}'})

    def test_references_numbers_and_bools(self):
        args = self.args('''
  bare     = aws_sns_topic.x.arn
  quoted   = "${aws_sns_topic.x.arn}"
  indexed  = aws_cloudwatch_log_metric_filter.f.metric_transformation[0].name
  list     = [aws_sns_topic.x.arn, "arn:literal"]
  escaped  = "$${aws_sns_topic.x.arn}"
  map      = { "k:1" = aws_sns_topic.x.arn, k2 = "v" }
  int      = 300
  float    = 0.5
  negative = -1
  yes      = true
  no       = false
''')
        ref = {"ref": "aws_sns_topic.x.arn"}
        self.assertEqual(args, {
            "bare": ref, "quoted": ref,
            "indexed": {"ref": "aws_cloudwatch_log_metric_filter.f.metric_transformation[0].name"},
            "list": [ref, "arn:literal"], "escaped": "${aws_sns_topic.x.arn}",
            "map": {"k:1": ref, "k2": "v"}, "int": 300, "float": 0.5, "negative": -1,
            "yes": True, "no": False})
        for key in ("int", "negative"):
            self.assertIs(type(args[key]), int)

    def test_nested_blocks(self):
        args = self.args('''
  metric_transformation {
    name  = "M"
    value = "1"
  }
  twice {
    a = 1
  }
  twice {
    a = 2
  }
  attribute = [{ a = 1 }]
''')
        self.assertEqual(args, {"metric_transformation": {"name": "M", "value": "1"},
                                "twice": [{"a": 1}, {"a": 2}], "attribute": [{"a": 1}]})

    def test_providers_variables_and_imports(self):
        doc = self.json('''
terraform {
  required_version = ">= 1.5.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "external_id" {
  type      = string
  sensitive = true
}

provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["111122223333"]
}

provider "aws" {
  alias               = "a444455556666_eu_west_1"
  region              = "eu-west-1"
  allowed_account_ids = ["444455556666"]
  assume_role {
    role_arn    = "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"
    external_id = var.external_id
  }
}

resource "aws_sns_topic" "t" {
  provider = aws.a444455556666_eu_west_1
  name     = "n"
}

import {
  provider = aws.a444455556666_eu_west_1
  to       = aws_sns_topic.t
  id       = "arn:aws:sns:eu-west-1:444455556666:n"
}

import {
  to = aws_cloudwatch_metric_alarm.a
  id = "alarm"
}
''')
        self.assertEqual(doc, {
            "providers": [
                {"alias": None, "assume_role": None, "region": "us-east-1",
                 "allowed_account_ids": ["111122223333"]},
                {"alias": "a444455556666_eu_west_1", "region": "eu-west-1",
                 "allowed_account_ids": ["444455556666"],
                 "assume_role": {"role_arn": "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole",
                                 "external_id": {"ref": "var.external_id"}}}],
            "resources": [{"type": "aws_sns_topic", "name": "t", "provider": "aws.a444455556666_eu_west_1",
                           "args": {"name": "n"}}],
            "imports": [
                {"to": "aws_sns_topic.t", "id": "arn:aws:sns:eu-west-1:444455556666:n",
                 "provider": "aws.a444455556666_eu_west_1"},
                {"to": "aws_cloudwatch_metric_alarm.a", "id": "alarm", "provider": None}],
            "variables": {"external_id": {"type": "string", "sensitive": True}}})

    def test_the_workspace_in_a_string_is_the_default_one(self):
        # The one template cis-fix writes (its cis-fix:deployed-by tag), as `terraform apply`
        # in a fresh directory makes it; its escaped form stays a literal.
        self.assertEqual(self.args('x = "terraform workspace ${terraform.workspace}"'),
                         {"x": "terraform workspace default"})
        self.assertEqual(self.args('x = "a $${terraform.workspace}"'),
                         {"x": "a ${terraform.workspace}"})
        with self.assertRaisesRegex(ExportError, "unsupported template"):
            self.args('x = "${terraform.workspace}-${var.x}"')

    def test_what_it_does_not_understand_is_an_error(self):
        for body, error in [
            ('x = "a-${var.x}-b"', "unsupported template"),
            ('x = "%{ if true }y%{ endif }"', "unsupported template"),
            ('x = "${a}-${b}"', "unsupported expression"),
            ('x = 1e3', "unsupported expression"),
            # python-hcl2 reads this escape on to the next "}" (the next line's).
            ('x = "$${a"\n  y = "}"', "misreads"),
            ('x = "$${a"', "cannot parse"),
        ]:
            with self.subTest(body=body), self.assertRaisesRegex(ExportError, error):
                self.args(body)
        with self.assertRaisesRegex(ExportError, "unsupported block 'data'"):
            self.json('data "aws_caller_identity" "me" {}\n')

    def test_command_line(self):
        path = self.write('resource "aws_sns_topic" "t" {\n  name = "a\\"b"\n}\n')
        out = subprocess.run([sys.executable, os.path.join(HERE, "export_tools.py"), "hcl2json", path],
                             capture_output=True, text=True, check=True).stdout
        self.assertEqual(json.loads(out)["resources"][0]["args"], {"name": 'a"b'})
        bad = self.write('resource "aws_sns_topic" "t" {\n  name = "${a}-${b}"\n}\n', "bad.tf")
        run = subprocess.run([sys.executable, os.path.join(HERE, "export_tools.py"), "hcl2json", bad],
                             capture_output=True, text=True)
        self.assertEqual((run.returncode, run.stdout), (1, ""))
        self.assertIn("unsupported expression", run.stderr)


# A valid event rule, for the files that must be refused although it is fine.
WATCH_RULE = ('resource "aws_cloudwatch_event_rule" "w" {\n  name = "w"\n'
              f'  event_pattern = {hcl_json({"source": ["aws.sns"]})}\n  state = "ENABLED"\n}}\n')


class DeployTest(TempFiles):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port = start_emulator()
        cls.endpoint = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.proc.stdin.close()
        cls.proc.wait(timeout=10)
        cls.proc.stdout.close()

    def client(self, service, account, region="us-east-1"):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=account, aws_secret_access_key="test-secret", config=NO_RETRY)

    def deploy(self, text):
        return export_tools.deploy(self.write(text), self.endpoint)

    def topics(self, account, region="us-east-1"):
        return sorted(t["TopicArn"] for t in self.client("sns", account, region).list_topics()["Topics"])

    def test_deploy_creates_exactly_the_declared_resources(self):
        account = new_account()
        self.client("logs", account).create_log_group(logGroupName="cloudtrail/management")
        queue = self.client("sqs", account).create_queue(QueueName="q")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:us-east-1:{account}:q"
        # The alarm exists already (the file imports it): deploy overwrites it in place.
        cloudwatch = self.client("cloudwatch", account)
        cloudwatch.put_metric_alarm(
            AlarmName="cis-fix-console-authentication-failures", MetricName="Old", Namespace="Old",
            Statistic="Average", Period=60, EvaluationPeriods=3, Threshold=5.0,
            ComparisonOperator="GreaterThanThreshold")
        description = 'CIS 4.6: "quoted" \\ ${not a ref} cis-fix-record:{"control":"console-authentication-failures"}'
        created = self.deploy(provider(account) + f'''
resource "aws_sns_topic" "cis_fix_alerts" {{
  name              = "cis-fix-alerts"
  kms_master_key_id = "alias/aws/sns"
  tags = {{
    "cis-fix:endpoint:0a1b2c3d" = "sqs"
    "cis-fix:managed"           = "true"
  }}
}}

resource "aws_sns_topic_subscription" "cis_fix_alerts_sqs" {{
  topic_arn = aws_sns_topic.cis_fix_alerts.arn
  protocol  = "sqs"
  endpoint  = "{queue_arn}"
}}

resource "aws_cloudwatch_log_metric_filter" "console_authentication_failures" {{
  name           = "cis-fix-console-authentication-failures-863ae1f2"
  log_group_name = "cloudtrail/management"
  pattern        = "{{ ($.eventName = ConsoleLogin) && ($.errorMessage = \\"Failed authentication\\") }}"

  metric_transformation {{
    name      = "ConsoleAuthenticationFailures"
    namespace = "CISBenchmark"
    value     = "1"
  }}
}}

resource "aws_cloudwatch_metric_alarm" "console_authentication_failures" {{
  alarm_name          = "cis-fix-console-authentication-failures"
  alarm_description   = "CIS 4.6: \\"quoted\\" \\\\ $${{not a ref}} cis-fix-record:{{\\"control\\":\\"console-authentication-failures\\"}}"
  metric_name         = aws_cloudwatch_log_metric_filter.console_authentication_failures.metric_transformation[0].name
  namespace           = aws_cloudwatch_log_metric_filter.console_authentication_failures.metric_transformation[0].namespace
  statistic           = "Sum"
  period              = 300
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  actions_enabled     = true
  alarm_actions       = [aws_sns_topic.cis_fix_alerts.arn]
  tags = {{
    "cis-fix:control" = "console-authentication-failures"
    "cis-fix:managed" = "true"
  }}
}}

import {{
  to = aws_cloudwatch_metric_alarm.console_authentication_failures
  id = "cis-fix-console-authentication-failures"
}}
''')
        topic = f"arn:aws:sns:us-east-1:{account}:cis-fix-alerts"
        sns = self.client("sns", account)
        subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(len(subscriptions), 1)
        self.assertEqual(created, [
            {"type": "aws_sns_topic", "name": "cis_fix_alerts", "id": topic, "imported": False},
            {"type": "aws_sns_topic_subscription", "name": "cis_fix_alerts_sqs",
             "id": subscriptions[0]["SubscriptionArn"], "imported": False},
            {"type": "aws_cloudwatch_log_metric_filter", "name": "console_authentication_failures",
             "id": "cloudtrail/management:cis-fix-console-authentication-failures-863ae1f2", "imported": False},
            {"type": "aws_cloudwatch_metric_alarm", "name": "console_authentication_failures",
             "id": "cis-fix-console-authentication-failures", "imported": True}])

        self.assertEqual(self.topics(account), [topic])
        self.assertEqual(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"], "alias/aws/sns")
        self.assertEqual(sorted(sns.list_tags_for_resource(ResourceArn=topic)["Tags"], key=lambda t: t["Key"]),
                         [{"Key": "cis-fix:endpoint:0a1b2c3d", "Value": "sqs"},
                          {"Key": "cis-fix:managed", "Value": "true"}])
        self.assertEqual({k: subscriptions[0][k] for k in ("Protocol", "Endpoint")},
                         {"Protocol": "sqs", "Endpoint": queue_arn})

        [metric_filter] = self.client("logs", account).describe_metric_filters()["metricFilters"]
        self.assertEqual({k: metric_filter[k] for k in ("filterName", "logGroupName", "filterPattern")}, {
            "filterName": "cis-fix-console-authentication-failures-863ae1f2",
            "logGroupName": "cloudtrail/management",
            "filterPattern": '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'})
        self.assertEqual([{k: t[k] for k in ("metricName", "metricNamespace", "metricValue")}
                          for t in metric_filter["metricTransformations"]],
                         [{"metricName": "ConsoleAuthenticationFailures", "metricNamespace": "CISBenchmark",
                           "metricValue": "1"}])

        [alarm] = cloudwatch.describe_alarms()["MetricAlarms"]
        self.assertEqual({k: alarm[k] for k in (
            "AlarmName", "AlarmDescription", "MetricName", "Namespace", "Statistic", "Period", "Threshold",
            "ComparisonOperator", "EvaluationPeriods", "ActionsEnabled", "AlarmActions")}, {
            "AlarmName": "cis-fix-console-authentication-failures", "AlarmDescription": description,
            "MetricName": "ConsoleAuthenticationFailures", "Namespace": "CISBenchmark", "Statistic": "Sum",
            "Period": 300, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "EvaluationPeriods": 1, "ActionsEnabled": True, "AlarmActions": [topic]})
        self.assertEqual(sorted(cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"],
                                key=lambda t: t["Key"]),
                         [{"Key": "cis-fix:control", "Value": "console-authentication-failures"},
                          {"Key": "cis-fix:managed", "Value": "true"}])
        self.client("sqs", account).delete_queue(QueueUrl=queue)

    def test_deploy_creates_the_watch_rule_its_target_and_the_topic_policy(self):
        account = new_account()
        topic = f"arn:aws:sns:us-east-1:{account}:cis-fix-chain-watch"
        rule_arn = f"arn:aws:events:us-east-1:{account}:rule/cis-fix-alarm-chain-tampering-watch"
        pattern = {"source": ["aws.sns"], "detail-type": ["AWS API Call via CloudTrail"],
                   "detail": {"eventSource": ["sns.amazonaws.com"],
                              "eventName": ["DeleteTopic", "SetTopicAttributes", "Unsubscribe"]}}
        policy = {"Version": "2012-10-17", "Statement": [{
            "Sid": "CisFixChainWatch", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}}]}
        # The resources in the order the exporter writes them, the policy last.
        created = self.deploy(provider(account) + f'''
resource "aws_sns_topic" "cis_fix_chain_watch" {{
  name = "cis-fix-chain-watch"
  tags = {{
    "cis-fix:managed" = "true"
  }}
}}

resource "aws_cloudwatch_event_rule" "cis_fix_alarm_chain_tampering_watch" {{
  name          = "cis-fix-alarm-chain-tampering-watch"
  description   = "cis-fix: a change to the alarm chain's topics"
  event_pattern = {hcl_json(pattern)}
  state         = "ENABLED"
  tags = {{
    "cis-fix:control"     = "alarm-chain-tampering"
    "cis-fix:deployed-by" = "terraform workspace ${{terraform.workspace}}"
    "cis-fix:managed"     = "true"
  }}
}}

resource "aws_cloudwatch_event_target" "cis_fix_alarm_chain_tampering_watch" {{
  rule      = aws_cloudwatch_event_rule.cis_fix_alarm_chain_tampering_watch.name
  target_id = "chain-watch"
  arn       = aws_sns_topic.cis_fix_chain_watch.arn
}}

resource "aws_sns_topic_policy" "cis_fix_chain_watch" {{
  arn    = aws_sns_topic.cis_fix_chain_watch.arn
  policy = {hcl_json(policy)}
}}
''')
        self.assertEqual(created, [
            {"type": "aws_sns_topic", "name": "cis_fix_chain_watch", "id": topic, "imported": False},
            {"type": "aws_sns_topic_policy", "name": "cis_fix_chain_watch", "id": topic, "imported": False},
            {"type": "aws_cloudwatch_event_rule", "name": "cis_fix_alarm_chain_tampering_watch",
             "id": "cis-fix-alarm-chain-tampering-watch", "imported": False},
            {"type": "aws_cloudwatch_event_target", "name": "cis_fix_alarm_chain_tampering_watch",
             "id": "cis-fix-alarm-chain-tampering-watch/chain-watch", "imported": False}])
        self.assertEqual(self.topics(account), [topic])

        events = self.client("events", account)
        [rule] = events.list_rules()["Rules"]
        self.assertEqual({k: rule[k] for k in ("Name", "Arn", "State", "Description")}, {
            "Name": "cis-fix-alarm-chain-tampering-watch", "Arn": rule_arn, "State": "ENABLED",
            "Description": "cis-fix: a change to the alarm chain's topics"})
        self.assertEqual(json.loads(rule["EventPattern"]), pattern)
        self.assertEqual(sorted(events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"], key=lambda t: t["Key"]),
                         [{"Key": "cis-fix:control", "Value": "alarm-chain-tampering"},
                          {"Key": "cis-fix:deployed-by", "Value": "terraform workspace default"},
                          {"Key": "cis-fix:managed", "Value": "true"}])
        targets = events.list_targets_by_rule(Rule="cis-fix-alarm-chain-tampering-watch")["Targets"]
        self.assertEqual([{k: t[k] for k in ("Id", "Arn")} for t in targets], [{"Id": "chain-watch", "Arn": topic}])
        attributes = self.client("sns", account).get_topic_attributes(TopicArn=topic)["Attributes"]
        self.assertEqual(json.loads(attributes["Policy"]), policy)

    def test_an_imported_watch_rule_target_and_policy_are_updated_in_place(self):
        account = new_account()
        sns, events = self.client("sns", account), self.client("events", account)
        old_topic, topic = (sns.create_topic(Name=n)["TopicArn"] for n in ("old", "chain-watch"))
        rule_arn = events.put_rule(Name="watch", EventPattern=json.dumps({"source": ["aws.old"]}),
                                   State="ENABLED", Tags=[{"Key": "cis-fix:managed", "Value": "old"}])["RuleArn"]
        events.put_targets(Rule="watch", Targets=[{"Id": "chain-watch", "Arn": old_topic}])
        pattern = {"source": ["aws.sns"]}
        policy = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": topic}]}
        # The rule and the topic exist already: the target and the policy name them literally.
        # DISABLED, not PutRule's default, shows that the state is passed on.
        declared = f'''
resource "aws_cloudwatch_event_rule" "w" {{
  name          = "watch"
  event_pattern = {hcl_json(pattern)}
  state         = "DISABLED"
  tags = {{
    "cis-fix:managed" = "true"
  }}
}}

resource "aws_cloudwatch_event_target" "w" {{
  rule      = "watch"
  target_id = "chain-watch"
  arn       = "{topic}"
}}

resource "aws_sns_topic_policy" "p" {{
  arn    = "{topic}"
  policy = {hcl_json(policy)}
}}
'''

        def imports(rule, target, topic_policy):
            return "".join(f'import {{\n  to = {to}\n  id = "{rid}"\n}}\n' for to, rid in [
                ("aws_cloudwatch_event_rule.w", rule), ("aws_cloudwatch_event_target.w", target),
                ("aws_sns_topic_policy.p", topic_policy)])

        missing_topic = f"arn:aws:sns:us-east-1:{account}:missing"
        for ids, missing in [(("nope", "watch/chain-watch", topic), "aws_cloudwatch_event_rule.w"),
                             (("watch", "watch/other", topic), "aws_cloudwatch_event_target.w"),
                             (("watch", "nope/chain-watch", topic), "aws_cloudwatch_event_target.w"),
                             (("watch", "watch/chain-watch", missing_topic), "aws_sns_topic_policy.p")]:
            with self.subTest(ids=ids), self.assertRaisesRegex(ExportError, f"import of {missing}: no object"):
                self.deploy(provider(account) + declared + imports(*ids))
        self.assertEqual(json.loads(events.describe_rule(Name="watch")["EventPattern"]), {"source": ["aws.old"]})

        created = self.deploy(provider(account) + declared + imports("watch", "watch/chain-watch", topic))
        self.assertEqual([(c["id"], c["imported"]) for c in created],
                         [(topic, True), ("watch", True), ("watch/chain-watch", True)])
        rule = events.describe_rule(Name="watch")
        self.assertEqual((rule["State"], json.loads(rule["EventPattern"])), ("DISABLED", pattern))
        self.assertEqual(events.list_tags_for_resource(ResourceARN=rule_arn)["Tags"],
                         [{"Key": "cis-fix:managed", "Value": "true"}])
        targets = events.list_targets_by_rule(Rule="watch")["Targets"]
        self.assertEqual([{k: t[k] for k in ("Id", "Arn")} for t in targets], [{"Id": "chain-watch", "Arn": topic}])
        self.assertEqual(json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"]), policy)

    def test_each_provider_deploys_into_its_account_and_region(self):
        one, two = new_account(), new_account()
        # An existing topic adopted by import gets the declared tags.
        self.client("sns", two, "eu-west-1").create_topic(Name="adopted")
        created = self.deploy(f'''
terraform {{
  required_version = ">= 1.5.0"
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }}
  }}
}}

variable "external_id" {{
  type      = string
  sensitive = true
}}
''' + provider(one, "a_one") + provider(two, "a_two", "eu-west-1").replace("}\n", '''
  assume_role {
    role_arn    = "arn:aws:iam::TWO:role/OrganizationAccountAccessRole"
    external_id = var.external_id
  }
}
''').replace("TWO", two) + f'''
resource "aws_sns_topic" "one" {{
  provider = aws.a_one
  name     = "alerts"
}}

resource "aws_sns_topic" "two" {{
  provider = aws.a_two
  name     = "adopted"
  tags = {{
    "cis-fix:managed" = "true"
  }}
}}

resource "aws_cloudwatch_metric_alarm" "two" {{
  provider            = aws.a_two
  alarm_name          = "alarm-two"
  metric_name         = "M"
  namespace           = "N"
  statistic           = "Sum"
  period              = 60
  threshold           = 0.5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 2
  alarm_actions       = [aws_sns_topic.two.arn]
}}

import {{
  provider = aws.a_two
  to       = aws_sns_topic.two
  id       = "arn:aws:sns:eu-west-1:{two}:adopted"
}}
''')
        one_topic, two_topic = f"arn:aws:sns:us-east-1:{one}:alerts", f"arn:aws:sns:eu-west-1:{two}:adopted"
        self.assertEqual([(c["id"], c["imported"]) for c in created],
                         [(one_topic, False), (two_topic, True), ("alarm-two", False)])
        self.assertEqual((self.topics(one), self.topics(one, "eu-west-1")), ([one_topic], []))
        self.assertEqual((self.topics(two), self.topics(two, "eu-west-1")), ([], [two_topic]))
        self.assertEqual(self.client("sns", two, "eu-west-1").list_tags_for_resource(ResourceArn=two_topic)["Tags"],
                         [{"Key": "cis-fix:managed", "Value": "true"}])
        self.assertEqual(self.client("cloudwatch", one).describe_alarms()["MetricAlarms"], [])
        [alarm] = self.client("cloudwatch", two, "eu-west-1").describe_alarms()["MetricAlarms"]
        self.assertEqual((alarm["AlarmName"], alarm["Threshold"], alarm["AlarmActions"]),
                         ("alarm-two", 0.5, [two_topic]))

    def test_what_it_cannot_deploy_fails_before_creating_anything(self):
        account = new_account()
        topic = 'resource "aws_sns_topic" "t" {\n  name = "t"\n}\n'
        for body, error in [
            ('resource "aws_sns_topic" "u" {\n  name = "u"\n  display_name = "x"\n}\n',
             r"aws_sns_topic.u: unsupported arguments \['display_name'\]"),
            ('resource "aws_cloudwatch_log_metric_filter" "f" {\n  name = "f"\n  log_group_name = "g"\n'
             '  pattern = ""\n  metric_transformation {\n    name = "M"\n    namespace = "N"\n'
             '    value = "1"\n    unit = "Count"\n  }\n}\n',
             r"unsupported arguments \['metric_transformation.unit'\]"),
            ('resource "aws_sns_topic_subscription" "s" {\n  topic_arn = aws_sns_topic.missing.arn\n'
             '  protocol = "sqs"\n  endpoint = "arn:aws:sqs:us-east-1:1:q"\n}\n',
             "unresolvable reference aws_sns_topic.missing.arn"),
            ('resource "aws_sns_topic_subscription" "s" {\n  topic_arn = aws_sns_topic.t.id\n'
             '  protocol = "sqs"\n  endpoint = "arn:aws:sqs:us-east-1:1:q"\n}\n',
             "unresolvable reference aws_sns_topic.t.id"),
            ('resource "aws_cloudwatch_event_bus" "b" {\n  name = "b"\n}\n',
             "aws_cloudwatch_event_bus.b: unsupported resource type"),
            # The rule it names is not in the file (a literal name would be: an existing rule).
            (WATCH_RULE + 'resource "aws_cloudwatch_event_target" "w" {\n'
             '  rule = aws_cloudwatch_event_rule.missing.name\n  target_id = "chain-watch"\n'
             '  arn = aws_sns_topic.t.arn\n}\n',
             "aws_cloudwatch_event_target.w: unresolvable reference aws_cloudwatch_event_rule.missing.name"),
            (WATCH_RULE.replace('  state', '  is_enabled = true\n  state'),
             r"aws_cloudwatch_event_rule.w: unsupported arguments \['is_enabled'\]"),
            ('resource "aws_cloudwatch_event_target" "w" {\n  rule = "r"\n  target_id = "t"\n'
             '  arn = aws_sns_topic.t.arn\n  role_arn = "arn:aws:iam::1:role/r"\n}\n',
             r"aws_cloudwatch_event_target.w: unsupported arguments \['role_arn'\]"),
            ('resource "aws_sns_topic_policy" "p" {\n  arn = aws_sns_topic.t.id\n  policy = "{}"\n}\n',
             "aws_sns_topic_policy.p: unresolvable reference aws_sns_topic.t.id"),
            ('resource "aws_sns_topic" "u" {\n  provider = aws.nowhere\n  name = "u"\n}\n',
             "aws_sns_topic.u: no provider aws.nowhere"),
            ('import {\n  to = aws_cloudwatch_metric_alarm.a\n  id = "a"\n}\n', "import of undeclared"),
            ('resource "aws_cloudwatch_metric_alarm" "a" {\n  alarm_name = "a"\n'
             '  comparison_operator = "GreaterThanThreshold"\n  evaluation_periods = 1\n}\n'
             'import {\n  to = aws_cloudwatch_metric_alarm.a\n  id = "a"\n}\n',
             "import of aws_cloudwatch_metric_alarm.a: no object with id 'a'"),
        ]:
            with self.subTest(error=error), self.assertRaisesRegex(ExportError, error):
                self.deploy(provider(account) + topic + body)
        self.assertEqual(self.topics(account), [])
        self.assertEqual(self.client("cloudwatch", account).describe_alarms()["MetricAlarms"], [])
        self.assertEqual(self.client("events", account).list_rules()["Rules"], [])

        run = subprocess.run([sys.executable, os.path.join(HERE, "export_tools.py"), "deploy",
                              self.write(provider(account) + topic + 'resource "aws_s3_bucket" "b" {}\n'),
                              "--endpoint", self.endpoint], capture_output=True, text=True)
        self.assertEqual((run.returncode, run.stdout), (1, ""))
        self.assertIn("aws_s3_bucket.b: unsupported resource type", run.stderr)
        self.assertEqual(self.topics(account), [])

    def test_command_line_prints_what_it_created(self):
        account = new_account()
        run = subprocess.run([sys.executable, os.path.join(HERE, "export_tools.py"), "deploy",
                              self.write(provider(account) + 'resource "aws_sns_topic" "t" {\n  name = "t"\n}\n'),
                              "--endpoint", self.endpoint], capture_output=True, text=True, check=True)
        self.assertEqual(json.loads(run.stdout), [{"type": "aws_sns_topic", "name": "t", "imported": False,
                                                   "id": f"arn:aws:sns:us-east-1:{account}:t"}])


if __name__ == "__main__":
    unittest.main()

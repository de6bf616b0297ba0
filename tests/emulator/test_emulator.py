"""Tests for the AWS emulator (emulator.py).

Run from the repo root:  python -m unittest discover -s tests/emulator -v
The emulator runs as a subprocess, exactly as the Rust test harness uses it.
"""

import datetime
import http.client
import itertools
import json
import os
import select
import subprocess
import sys
import time
import unittest

import boto3
import botocore.config
import botocore.session
import cbor2
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = datetime.timezone.utc
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})
_accounts = itertools.count(310000000001)
_names = itertools.count(1)
# CloudWatch's texts for failed SNS alarm actions (see emulator.py).
KMS_ERROR = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
NOT_AUTHORIZED = ("Resource: {alarm} is not authorized to perform: SNS:Publish on resource: {topic}"
                  " because no resource-based policy allows the SNS:Publish action")
EXPLICIT_DENY = ("Resource: {alarm} is not authorized to perform: SNS:Publish on resource: {topic}"
                 " with an explicit deny in a resource-based policy")


def new_account():
    """A fresh 12-digit account (= access key id) so tests never share state."""
    return str(next(_accounts))


def start_emulator(*extra_args):
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "emulator.py"), "--port", "0", "--exit-on-stdin-eof", *extra_args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    if not ready:
        proc.kill()
        raise RuntimeError("emulator did not print its port within 30s")
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"unexpected first line from emulator: {line!r}")
    return proc, int(line.split()[1])


class EmulatorTest(unittest.TestCase):
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

    def http(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def control(self, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        status, _, data = self.http(method, "/_emulator/" + path, body,
                                    {"Content-Type": "application/json"})
        return status, json.loads(data)

    def cbor(self, op, params, account):
        """A raw Smithy rpcv2Cbor call, as the Rust SDK sends it (signature is fake)."""
        body = cbor2.dumps(params, datetime_as_timestamp=True, timezone=UTC)
        status, headers, data = self.http(
            "POST", f"/service/GraniteServiceVersion20100801/operation/{op}", body, {
                "Content-Type": "application/cbor", "Accept": "application/cbor",
                "smithy-protocol": "rpc-v2-cbor",
                "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20260101/us-east-1/"
                                 "monitoring/aws4_request, SignedHeaders=host, Signature=0"})
        return status, headers, data, (cbor2.loads(data) if data else None)

    def client(self, service, account, session=None):
        return (session or boto3).client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=account, aws_secret_access_key="secret", config=NO_RETRY)

    def alarm_names(self, account):
        status, _, _, out = self.cbor("DescribeAlarms", {}, account)
        self.assertEqual(status, 200)
        return sorted(a["AlarmName"] for a in out["MetricAlarms"])

    def put_alarm(self, account, name, **extra):
        params = {"AlarmName": name, "MetricName": "RootUsage", "Namespace": "CISBenchmark",
                  "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
                  "ComparisonOperator": "GreaterThanOrEqualToThreshold", **extra}
        return self.cbor("PutMetricAlarm", params, account)

    def alarm_arn(self, account, name):
        return f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{name}"

    def queue(self, account, topic, allow_sns=True, allow_from=None, attributes=None):
        """A queue subscribed to `topic` whose policy lets SNS send from that topic (or
        from `allow_from`), as real SNS needs; allow_sns=False leaves it without a policy."""
        sqs = self.client("sqs", account)
        url = sqs.create_queue(QueueName=f"q{next(_names)}", Attributes=attributes or {})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if allow_sns:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": allow_from or topic}}}]})})
        self.client("sns", account).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        return url, arn

    def queued(self, account, url):
        sqs = self.client("sqs", account)
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    def set_state(self, account, name, state="ALARM", reason="test"):
        status, _, raw, out = self.cbor("SetAlarmState", {
            "AlarmName": name, "StateValue": state, "StateReason": reason}, account)
        self.assertEqual((status, raw), (200, b"\xa0"), out)

    def history(self, account, name, item_type=None, **params):
        params = {"AlarmName": name, "ScanBy": "TimestampAscending", **params}
        if item_type:
            params["HistoryItemType"] = item_type
        status, _, _, out = self.cbor("DescribeAlarmHistory", params, account)
        self.assertEqual(status, 200, out)
        return out["AlarmHistoryItems"]

    def fire(self, account, topic_attrs=None, policy=None, alarm=None):
        """A topic (with these attributes / policy) with a subscribed queue, an alarm whose
        ALARM action is the topic, set to ALARM.  -> (summary, data, messages, topic, alarm)
        of its one Action history item."""
        sns = self.client("sns", account)
        topic = sns.create_topic(Name=f"t{next(_names)}", Attributes=topic_attrs or {})["TopicArn"]
        if policy is not None:
            policy = json.dumps(policy).replace("TOPIC", topic)
            sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=policy)
        url, _ = self.queue(account, topic)
        alarm = alarm or f"alarm-{next(_names)}"
        self.assertEqual(self.put_alarm(account, alarm, AlarmActions=[topic])[0], 200)
        self.set_state(account, alarm)
        [action] = self.history(account, alarm, "Action")
        return action["HistorySummary"], json.loads(action["HistoryData"]), self.queued(account, url), \
            topic, alarm

    def assert_failed(self, outcome, error):
        summary, data, messages, topic, _ = outcome
        self.assertEqual(summary, f'Failed to execute action {topic}. Received error: "{error}"')
        self.assertEqual((data["actionState"], data["error"], data["publishedMessage"]),
                         ("Failed", error, None))
        self.assertEqual(data["notificationResource"], topic)
        self.assertEqual(messages, [])

    def assert_delivered(self, outcome):
        summary, data, messages, topic, alarm = outcome
        self.assertEqual(summary, f"Successfully executed action {topic}")
        self.assertEqual((data["actionState"], data["notificationResource"]), ("Succeeded", topic))
        self.assertNotIn("error", data)
        [message] = messages
        envelope = json.loads(message["Body"])
        self.assertEqual(envelope["MessageId"], data["publishedMessage"]["messageId"])
        self.assertEqual(json.loads(envelope["Message"])["AlarmName"], alarm)

    def faults(self, account, kinds, operations, rate=1.0):
        status, out = self.control("POST", "faults", {
            "account": account, "rate": rate, "kinds": kinds, "operations": operations, "seed": 1})
        self.assertEqual(status, 200, out)
        self.addCleanup(self.control, "DELETE", f"faults?account={account}")

    # ---- tests

    def test_health(self):
        self.assertEqual(self.http("GET", "/_emulator/health")[::2], (200, b"ok"))

    def test_cloudwatch_cbor_round_trip(self):
        acct = new_account()
        topic = f"arn:aws:sns:us-east-1:{acct}:cis-alarms"
        status, headers, raw, out = self.put_alarm(
            acct, "root-usage", AlarmActions=[topic], AlarmDescription="CIS 4.3",
            Dimensions=[{"Name": "Env", "Value": "prod"}], TreatMissingData="notBreaching",
            Tags=[{"Key": "owner", "Value": "cis-fix"}])
        self.assertEqual(status, 200)
        self.assertEqual(raw, b"\xa0")  # empty output is an empty CBOR map
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["content-length"], "1")

        before = datetime.datetime.now(UTC) - datetime.timedelta(minutes=1)
        status, headers, raw, out = self.cbor("DescribeAlarms", {"AlarmNames": ["root-usage"]}, acct)
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["content-length"]), len(raw))
        [alarm] = out["MetricAlarms"]
        self.assertEqual(alarm["AlarmName"], "root-usage")
        self.assertEqual(alarm["AlarmArn"], f"arn:aws:cloudwatch:us-east-1:{acct}:alarm:root-usage")
        self.assertEqual(alarm["AlarmActions"], [topic])
        self.assertEqual(alarm["AlarmDescription"], "CIS 4.3")
        self.assertEqual(alarm["Dimensions"], [{"Name": "Env", "Value": "prod"}])
        self.assertEqual(alarm["TreatMissingData"], "notBreaching")
        self.assertEqual((alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]),
                         ("RootUsage", "CISBenchmark", "Sum"))
        self.assertEqual(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold")
        # The Rust decoder is strict about CBOR major types.
        self.assertIs(type(alarm["Threshold"]), float)
        self.assertIs(type(alarm["Period"]), int)
        self.assertIs(type(alarm["EvaluationPeriods"]), int)
        self.assertIs(alarm["ActionsEnabled"], True)
        for key in ("AlarmConfigurationUpdatedTimestamp", "StateUpdatedTimestamp"):
            ts = alarm[key]
            self.assertIsInstance(ts, datetime.datetime)
            self.assertGreater(ts, before)
            # Re-encoding as tag 1 must give bytes present in the reply (not tag 0 / string).
            tagged = cbor2.dumps(ts, datetime_as_timestamp=True, timezone=UTC)
            self.assertEqual(tagged[0], 0xC1)
            self.assertIn(tagged, raw)

        status, _, _, out = self.cbor("ListTagsForResource", {"ResourceARN": alarm["AlarmArn"]}, acct)
        self.assertEqual((status, out), (200, {"Tags": [{"Key": "owner", "Value": "cis-fix"}]}))

        status, _, raw, _ = self.cbor("DeleteAlarms", {"AlarmNames": ["root-usage"]}, acct)
        self.assertEqual((status, raw), (200, b"\xa0"))
        self.assertEqual(self.alarm_names(acct), [])

    def test_cloudwatch_cbor_errors(self):
        acct = new_account()
        status, headers, _, out = self.cbor("GetDashboard", {"DashboardName": "missing"}, acct)
        self.assertEqual(status, 404)
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(out["__type"].split("#")[-1], "ResourceNotFound")
        self.assertEqual(out["message"], "Dashboard does not exist")
        self.assertEqual(headers["x-amzn-query-error"], "ResourceNotFound;Sender")

        arn = f"arn:aws:cloudwatch:us-east-1:{acct}:alarm:missing"
        status, headers, _, out = self.cbor(
            "TagResource", {"ResourceARN": arn, "Tags": [{"Key": "k", "Value": "v"}]}, acct)
        self.assertEqual(status, 404)
        self.assertEqual(out["__type"].split("#")[-1], "ResourceNotFoundException")
        self.assertIn("message", out)

        # Ill-typed input is a client error, not a moto crash.
        status, headers, _, out = self.cbor("DescribeAlarms", {"MaxRecords": "ten"}, acct)
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "SerializationException")
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")

        status, _, _, out = self.cbor("NoSuchOperation", {}, acct)
        self.assertEqual((status, out["__type"]), (404, "UnknownOperationException"))

    def test_botocore_rpcv2_cbor_client(self):
        """An independent rpcv2Cbor implementation (botocore's) round-trips through us."""
        session = botocore.session.Session()
        meta = session.get_service_data("cloudwatch")["metadata"]  # cached dict: patch in place
        meta["protocol"], meta["protocols"] = "smithy-rpc-v2-cbor", ["smithy-rpc-v2-cbor"]
        acct = new_account()
        cw = self.client("cloudwatch", acct, boto3.Session(botocore_session=session))
        sent = []
        cw.meta.events.register("before-send.*", lambda request, **_: sent.append(request.url))
        cw.put_metric_alarm(AlarmName="a", MetricName="m", Namespace="n", Statistic="Sum",
                            Period=60, EvaluationPeriods=2, Threshold=2.5,
                            ComparisonOperator="GreaterThanThreshold")
        [alarm] = cw.describe_alarms()["MetricAlarms"]
        self.assertEqual((alarm["Threshold"], alarm["EvaluationPeriods"]), (2.5, 2))
        self.assertIsInstance(alarm["StateUpdatedTimestamp"], datetime.datetime)
        with self.assertRaises(ClientError) as err:
            cw.get_dashboard(DashboardName="nope")
        self.assertEqual(err.exception.response["Error"]["Code"], "ResourceNotFound")
        self.assertTrue(all("/operation/" in url for url in sent), sent)

    def test_account_isolation_and_caller_identity(self):
        a, b = new_account(), new_account()
        self.assertEqual(self.put_alarm(a, "only-a")[0], 200)
        self.assertEqual(self.put_alarm(b, "only-b")[0], 200)
        self.assertEqual(self.alarm_names(a), ["only-a"])
        self.assertEqual(self.alarm_names(b), ["only-b"])
        self.assertEqual(self.client("sts", a).get_caller_identity()["Account"], a)
        self.assertEqual(self.client("sts", b).get_caller_identity()["Account"], b)
        self.client("sns", a).create_topic(Name="t-a")
        self.assertEqual(self.client("sns", b).list_topics()["Topics"], [])

    def test_call_log_and_reset(self):
        acct, other = new_account(), new_account()
        self.put_alarm(acct, "x")
        self.cbor("GetDashboard", {"DashboardName": "missing"}, acct)
        self.client("sts", acct).get_caller_identity()
        self.client("logs", acct).describe_log_groups()
        self.client("sns", other).list_topics()
        status, out = self.control("GET", f"calls?account={acct}")
        self.assertEqual(status, 200)
        calls = [(c["service"], c["operation"], c["region"], c["status"]) for c in out["calls"]]
        self.assertEqual(calls, [
            ("cloudwatch", "PutMetricAlarm", "us-east-1", 200),
            ("cloudwatch", "GetDashboard", "us-east-1", 404),
            ("sts", "GetCallerIdentity", "us-east-1", 200),
            ("logs", "DescribeLogGroups", "us-east-1", 200)])
        all_calls = self.control("GET", "calls")[1]["calls"]
        self.assertIn(("sns", "ListTopics"), [(c["service"], c["operation"]) for c in all_calls
                                              if c["account"] == other])

        self.assertEqual(self.control("POST", f"calls/reset?account={acct}")[0], 200)
        self.assertEqual(self.control("GET", f"calls?account={acct}")[1]["calls"], [])
        self.assertEqual(len(self.control("GET", f"calls?account={other}")[1]["calls"]), 1)

    def test_email_subscription_pending_until_confirmed(self):
        acct = new_account()
        sns = self.client("sns", acct)
        topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
        reply = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")
        self.assertEqual(reply["SubscriptionArn"], "pending confirmation")
        [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sub["SubscriptionArn"], "PendingConfirmation")
        self.assertEqual(sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"],
                         "PendingConfirmation")
        # ReturnSubscriptionArn=true gives the real ARN even while pending.
        real_arn = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com",
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertTrue(real_arn.startswith(topic + ":"))
        attrs = sns.get_subscription_attributes(SubscriptionArn=real_arn)["Attributes"]
        self.assertEqual(attrs["PendingConfirmation"], "true")

        status, out = self.control("POST", "confirm", {
            "account": acct, "region": "us-east-1", "subscription_arn": real_arn})
        self.assertEqual((status, out["confirmed"]), (200, [real_arn]))
        [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sub["SubscriptionArn"], real_arn)
        attrs = sns.get_subscription_attributes(SubscriptionArn=real_arn)["Attributes"]
        self.assertEqual(attrs["PendingConfirmation"], "false")

        sns.unsubscribe(SubscriptionArn=real_arn)
        self.assertEqual(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"], [])

    def test_confirm_all_on_topic_and_unknown(self):
        acct = new_account()
        sns = self.client("sns", acct)
        topic = sns.create_topic(Name="t")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="https", Endpoint="https://example.com/hook")
        sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="a@example.com")
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual({s["SubscriptionArn"] for s in subs}, {"PendingConfirmation"})
        status, out = self.control("POST", "confirm", {"account": acct, "topic_arn": topic})
        self.assertEqual((status, len(out["confirmed"])), (200, 2))
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sorted(s["SubscriptionArn"] for s in subs), sorted(out["confirmed"]))
        status, _ = self.control("POST", "confirm", {"account": acct, "subscription_arn": "arn:x"})
        self.assertEqual(status, 404)

    def test_sqs_subscription_confirmed_immediately(self):
        acct = new_account()
        sns = self.client("sns", acct)
        topic = sns.create_topic(Name="t")["TopicArn"]
        arn = sns.subscribe(TopicArn=topic, Protocol="sqs",
                            Endpoint=f"arn:aws:sqs:us-east-1:{acct}:q")["SubscriptionArn"]
        self.assertTrue(arn.startswith(topic + ":"))
        [sub] = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        self.assertEqual(sub["SubscriptionArn"], arn)

    def test_faults_cbor(self):
        acct = new_account()
        self.faults(acct, ["throttle"], ["PutMetricAlarm"])
        status, headers, _, out = self.put_alarm(acct, "throttled")
        self.assertEqual((status, out["__type"]), (400, "Throttling"))
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(self.alarm_names(acct), [])  # not forwarded; DescribeAlarms unaffected

        self.faults(acct, ["unavailable"], ["PutMetricAlarm"])
        status, _, _, out = self.put_alarm(acct, "unavailable")
        self.assertEqual((status, out["__type"]), (503, "ServiceUnavailable"))
        self.assertEqual(self.alarm_names(acct), [])

        self.faults(acct, ["lost_reply"], ["PutMetricAlarm"])
        status, _, _, out = self.put_alarm(acct, "lost")
        self.assertEqual((status, out["__type"]), (503, "ServiceUnavailable"))
        self.assertEqual(self.alarm_names(acct), ["lost"])  # the change happened

        status, out = self.control("GET", f"faults?account={acct}")
        self.assertEqual(out["injected"], {"lost_reply": 1})
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertEqual([(c["operation"], c["status"], c["fault"]) for c in calls if c["fault"]], [
            ("PutMetricAlarm", 400, "throttle"), ("PutMetricAlarm", 503, "unavailable"),
            ("PutMetricAlarm", 503, "lost_reply")])

        self.control("DELETE", f"faults?account={acct}")
        self.assertEqual(self.put_alarm(acct, "ok")[0], 200)

    def test_faults_json_logs(self):
        acct = new_account()
        logs = self.client("logs", acct)
        logs.create_log_group(logGroupName="trail")
        args = dict(logGroupName="trail", filterPattern="{ $.userIdentity.type = \"Root\" }",
                    metricTransformations=[{"metricName": "Root", "metricNamespace": "CIS",
                                            "metricValue": "1"}])

        def filters():
            return [f["filterName"] for f in logs.describe_metric_filters(logGroupName="trail")["metricFilters"]]

        for kind, code, status in (("throttle", "ThrottlingException", 400),
                                   ("unavailable", "ServiceUnavailableException", 503)):
            self.faults(acct, [kind], ["PutMetricFilter"])
            with self.assertRaises(ClientError) as err:
                logs.put_metric_filter(filterName=kind, **args)
            self.assertEqual(err.exception.response["Error"]["Code"], code)
            self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
            self.assertEqual(filters(), [])

        self.faults(acct, ["lost_reply"], ["PutMetricFilter"])
        with self.assertRaises(ClientError) as err:
            logs.put_metric_filter(filterName="lost", **args)
        self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], 503)
        self.assertEqual(filters(), ["lost"])

    def test_put_metric_filter_replaces_a_filter_of_the_same_name(self):
        logs = self.client("logs", new_account())
        logs.create_log_group(logGroupName="g")
        for pattern in ("{ $.a = 1 }", "{ $.a = 2 }"):
            logs.put_metric_filter(
                logGroupName="g", filterName="f", filterPattern=pattern,
                metricTransformations=[{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}])
        filters = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
        self.assertEqual([(f["filterName"], f["filterPattern"]) for f in filters], [("f", "{ $.a = 2 }")])

    def test_metric_filter_keeps_its_system_field_settings(self):
        """applyOnTransformedLogs, fieldSelectionCriteria and emitSystemFieldDimensions, which
        moto drops, are kept and returned; a put without them replaces the filter whole."""
        logs = self.client("logs", new_account())
        logs.create_log_group(logGroupName="g")
        transformation = {"metricName": "M", "metricNamespace": "N", "metricValue": "1"}
        logs.put_metric_filter(
            logGroupName="g", filterName="f", filterPattern="{ $.a = 1 }",
            metricTransformations=[transformation], applyOnTransformedLogs=True,
            fieldSelectionCriteria='@aws.account = "111122223333"',
            emitSystemFieldDimensions=["@aws.account", "@aws.region"])
        (f,) = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
        self.assertEqual((f["applyOnTransformedLogs"], f["fieldSelectionCriteria"], f["emitSystemFieldDimensions"]),
                         (True, '@aws.account = "111122223333"', ["@aws.account", "@aws.region"]))

        logs.put_metric_filter(logGroupName="g", filterName="f", filterPattern="{ $.a = 1 }",
                               metricTransformations=[transformation])
        (f,) = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
        self.assertIs(f["applyOnTransformedLogs"], False)
        self.assertNotIn("fieldSelectionCriteria", f)
        self.assertNotIn("emitSystemFieldDimensions", f)

        def refused(**fields):
            with self.assertRaises(ClientError) as err:
                logs.put_metric_filter(logGroupName="g", filterName="bad", filterPattern="",
                                       metricTransformations=[fields.pop("transformation", transformation)],
                                       **fields)
            return err.exception.response["Error"]["Code"]

        self.assertEqual(refused(emitSystemFieldDimensions=["@aws.accountId"]), "InvalidParameterException")
        self.assertEqual(refused(fieldSelectionCriteria="x" * 2001), "InvalidParameterException")
        self.assertEqual(refused(emitSystemFieldDimensions=["@aws.account", "@aws.region"], transformation={
            **transformation, "dimensions": {"a": "$.a", "b": "$.b"}}), "InvalidParameterException")
        self.assertEqual([f["filterName"] for f in logs.describe_metric_filters(logGroupName="g")["metricFilters"]],
                         ["f"])

    def test_log_group_transformers(self):
        """Put/Get/DeleteTransformer, which moto lacks: only a log group's own transformer is
        GetTransformer's; without one, ResourceNotFoundException."""
        acct = new_account()
        logs = self.client("logs", acct)
        logs.create_log_group(logGroupName="g")

        def code(call, **kwargs):
            with self.assertRaises(ClientError) as err:
                call(**kwargs)
            return err.exception.response["Error"]["Code"], err.exception.response["ResponseMetadata"]["HTTPStatusCode"]

        self.assertEqual(code(logs.get_transformer, logGroupIdentifier="g"), ("ResourceNotFoundException", 400))
        self.assertEqual(code(logs.get_transformer, logGroupIdentifier="missing"), ("ResourceNotFoundException", 400))
        self.assertEqual(code(logs.put_transformer, logGroupIdentifier="missing",
                              transformerConfig=[{"parseJSON": {}}]), ("ResourceNotFoundException", 400))
        # The first processor must be a parser.
        self.assertEqual(code(logs.put_transformer, logGroupIdentifier="g",
                              transformerConfig=[{"lowerCaseString": {"withKeys": ["a"]}}]),
                         ("InvalidParameterException", 400))

        config = [{"parseJSON": {}}, {"lowerCaseString": {"withKeys": ["eventName"]}}]
        logs.put_transformer(logGroupIdentifier="g", transformerConfig=config)
        arn = f"arn:aws:logs:us-east-1:{acct}:log-group:g"
        for identifier in ("g", arn):
            out = logs.get_transformer(logGroupIdentifier=identifier)
            self.assertEqual((out["logGroupIdentifier"], out["transformerConfig"]), (arn, config))
        # Another account's log group of that name has none.
        other = self.client("logs", new_account())
        other.create_log_group(logGroupName="g")
        self.assertEqual(code(other.get_transformer, logGroupIdentifier="g"), ("ResourceNotFoundException", 400))

        logs.delete_transformer(logGroupIdentifier=arn)
        self.assertEqual(code(logs.get_transformer, logGroupIdentifier="g"), ("ResourceNotFoundException", 400))
        self.assertEqual(code(logs.delete_transformer, logGroupIdentifier="g"), ("ResourceNotFoundException", 400))
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertIn(("logs", "GetTransformer", 400), {(c["service"], c["operation"], c["status"]) for c in calls})

    def test_transformer_account_policies(self):
        acct = new_account()
        logs = self.client("logs", acct)
        document = json.dumps({"transformerConfig": [{"parseJSON": {}}]})

        def code(call, **kwargs):
            with self.assertRaises(ClientError) as err:
                call(**kwargs)
            return err.exception.response["Error"]["Code"]

        self.assertEqual(logs.describe_account_policies(policyType="TRANSFORMER_POLICY")["accountPolicies"], [])
        out = logs.put_account_policy(policyName="all", policyType="TRANSFORMER_POLICY", policyDocument=document)
        self.assertEqual({k: out["accountPolicy"][k] for k in ("policyName", "policyType", "scope", "accountId")},
                         {"policyName": "all", "policyType": "TRANSFORMER_POLICY", "scope": "ALL",
                          "accountId": acct})
        self.assertNotIn("selectionCriteria", out["accountPolicy"])
        logs.delete_account_policy(policyName="all", policyType="TRANSFORMER_POLICY")

        logs.put_account_policy(policyName="lambda", policyType="TRANSFORMER_POLICY", policyDocument=document,
                                selectionCriteria='LogGroupNamePrefix IN ["/aws/lambda"]')
        # Overlapping prefixes are refused, disjoint ones kept; only LogGroupNamePrefix is a filter.
        self.assertEqual(code(logs.put_account_policy, policyName="aws", policyType="TRANSFORMER_POLICY",
                              policyDocument=document, selectionCriteria='LogGroupNamePrefix IN ["/aws"]'),
                         "InvalidParameterException")
        self.assertEqual(code(logs.put_account_policy, policyName="named", policyType="TRANSFORMER_POLICY",
                              policyDocument=document, selectionCriteria='LogGroupName NOT IN ["x"]'),
                         "InvalidParameterException")
        self.assertEqual(code(logs.put_account_policy, policyName="aws/mine", policyType="TRANSFORMER_POLICY",
                              policyDocument=document), "InvalidParameterException")
        logs.put_account_policy(policyName="waf", policyType="TRANSFORMER_POLICY", policyDocument=document,
                                selectionCriteria='LogGroupNamePrefix IN ["/aws/waf"]')
        policies = logs.describe_account_policies(policyType="TRANSFORMER_POLICY")["accountPolicies"]
        self.assertEqual([(p["policyName"], p["selectionCriteria"]) for p in policies],
                         [("lambda", 'LogGroupNamePrefix IN ["/aws/lambda"]'),
                          ("waf", 'LogGroupNamePrefix IN ["/aws/waf"]')])
        self.assertEqual([p["policyName"] for p in logs.describe_account_policies(
            policyType="TRANSFORMER_POLICY", policyName="waf")["accountPolicies"]], ["waf"])
        self.assertEqual(code(logs.describe_account_policies, policyType="NO_SUCH_POLICY"),
                         "InvalidParameterException")
        # Other types are not kept here (none to describe; a put is a loud 501).
        self.assertEqual(logs.describe_account_policies(policyType="FIELD_INDEX_POLICY")["accountPolicies"], [])
        self.assertEqual(code(logs.put_account_policy, policyName="x", policyType="FIELD_INDEX_POLICY",
                              policyDocument="{}"), "NotImplemented")
        # Per account.
        other = self.client("logs", new_account())
        self.assertEqual(other.describe_account_policies(policyType="TRANSFORMER_POLICY")["accountPolicies"], [])
        self.assertEqual(code(other.delete_account_policy, policyName="waf", policyType="TRANSFORMER_POLICY"),
                         "ResourceNotFoundException")

        # A denied read, as AWS says it, through fault injection like any call.
        self.faults(acct, ["access_denied"], ["GetTransformer", "DescribeAccountPolicies"])
        self.assertEqual(code(logs.describe_account_policies, policyType="TRANSFORMER_POLICY"),
                         "AccessDeniedException")
        self.control("DELETE", f"faults?account={acct}")

    CIS_AUTH_FAILURES = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    CIS_UNAUTHORIZED = ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
                        '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }')

    @staticmethod
    def trail_event(name, **fields):
        return json.dumps({"eventVersion": "1.09", "eventSource": "signin.amazonaws.com", "eventName": name,
                           "sourceIPAddress": "203.0.113.7", "eventType": "AwsConsoleSignIn",
                           "userIdentity": {"type": "IAMUser", "userName": "alice"},
                           "recipientAccountId": "123456789012", **fields})

    def test_test_metric_filter(self):
        """logs:TestMetricFilter, which moto lacks, answered by filter_patterns.py."""
        acct = new_account()
        logs = self.client("logs", acct)
        failed = self.trail_event("ConsoleLogin", errorMessage="Failed authentication")
        messages = [failed, self.trail_event("ConsoleLogin"), "ConsoleLogin Failed authentication",
                    self.trail_event("GetUser", errorMessage="Failed authentication"), failed]
        out = logs.test_metric_filter(filterPattern=self.CIS_AUTH_FAILURES, logEventMessages=messages)
        self.assertEqual(out["matches"], [
            {"eventNumber": 1, "eventMessage": failed, "extractedValues": {}},
            {"eventNumber": 5, "eventMessage": failed, "extractedValues": {}}])

        # () > && > ||: the exclusions bind to the AccessDenied branch only.
        messages = [self.trail_event("HeadBucket", errorCode="Client.UnauthorizedOperation"),
                    self.trail_event("HeadBucket", errorCode="AccessDenied"),
                    self.trail_event("GetObject", errorCode="AccessDenied"),
                    self.trail_event("GetObject", errorCode="AccessDenied",
                                     sourceIPAddress="delivery.logs.amazonaws.com")]
        out = logs.test_metric_filter(filterPattern=self.CIS_UNAUTHORIZED, logEventMessages=messages)
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [1, 3])

        # Only a leading / trailing * is a wildcard.
        messages = [self.trail_event("ConsoleLogin"), self.trail_event("Console*Login")]
        out = logs.test_metric_filter(filterPattern="{ $.eventName = Console*Login }", logEventMessages=messages)
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [2])
        out = logs.test_metric_filter(filterPattern="{ $.eventName = Console* }", logEventMessages=messages)
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [1, 2])

        # By default `!=` needs the field (undocumented; see filter_patterns.NE_MATCHES_MISSING).
        out = logs.test_metric_filter(filterPattern='{ $.invokedBy != "x" }', logEventMessages=[
            '{"other": 1}', '{"invokedBy": null}', '{"invokedBy": "x"}', '{"invokedBy": "y"}'])
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [4])

        # Up to 50 messages; the call is logged like any other.
        out = logs.test_metric_filter(filterPattern="{ $.n >= 48 }",
                                      logEventMessages=[json.dumps({"n": n}) for n in range(1, 51)])
        self.assertEqual([m["eventNumber"] for m in out["matches"]], [48, 49, 50])
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertEqual({(c["service"], c["operation"], c["status"]) for c in calls},
                         {("logs", "TestMetricFilter", 200)})

    def test_test_metric_filter_errors(self):
        logs = self.client("logs", new_account())

        def error(pattern, messages=("{}",)):
            with self.assertRaises(ClientError) as err:
                logs.test_metric_filter(filterPattern=pattern, logEventMessages=list(messages))
            response = err.exception.response
            return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
                response["Error"]["Message"]

        for pattern in ("{ $.a = 1", "{ $.a = x@y }", "{ $.a = %(x)% }", "{ $.a IS NOT NULL }",
                        "{ $.a = %x% || $.b = %y% || $.c = %z% }", "{ $.a[*] = 1 }"):
            status, code, message = error(pattern)
            self.assertEqual((status, code), (400, "InvalidParameterException"), pattern)
            self.assertTrue(message.startswith("Invalid metric filter pattern ("), message)
        self.assertEqual(error("{}", ["{}"] * 51), (
            400, "InvalidParameterException", "1 validation error detected: Value at 'logEventMessages' "
            "failed to satisfy constraint: Member must have length less than or equal to 50"))
        self.assertEqual(error("{ $.a = " + "x" * 1020 + " }"), (
            400, "InvalidParameterException", "1 validation error detected: Value at 'filterPattern' "
            "failed to satisfy constraint: Member must have length less than or equal to 1024"))
        # Valid for AWS, but not emulated: loud, never a silent non-match.
        status, code, _ = error("[ip, user, status_code = 4*]")
        self.assertEqual((status, code), (501, "NotImplemented"))

        # Raw requests boto3 would refuse to send.
        def raw(payload):
            status, _, data = self.http("POST", "/", json.dumps(payload), {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Logs_20140328.TestMetricFilter",
                "Authorization": "AWS4-HMAC-SHA256 Credential=123456789012/20260101/us-east-1/logs/"
                                 "aws4_request, SignedHeaders=host, Signature=0"})
            return status, json.loads(data)

        self.assertEqual(raw({"filterPattern": "", "logEventMessages": []}), (400, {
            "__type": "InvalidParameterException", "message": "1 validation error detected: Value at "
            "'logEventMessages' failed to satisfy constraint: Member must have length greater than or equal to 1"}))
        self.assertEqual(raw({"logEventMessages": ["x"]})[1]["message"], "1 validation error detected: Value at "
                         "'filterPattern' failed to satisfy constraint: Member must not be null")
        self.assertEqual(raw({"filterPattern": "", "logEventMessages": ["a", ""]})[1]["message"],
                         "1 validation error detected: Value '' at 'logEventMessages.2.member' failed to "
                         "satisfy constraint: Member must have length greater than or equal to 1")
        self.assertEqual(raw(["not", "an", "object"])[1]["__type"], "SerializationException")
        self.assertEqual(raw({"filterPattern": "", "logEventMessages": ["a", "b"]}),
                         (200, {"matches": [{"eventNumber": 1, "eventMessage": "a", "extractedValues": {}},
                                            {"eventNumber": 2, "eventMessage": "b", "extractedValues": {}}]}))

    def filter_events(self, logs, **params):
        """Every page of FilterLogEvents: (the events' messages, the number of pages)."""
        messages, pages, token = [], 0, None
        while True:
            out = logs.filter_log_events(**params, **({"nextToken": token} if token else {}))
            pages += 1
            messages += [e["message"] for e in out["events"]]
            token = out.get("nextToken")
            if not token:
                return messages, pages

    def log_group_with(self, account, events):
        """A log group holding `events` ((timestamp ms, message)), across two streams."""
        logs = self.client("logs", account)
        group = f"trail{next(_names)}"
        logs.create_log_group(logGroupName=group)
        for stream in ("a", "b"):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        half = len(events) // 2
        for stream, part in (("a", events[:half]), ("b", events[half:])):
            for at in range(0, len(part), 5000):
                batch = sorted(part[at:at + 5000])
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                    {"timestamp": t, "message": m} for t, m in batch])
        return logs, group

    def test_filter_log_events_evaluates_json_patterns(self):
        """moto returns every event for a JSON pattern; AWS, and now the emulator, the matches."""
        acct = new_account()
        base = (int(time.time()) // 60 - 3 * 1440) * 60_000  # 3 days ago, on a minute (moto, as AWS, refuses events over 14 days old)
        failed = self.trail_event("ConsoleLogin", errorMessage="Failed authentication")
        events = [(base + n * 1000, failed if n % 3 == 0 else self.trail_event("ConsoleLogin"))
                  for n in range(30)]
        logs, group = self.log_group_with(acct, events)
        messages, pages = self.filter_events(logs, logGroupName=group, filterPattern=self.CIS_AUTH_FAILURES)
        self.assertEqual((len(messages), pages), (10, 1))
        self.assertEqual(set(messages), {failed})
        # Both ends of the window are inclusive (API reference: before startTime / later than
        # endTime are not returned): events at 0 s, 3 s and 6 s, of 0-6 s.
        messages, _ = self.filter_events(logs, logGroupName=group, filterPattern=self.CIS_AUTH_FAILURES,
                                         startTime=base, endTime=base + 6000)
        self.assertEqual(len(messages), 3)
        messages, _ = self.filter_events(logs, logGroupName=group, filterPattern=self.CIS_AUTH_FAILURES,
                                         startTime=base + 1, endTime=base + 5999)
        self.assertEqual(len(messages), 1)
        # No pattern: every event, in timestamp order across streams.
        out = logs.filter_log_events(logGroupName=group)
        self.assertEqual([e["timestamp"] for e in out["events"]], [t for t, _ in events])
        self.assertEqual(len({e["logStreamName"] for e in out["events"]}), 2)
        # The call is logged like any other; no write is.
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertEqual({c["operation"] for c in calls if c["operation"].startswith("Filter")},
                         {"FilterLogEvents"})

    def test_filter_log_events_pages(self):
        acct = new_account()
        base = (int(time.time()) // 60 - 3 * 1440) * 60_000  # 3 days ago, on a minute (moto, as AWS, refuses events over 14 days old)
        hit, miss = json.dumps({"errorCode": "AccessDenied"}), json.dumps({"errorCode": "None"})
        events = [(base + n, hit if n % 2 else miss) for n in range(40)]
        logs, group = self.log_group_with(acct, events)
        pattern = "{ $.errorCode = AccessDenied* }"
        # `limit` pages: 20 matches by 7.
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern, limit=7)
        self.assertEqual(len(out["events"]), 7)
        self.assertIn("nextToken", out)
        self.assertEqual(self.filter_events(logs, logGroupName=group, filterPattern=pattern, limit=7),
                         ([hit] * 20, 3))
        # The test switch: pages of 3 events, and scans of 4 stored events, some pages empty.
        status, _ = self.control("POST", "filter-log-events", {"account": acct, "page_events": 3})
        self.assertEqual(status, 200)
        self.assertEqual(self.filter_events(logs, logGroupName=group, filterPattern=pattern), ([hit] * 20, 7))
        self.control("POST", "filter-log-events", {"account": acct, "scan_events": 4})
        first = logs.filter_log_events(logGroupName=group, filterPattern='{ $.errorCode = "None" }',
                                       startTime=base + 30)
        self.assertEqual((first["events"], bool(first.get("nextToken"))), ([], True))
        self.assertEqual(self.filter_events(logs, logGroupName=group, filterPattern=pattern), ([hit] * 20, 10))
        self.control("POST", "filter-log-events", {"account": acct})
        # 1 MB pages: 1,500 events of about 1 KB.
        big = json.dumps({"errorCode": "AccessDenied", "pad": "x" * 1000})
        logs, group = self.log_group_with(acct, [(base + n, big) for n in range(1500)])
        out = logs.filter_log_events(logGroupName=group, filterPattern=pattern)
        self.assertLess(len(out["events"]), 1100)
        self.assertGreater(len(out["events"]), 900)
        self.assertEqual(len(self.filter_events(logs, logGroupName=group, filterPattern=pattern)[0]), 1500)

    def test_filter_log_events_errors(self):
        logs = self.client("logs", new_account())

        def error(**params):
            with self.assertRaises(ClientError) as err:
                logs.filter_log_events(**params)
            return err.exception.response["Error"]["Code"]

        self.assertEqual(error(logGroupName="missing"), "ResourceNotFoundException")
        logs2 = self.client("logs", new_account())
        logs2.create_log_group(logGroupName="g")
        with self.assertRaises(ClientError) as err:
            logs2.filter_log_events(logGroupName="g", filterPattern="{ $.a = ")
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidParameterException")
        with self.assertRaises(ClientError) as err:
            logs2.filter_log_events(logGroupName="g", nextToken="bogus")
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidParameterException")
        with self.assertRaises(ClientError) as err:
            logs2.filter_log_events(logGroupName="g", startTime=10, endTime=5)
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidParameterException")

    def test_faults_can_stop_after_a_count(self):
        acct = new_account()
        logs = self.client("logs", acct)
        logs.create_log_group(logGroupName="g")
        status, out = self.control("POST", "faults", {"account": acct, "kinds": ["throttle"],
                                                      "operations": ["FilterLogEvents"], "count": 2})
        self.assertEqual(status, 200, out)
        self.addCleanup(self.control, "DELETE", f"faults?account={acct}")
        codes = []
        for _ in range(4):
            try:
                logs.filter_log_events(logGroupName="g")
                codes.append("ok")
            except ClientError as exc:
                codes.append(exc.response["Error"]["Code"])
        self.assertEqual(codes, ["ThrottlingException", "ThrottlingException", "ok", "ok"])

    def test_test_metric_filter_faults(self):
        acct = new_account()
        logs = self.client("logs", acct)
        args = dict(filterPattern=self.CIS_AUTH_FAILURES,
                    logEventMessages=[self.trail_event("ConsoleLogin", errorMessage="Failed authentication")])
        for kind, code, status in (("throttle", "ThrottlingException", 400),
                                   ("unavailable", "ServiceUnavailableException", 503),
                                   ("lost_reply", "ServiceUnavailableException", 503),
                                   ("access_denied", "AccessDeniedException", 400)):
            self.faults(acct, [kind], ["TestMetricFilter"])
            with self.assertRaises(ClientError) as err:
                logs.test_metric_filter(**args)
            self.assertEqual(err.exception.response["Error"]["Code"], code, kind)
            self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], status, kind)
            self.assertEqual(self.control("GET", f"faults?account={acct}")[1]["injected"], {kind: 1})
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertEqual([(c["operation"], c["fault"]) for c in calls],
                         [("TestMetricFilter", k) for k in ("throttle", "unavailable", "lost_reply", "access_denied")])
        self.control("DELETE", f"faults?account={acct}")
        self.assertEqual(len(logs.test_metric_filter(**args)["matches"]), 1)

    def test_faults_query_sns(self):
        acct, bystander = new_account(), new_account()
        sns = self.client("sns", acct)

        def topics():
            return [t["TopicArn"].rsplit(":", 1)[1] for t in sns.list_topics()["Topics"]]

        for kind, code, status in (("throttle", "Throttling", 400),
                                   ("unavailable", "ServiceUnavailable", 503)):
            self.faults(acct, [kind], ["CreateTopic"])
            with self.assertRaises(ClientError) as err:
                sns.create_topic(Name=kind)
            self.assertEqual(err.exception.response["Error"]["Code"], code)
            self.assertEqual(err.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
            self.assertEqual(topics(), [])

        self.faults(acct, ["lost_reply"], ["CreateTopic"])
        with self.assertRaises(ClientError) as err:
            sns.create_topic(Name="lost")
        self.assertEqual(err.exception.response["Error"]["Code"], "ServiceUnavailable")
        self.assertEqual(topics(), ["lost"])
        # Faults are per account.
        self.client("sns", bystander).create_topic(Name="fine")
        status, out = self.control("GET", f"faults?account={bystander}")
        self.assertEqual((status, out["active"]), (200, False))

    def test_access_denied_in_each_protocol(self):
        acct = new_account()
        self.faults(acct, ["access_denied"], ["DescribeAlarms", "DescribeMetricFilters",
                                              "ListSubscriptions"])
        status, headers, _, out = self.cbor("DescribeAlarms", {}, acct)
        self.assertEqual((status, out["__type"]), (403, "AccessDenied"))
        self.assertTrue(headers["x-amzn-query-error"].startswith("AccessDenied;"))
        for service, call, code in (
                ("logs", lambda c: c.describe_metric_filters(), "AccessDeniedException"),
                ("sns", lambda c: c.list_subscriptions(), "AuthorizationError")):
            with self.assertRaises(ClientError) as err:
                call(self.client(service, acct))
            self.assertEqual(err.exception.response["Error"]["Code"], code)

    def test_no_matches_fault_empties_a_test_metric_filter_reply(self):
        account = new_account()
        logs = self.client("logs", account)
        pattern = '{ $.eventName = "ConsoleLogin" }'
        message = json.dumps({"eventName": "ConsoleLogin"})
        self.assertEqual(len(logs.test_metric_filter(
            filterPattern=pattern, logEventMessages=[message])["matches"]), 1)
        self.faults(account, ["no_matches"], ["TestMetricFilter"])
        self.assertEqual(logs.test_metric_filter(
            filterPattern=pattern, logEventMessages=[message])["matches"], [])

    def test_delay_slows_a_call_but_makes_it(self):
        acct = new_account()
        status, out = self.control("POST", "faults", {
            "account": acct, "kinds": ["delay"], "operations": ["CreateTopic"], "delay_ms": 400})
        self.assertEqual(status, 200, out)
        self.addCleanup(self.control, "DELETE", f"faults?account={acct}")
        sns = self.client("sns", acct)
        started = time.monotonic()
        sns.create_topic(Name="slow")
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        self.assertEqual(len(sns.list_topics()["Topics"]), 1)

    def test_skip_lets_the_first_matching_calls_through(self):
        acct = new_account()
        status, out = self.control("POST", "faults", {
            "account": acct, "kinds": ["access_denied"], "operations": ["SetAlarmState"],
            "skip": 1})
        self.assertEqual(status, 200, out)
        self.addCleanup(self.control, "DELETE", f"faults?account={acct}")
        self.put_alarm(acct, "drilled")
        # Not counted: calls the plan does not match.
        self.assertEqual(self.cbor("DescribeAlarms", {}, acct)[0], 200)
        statuses = [self.cbor("SetAlarmState", {"AlarmName": "drilled", "StateValue": value,
                                                "StateReason": "test"}, acct)[0]
                    for value in ("ALARM", "OK", "OK")]
        self.assertEqual(statuses, [200, 403, 403])
        self.assertEqual(self.control("GET", f"faults?account={acct}")[1]["injected"],
                         {"access_denied": 2})

    def test_fault_rate_is_deterministic_per_account(self):
        def pattern(acct):
            self.faults(acct, ["throttle"], [], rate=0.5)
            return [self.cbor("DescribeAlarms", {}, acct)[0] for _ in range(12)]

        a, b = pattern(new_account()), pattern(new_account())
        self.assertEqual(a, b)  # same seed, separate RNGs
        self.assertEqual(set(a), {200, 400})

    # ---- KMS AWS managed keys

    def test_kms_aws_managed_key_for_sns(self):
        acct = new_account()
        kms = self.client("kms", acct)
        meta = kms.describe_key(KeyId="alias/aws/sns")["KeyMetadata"]
        self.assertEqual((meta["KeyManager"], meta["KeyState"], meta["Enabled"], meta["AWSAccountId"]),
                         ("AWS", "Enabled", True, acct))
        self.assertEqual(meta["Description"],
                         "Default master key that protects my SNS topics when no other key is defined")
        # Created once, on first use: the alias ARN names the same key.
        by_arn = kms.describe_key(KeyId=f"arn:aws:kms:us-east-1:{acct}:alias/aws/sns")["KeyMetadata"]
        self.assertEqual(by_arn["KeyId"], meta["KeyId"])
        aliases = {a["AliasName"]: a for a in kms.list_aliases(KeyId=meta["KeyId"])["Aliases"]}
        self.assertEqual(aliases["alias/aws/sns"]["TargetKeyId"], meta["KeyId"])
        self.assertNotEqual(
            self.client("kms", new_account()).describe_key(KeyId="alias/aws/sns")["KeyMetadata"]["KeyId"],
            meta["KeyId"])  # one per account

        policy = json.loads(kms.get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
        self.assertEqual(policy["Id"], "auto-sns-1")
        via_sns, metadata = policy["Statement"]
        self.assertEqual((via_sns["Effect"], via_sns["Principal"], via_sns["Resource"]),
                         ("Allow", {"AWS": "*"}, "*"))
        self.assertEqual(sorted(via_sns["Action"]), sorted([
            "kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants", "kms:DescribeKey"]))
        self.assertEqual(via_sns["Condition"], {"StringEquals": {
            "kms:ViaService": "sns.us-east-1.amazonaws.com", "kms:CallerAccount": acct}})
        self.assertEqual(metadata["Principal"], {"AWS": f"arn:aws:iam::{acct}:root"})
        self.assertEqual(sorted(metadata["Action"]),
                         ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"])
        self.assertTrue(kms.get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"])
        with self.assertRaises(ClientError) as err:
            kms.put_key_policy(KeyId=meta["KeyId"], PolicyName="default", Policy=json.dumps(policy))
        self.assertEqual(err.exception.response["Error"]["Code"], "AccessDeniedException")

        # A customer key keeps moto's default policy, which is AWS's ("key-default-1").
        key = kms.create_key()["KeyMetadata"]
        self.assertEqual(key["KeyManager"], "CUSTOMER")
        policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
        [root] = policy["Statement"]
        self.assertEqual((policy["Id"], root["Effect"], root["Principal"], root["Action"], root["Resource"]),
                         ("key-default-1", "Allow", {"AWS": f"arn:aws:iam::{acct}:root"}, "kms:*", "*"))
        with self.assertRaises(ClientError) as err:
            kms.describe_key(KeyId="alias/aws/nonsense")
        self.assertEqual(err.exception.response["Error"]["Code"], "NotFoundException")

    # ---- alarm actions

    def test_alarm_notification_reaches_sqs_subscriber(self):
        acct = new_account()
        sns = self.client("sns", acct)
        topic = sns.create_topic(Name="cis-alarms")["TopicArn"]
        # moto's default topic policy is AWS's, and it lets CloudWatch publish.
        default = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        [statement] = default["Statement"]
        self.assertEqual((statement["Principal"], statement["Condition"]),
                         ({"AWS": "*"}, {"StringEquals": {"AWS:SourceOwner": acct}}))
        self.assertIn("SNS:Publish", statement["Action"])
        url, queue_arn = self.queue(acct, topic)
        self.put_alarm(acct, "root-usage", AlarmActions=[topic], AlarmDescription="CIS 4.3",
                       Dimensions=[{"Name": "Env", "Value": "prod"}])
        self.assertEqual(self.cbor("DescribeAlarms", {}, acct)[3]["MetricAlarms"][0]["StateValue"],
                         "INSUFFICIENT_DATA")  # as PutMetricAlarm leaves a new alarm
        before = datetime.datetime.now(UTC) - datetime.timedelta(seconds=5)
        self.set_state(acct, "root-usage", reason="Threshold Crossed: test")

        [message] = self.queued(acct, url)
        envelope = json.loads(message["Body"])
        self.assertEqual((envelope["Type"], envelope["TopicArn"], envelope["Subject"]),
                         ("Notification", topic, 'ALARM: "root-usage" in US East (N. Virginia)'))
        body = json.loads(envelope["Message"])
        self.assertEqual({k: body[k] for k in (
            "AlarmName", "AlarmDescription", "AWSAccountId", "NewStateValue", "NewStateReason",
            "OldStateValue", "Region", "AlarmArn", "AlarmActions", "OKActions")}, {
            "AlarmName": "root-usage", "AlarmDescription": "CIS 4.3", "AWSAccountId": acct,
            "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed: test",
            "OldStateValue": "INSUFFICIENT_DATA", "Region": "US East (N. Virginia)",
            "AlarmArn": self.alarm_arn(acct, "root-usage"), "AlarmActions": [topic], "OKActions": []})
        self.assertRegex(body["StateChangeTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        self.assertEqual(body["Trigger"], {
            "MetricName": "RootUsage", "Namespace": "CISBenchmark", "StatisticType": "Statistic",
            "Statistic": "SUM", "Unit": None, "Dimensions": [{"value": "prod", "name": "Env"}],
            "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "Threshold": 1.0, "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""})

        items = self.history(acct, "root-usage")
        self.assertEqual([(i["HistoryItemType"], i["HistorySummary"]) for i in items], [
            ("ConfigurationUpdate", 'Alarm "root-usage" created'),
            ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
            ("Action", f"Successfully executed action {topic}")])
        self.assertTrue(all(i["AlarmType"] == "MetricAlarm" and i["Timestamp"] > before for i in items))
        state = json.loads(items[1]["HistoryData"])
        self.assertEqual(state, {"version": "1.0",
                                 "oldState": {"stateValue": "INSUFFICIENT_DATA",
                                              "stateReason": "Unchecked: Initial alarm creation"},
                                 "newState": {"stateValue": "ALARM", "stateReason": "Threshold Crossed: test"}})
        action = json.loads(items[2]["HistoryData"])
        self.assertEqual((action["actionState"], action["notificationResource"]), ("Succeeded", topic))
        self.assertEqual(action["publishedMessage"]["messageId"], envelope["MessageId"])
        self.assertEqual(action["stateUpdateTimestamp"], int(items[1]["Timestamp"].timestamp() * 1000))

        # The control plane shows what SNS accepted and what sits in the queue.
        status, out = self.control("GET", f"sns-published?account={acct}")
        self.assertEqual(status, 200)
        [published] = out["messages"]
        self.assertEqual((published["topic_arn"], published["message_id"], published["subject"]),
                         (topic, envelope["MessageId"], envelope["Subject"]))
        self.assertEqual(json.loads(published["message"]), body)
        status, out = self.control("GET", f"sqs-messages?queue_arn={queue_arn}")
        self.assertEqual((status, [json.loads(m["body"])["MessageId"] for m in out["messages"]]),
                         (200, [envelope["MessageId"]]))
        status, out = self.control("GET", f"alarm-history?account={acct}&alarm=root-usage")
        self.assertEqual([i["HistorySummary"] for i in out["items"]], [i["HistorySummary"] for i in items])
        self.assertTrue(out["items"][0]["Timestamp"].endswith("Z"))

        # Back to OK: history, but no action (no OKActions); same state again: nothing at all.
        self.set_state(acct, "root-usage", "OK")
        self.set_state(acct, "root-usage", "OK")
        self.assertEqual([i["HistorySummary"] for i in self.history(acct, "root-usage")][3:],
                         ["Alarm updated from ALARM to OK"])
        self.assertEqual(self.queued(acct, url), [])

    def test_ok_actions_and_disabled_actions(self):
        acct = new_account()
        topic = self.client("sns", acct).create_topic(Name="ops")["TopicArn"]
        url, _ = self.queue(acct, topic)
        self.put_alarm(acct, "a", AlarmActions=[topic], OKActions=[topic], ActionsEnabled=False)
        self.set_state(acct, "a")
        self.assertEqual([i["HistoryItemType"] for i in self.history(acct, "a")],
                         ["ConfigurationUpdate", "StateUpdate"])  # no action while disabled
        self.assertEqual(self.cbor("EnableAlarmActions", {"AlarmNames": ["a"]}, acct)[0], 200)
        self.set_state(acct, "a", "OK")
        [message] = self.queued(acct, url)
        envelope = json.loads(message["Body"])
        self.assertEqual(envelope["Subject"], 'OK: "a" in US East (N. Virginia)')
        self.assertEqual(json.loads(envelope["Message"])["OldStateValue"], "ALARM")
        [action] = self.history(acct, "a", "Action")
        self.assertEqual(action["HistorySummary"], f"Successfully executed action {topic}")

    def test_action_to_missing_topic_fails(self):
        acct = new_account()
        topic = f"arn:aws:sns:us-east-1:{acct}:gone"
        self.put_alarm(acct, "a", AlarmActions=[topic])
        self.set_state(acct, "a")
        [action] = self.history(acct, "a", "Action")
        self.assertEqual(action["HistorySummary"],
                         f'Failed to execute action {topic}. Received error: "Topic does not exist"')
        self.assertEqual(json.loads(action["HistoryData"])["actionState"], "Failed")

    def test_topic_encrypted_with_aws_managed_key_is_not_published(self):
        acct = new_account()
        for key in ("alias/aws/sns", f"arn:aws:kms:us-east-1:{acct}:alias/aws/sns"):
            self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key}), KMS_ERROR)
        status, out = self.control("GET", f"sns-published?account={acct}")
        self.assertEqual((status, out["messages"]), (200, []))  # SNS never accepted it
        # Naming the managed key created it, as KMS does.
        meta = self.client("kms", acct).describe_key(KeyId="alias/aws/sns")["KeyMetadata"]
        self.assertEqual(meta["KeyManager"], "AWS")
        # Also by key ARN.
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": meta["Arn"]}), KMS_ERROR)

    def test_topic_encrypted_with_customer_key(self):
        acct = new_account()
        kms = self.client("kms", acct)
        root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "kms:*", "Resource": "*"}

        def key(*statements, alias=None):
            policy = {"Version": "2012-10-17", "Statement": [root, *statements]}
            key_id = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
            if alias:
                kms.create_alias(AliasName=alias, TargetKeyId=key_id)
            return key_id

        def cloudwatch(actions, **extra):
            return {"Sid": "Allow_CloudWatch_for_CMK", "Effect": "Allow",
                    "Principal": {"Service": ["cloudwatch.amazonaws.com"]}, "Action": actions,
                    "Resource": "*", **extra}

        good = cloudwatch(["kms:Decrypt", "kms:GenerateDataKey*"])
        self.assert_delivered(self.fire(acct, {"KmsMasterKeyId": key(good)}))
        self.assert_delivered(self.fire(acct, {"KmsMasterKeyId": key(good, alias="alias/cis")}))
        self.assert_delivered(self.fire(acct, {"KmsMasterKeyId": "alias/cis"}))
        self.assert_delivered(self.fire(acct, {"KmsMasterKeyId": key(cloudwatch("kms:*"))}))
        self.assert_delivered(self.fire(acct, {"KmsMasterKeyId": key(cloudwatch(
            ["kms:Decrypt", "kms:GenerateDataKey"],
            Condition={"StringEquals": {"aws:SourceAccount": acct}}))}))
        # Default policy only (account root), one of the two actions, a Deny, a condition
        # that does not hold, a disabled key, a key that does not exist: no.
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key()}), KMS_ERROR)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key(cloudwatch("kms:Decrypt"))}), KMS_ERROR)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key(cloudwatch("kms:GenerateDataKey*"))}),
                           KMS_ERROR)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key(good, {
            "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})}), KMS_ERROR)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": key(cloudwatch(
            ["kms:Decrypt", "kms:GenerateDataKey*"],
            Condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:other-*"}}))}),
            KMS_ERROR)
        disabled = key(good)
        kms.disable_key(KeyId=disabled)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": disabled}), KMS_ERROR)
        self.assert_failed(self.fire(acct, {"KmsMasterKeyId": "alias/no-such-key"}), KMS_ERROR)

    def test_topic_policy_decides_whether_cloudwatch_may_publish(self):
        acct = new_account()

        def policy(*statements):
            return {"Version": "2012-10-17", "Statement": list(statements)}

        def allow(principal, **extra):
            return {"Effect": "Allow", "Principal": principal, "Action": "SNS:Publish",
                    "Resource": "TOPIC", **extra}

        cloudwatch = {"Service": "cloudwatch.amazonaws.com"}
        # Only an IAM role, or the account (IAM identities of it, which CloudWatch is not).
        for principal in ({"AWS": f"arn:aws:iam::{acct}:role/ops"}, {"AWS": acct},
                          {"AWS": f"arn:aws:iam::{acct}:root"}, {"Service": "events.amazonaws.com"}):
            outcome = self.fire(acct, policy=policy(allow(principal)), alarm="a-" + str(next(_names)))
            self.assert_failed(outcome, NOT_AUTHORIZED.format(alarm=self.alarm_arn(acct, outcome[4]),
                                                              topic=outcome[3]))
        # Actions the statement does not cover.
        outcome = self.fire(acct, policy=policy({**allow(cloudwatch), "Action": "SNS:Subscribe"}))
        self.assert_failed(outcome, NOT_AUTHORIZED.format(alarm=self.alarm_arn(acct, outcome[4]),
                                                          topic=outcome[3]))
        # The service principal, alone, in a list, "*" or {"AWS": "*"}; sns:* and * actions.
        for principal in (cloudwatch, {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
                          "*", {"AWS": "*"}):
            self.assert_delivered(self.fire(acct, policy=policy(allow(principal))))
        self.assert_delivered(self.fire(acct, policy=policy({**allow(cloudwatch), "Action": "sns:*"})))
        self.assert_delivered(self.fire(acct, policy=policy({**allow(cloudwatch), "Action": "*"})))

        # aws:SourceArn must be the alarm's ARN; aws:SourceAccount / AWS:SourceOwner the account.
        self.assert_delivered(self.fire(acct, alarm="src-1", policy=policy(allow(cloudwatch, Condition={
            "ArnEquals": {"aws:SourceArn": self.alarm_arn(acct, "src-1")}}))))
        self.assert_delivered(self.fire(acct, alarm="src-2", policy=policy(allow(cloudwatch, Condition={
            "ArnLike": {"aws:sourcearn": f"arn:aws:cloudwatch:us-east-1:{acct}:alarm:src-*"},
            "StringEquals": {"aws:SourceAccount": acct}}))))
        outcome = self.fire(acct, alarm="src-3", policy=policy(allow(cloudwatch, Condition={
            "ArnEquals": {"aws:SourceArn": self.alarm_arn(acct, "another-alarm")}})))
        self.assert_failed(outcome, NOT_AUTHORIZED.format(alarm=self.alarm_arn(acct, "src-3"),
                                                          topic=outcome[3]))
        outcome = self.fire(acct, alarm="src-4", policy=policy(allow({"AWS": "*"}, Condition={
            "StringEquals": {"AWS:SourceOwner": "999999999999"}})))
        self.assert_failed(outcome, NOT_AUTHORIZED.format(alarm=self.alarm_arn(acct, "src-4"),
                                                          topic=outcome[3]))

        # An explicit Deny beats any Allow.
        outcome = self.fire(acct, alarm="denied", policy=policy(
            allow(cloudwatch), {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
                                "Resource": "TOPIC",
                                "Condition": {"StringNotEquals": {"aws:SourceAccount": "999999999999"}}}))
        self.assert_failed(outcome, EXPLICIT_DENY.format(alarm=self.alarm_arn(acct, "denied"),
                                                         topic=outcome[3]))

    def test_sns_delivery_to_sqs_needs_the_queue_policy(self):
        acct = new_account()
        sns = self.client("sns", acct)
        topic = sns.create_topic(Name="t")["TopicArn"]
        allowed, _ = self.queue(acct, topic)
        no_policy, _ = self.queue(acct, topic, allow_sns=False)
        managed_key, _ = self.queue(acct, topic, attributes={"KmsMasterKeyId": "alias/aws/sqs"})
        other_topic, _ = self.queue(acct, topic, allow_from=f"arn:aws:sns:us-east-1:{acct}:other")
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:us-east-1:{acct}:missing")
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sec@example.com")  # pending
        message_id = sns.publish(TopicArn=topic, Message="hello")["MessageId"]  # never fails
        self.assertEqual(len(self.queued(acct, allowed)), 1)
        self.assertEqual(self.queued(acct, no_policy), [])
        self.assertEqual(self.queued(acct, managed_key), [])
        self.assertEqual(self.queued(acct, other_topic), [])
        status, out = self.control("GET", f"sns-published?topic_arn={topic}")
        self.assertEqual([m["message_id"] for m in out["messages"]], [message_id])

        # A queue in another account gets it in that account, when its policy allows the topic.
        other = new_account()
        sqs = self.client("sqs", other)
        url = sqs.create_queue(QueueName="central")["QueueUrl"]
        arn = f"arn:aws:sqs:us-east-1:{other}:central"
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
            "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic},
                                           "StringEquals": {"aws:SourceAccount": acct}}}]})})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        sns.publish(TopicArn=topic, Message="again")
        self.assertEqual([json.loads(m["Body"])["Message"] for m in self.queued(other, url)], ["again"])

    def test_set_alarm_state_runs_actions_in_every_protocol(self):
        for protocol in ("smithy-rpc-v2-cbor", "json", "query"):
            with self.subTest(protocol=protocol):
                session = botocore.session.Session()
                meta = session.get_service_data("cloudwatch")["metadata"]
                meta["protocol"], meta["protocols"] = protocol, [protocol]
                acct = new_account()
                cw = self.client("cloudwatch", acct, boto3.Session(botocore_session=session))
                topic = self.client("sns", acct).create_topic(Name="t")["TopicArn"]
                url, _ = self.queue(acct, topic)
                cw.put_metric_alarm(AlarmName="a", MetricName="m", Namespace="n", Statistic="Sum",
                                    Period=60, EvaluationPeriods=1, Threshold=1.0,
                                    ComparisonOperator="GreaterThanThreshold", AlarmActions=[topic])
                cw.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="r")
                self.assertEqual(len(self.queued(acct, url)), 1)
                items = cw.describe_alarm_history(AlarmName="a", HistoryItemType="Action")["AlarmHistoryItems"]
                self.assertEqual([i["HistorySummary"] for i in items], [f"Successfully executed action {topic}"])
                self.assertIsInstance(items[0]["Timestamp"], datetime.datetime)
                calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
                self.assertIn(("cloudwatch", "DescribeAlarmHistory", 200),
                              [(c["service"], c["operation"], c["status"]) for c in calls])

    def test_alarm_update_keeps_state_and_is_recorded(self):
        acct = new_account()
        self.put_alarm(acct, "a", AlarmDescription="v1")
        self.set_state(acct, "a")
        self.put_alarm(acct, "a", AlarmDescription="v2", Threshold=5.0)
        [alarm] = self.cbor("DescribeAlarms", {}, acct)[3]["MetricAlarms"]
        self.assertEqual((alarm["StateValue"], alarm["StateReason"], alarm["Threshold"]), ("ALARM", "test", 5.0))
        self.assertEqual(self.cbor("DeleteAlarms", {"AlarmNames": ["a"]}, acct)[0], 200)
        items = self.history(acct, "a", "ConfigurationUpdate")  # outlives the alarm
        self.assertEqual([i["HistorySummary"] for i in items],
                         ['Alarm "a" created', 'Alarm "a" updated', 'Alarm "a" deleted'])
        created, updated, deleted = (json.loads(i["HistoryData"]) for i in items)
        self.assertEqual((created["type"], created["createdAlarm"]["alarmDescription"]), ("Create", "v1"))
        self.assertEqual((updated["type"], updated["updatedAlarm"]["threshold"]), ("Update", 5.0))
        self.assertEqual(updated["originalUpdatedFields"]["alarmDescription"], "v1")
        self.assertEqual((deleted["type"], deleted["deletedAlarm"]["alarmName"]), ("Delete", "a"))

    def alarm_tags(self, acct, name):
        arn = self.alarm_arn(acct, name)
        status, _, _, out = self.cbor("ListTagsForResource", {"ResourceARN": arn}, acct)
        self.assertEqual(status, 200, out)
        return {t["Key"]: t["Value"] for t in out["Tags"]}

    def test_alarm_update_ignores_tags(self):
        """PutMetricAlarm takes Tags when it creates an alarm and ignores them when it updates
        one (TagResource / UntagResource change an existing alarm's tags)."""
        acct = new_account()
        self.assertEqual(self.put_alarm(acct, "a", Tags=[{"Key": "owner", "Value": "team-a"}])[0], 200)
        self.assertEqual(self.alarm_tags(acct, "a"), {"owner": "team-a"})
        self.assertEqual(self.put_alarm(acct, "a", AlarmDescription="v2", Tags=[
            {"Key": "owner", "Value": "team-b"}, {"Key": "extra", "Value": "x"}])[0], 200)
        self.assertEqual(self.alarm_tags(acct, "a"), {"owner": "team-a"})
        [alarm] = self.cbor("DescribeAlarms", {}, acct)[3]["MetricAlarms"]
        self.assertEqual(alarm["AlarmDescription"], "v2")

        # An untagged alarm stays untagged; tags set by TagResource stay exactly as they are.
        self.put_alarm(acct, "u")
        self.assertEqual(self.put_alarm(acct, "u", Tags=[{"Key": "k", "Value": "v"}])[0], 200)
        self.assertEqual(self.alarm_tags(acct, "u"), {})
        self.assertEqual(self.cbor("TagResource", {"ResourceARN": self.alarm_arn(acct, "u"),
                                                   "Tags": [{"Key": "env", "Value": "prod"}]}, acct)[0], 200)
        self.put_alarm(acct, "u", Tags=[{"Key": "env", "Value": "dev"}])
        self.assertEqual(self.alarm_tags(acct, "u"), {"env": "prod"})

        # A deleted alarm's tags go with it: a new alarm of that name has its own Tags only.
        self.assertEqual(self.cbor("DeleteAlarms", {"AlarmNames": ["a", "u"]}, acct)[0], 200)
        self.put_alarm(acct, "a", Tags=[{"Key": "new", "Value": "1"}])
        self.put_alarm(acct, "u")
        self.assertEqual((self.alarm_tags(acct, "a"), self.alarm_tags(acct, "u")), ({"new": "1"}, {}))

    def test_create_topic_again_with_other_tags_is_refused(self):
        acct = new_account()
        sns = self.client("sns", acct)
        tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
        topic = sns.create_topic(Name="t", Tags=tags)["TopicArn"]
        # Idempotent for the same tags, some of them, or none (as AWS answers).
        for again in (tags, tags[::-1], [tags[0]], []):
            self.assertEqual(sns.create_topic(Name="t", Tags=again)["TopicArn"], topic, again)
        self.assertEqual(sns.create_topic(Name="t")["TopicArn"], topic)
        for other in ([{"Key": "a", "Value": "9"}], [*tags, {"Key": "c", "Value": "3"}]):
            with self.assertRaises(ClientError) as err:
                sns.create_topic(Name="t", Tags=other)
            reply = err.exception.response
            self.assertEqual((reply["Error"]["Code"], reply["ResponseMetadata"]["HTTPStatusCode"]),
                             ("InvalidParameter", 400))
            self.assertEqual(reply["Error"]["Message"],
                             "Invalid parameter: Tags Reason: Topic already exists with different tags")
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=topic)["Tags"], tags)
        self.assertEqual([t["TopicArn"] for t in sns.list_topics()["Topics"]], [topic])

        untagged = sns.create_topic(Name="u")["TopicArn"]
        with self.assertRaises(ClientError) as err:
            sns.create_topic(Name="u", Tags=[{"Key": "a", "Value": "1"}])
        self.assertEqual(err.exception.response["Error"]["Code"], "InvalidParameter")
        self.assertEqual(sns.list_tags_for_resource(ResourceArn=untagged)["Tags"], [])

    # ---- EventBridge

    WATCH_PATTERN = json.dumps({
        "source": ["aws.sns", "aws.events"], "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {"errorCode": [{"exists": False}], "$or": [
            {"eventSource": ["sns.amazonaws.com"], "eventName": ["DeleteTopic"]},
            {"eventSource": ["events.amazonaws.com"], "eventName": ["PutRule"],
             "requestParameters": {"name": [{"prefix": "cis-fix-"}]}}]}})

    @staticmethod
    def bus_event(source, event_name, request_parameters, drop=(), **fields):
        """An EventBridge event (envelope) carrying a CloudTrail record, as JSON."""
        event = {"version": "0", "id": "6f1d5c8e-0000-4000-8000-000000000001",
                 "detail-type": "AWS API Call via CloudTrail", "source": source,
                 "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
                 "resources": [], "detail": {
                     "eventVersion": "1.08", "eventTime": "2026-01-01T00:00:00Z",
                     "eventSource": source.split(".")[1] + ".amazonaws.com", "eventName": event_name,
                     "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
                     "userIdentity": {"type": "IAMUser", "userName": "alice"},
                     "requestParameters": request_parameters, "responseElements": None,
                     "eventType": "AwsApiCall", "recipientAccountId": "123456789012", **fields}}
        for field in drop:
            event.pop(field)
        return json.dumps(event)

    def test_test_event_pattern(self):
        """events:TestEventPattern (moto replies nothing) answered with moto's own matcher."""
        acct = new_account()
        events = self.client("events", acct)
        topic = {"topicArn": "arn:aws:sns:us-east-1:123456789012:cis-alarms"}

        def result(event, pattern=self.WATCH_PATTERN):
            return events.test_event_pattern(EventPattern=pattern, Event=event)["Result"]

        self.assertIs(result(self.bus_event("aws.sns", "DeleteTopic", topic)), True)
        # {"exists": false}: a failed call (with an errorCode) does not match.
        self.assertIs(result(self.bus_event("aws.sns", "DeleteTopic", topic, errorCode="AccessDenied",
                                            errorMessage="not authorized")), False)
        # $or, nested requestParameters.name and prefix.
        self.assertIs(result(self.bus_event("aws.events", "PutRule", {"name": "cis-fix-x-watch"})), True)
        self.assertIs(result(self.bus_event("aws.events", "PutRule", {"name": "users-rule"})), False)
        self.assertIs(result(self.bus_event("aws.events", "PutRule", None)), False)
        self.assertIs(result(self.bus_event("aws.events", "DeleteTopic", topic)), False)  # not sns
        self.assertIs(result(self.bus_event("aws.sns", "Publish", topic)), False)
        self.assertIs(result(self.bus_event("aws.sns", "DeleteTopic", topic),
                             '{"source": ["aws.events"]}'), False)
        # `resources` may be missing (AWS's own example has none; see emulator.py).
        self.assertIs(result(self.bus_event("aws.sns", "DeleteTopic", topic, drop=["resources"])), True)
        calls = self.control("GET", f"calls?account={acct}")[1]["calls"]
        self.assertEqual({(c["service"], c["operation"], c["status"]) for c in calls},
                         {("events", "TestEventPattern", 200)})

    def test_test_event_pattern_errors(self):
        events = self.client("events", new_account())
        good = self.bus_event("aws.sns", "DeleteTopic", {"topicArn": "t"})

        def error(pattern, event=good):
            with self.assertRaises(ClientError) as err:
                events.test_event_pattern(EventPattern=pattern, Event=event)
            response = err.exception.response
            return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], \
                response["Error"]["Message"]

        # A bad event: ValidationException, for each mandatory field but `resources`.
        for field in ("id", "account", "source", "time", "region", "detail-type"):
            self.assertEqual(error(self.WATCH_PATTERN, self.bus_event("aws.sns", "DeleteTopic", {}, drop=[field])),
                             (400, "ValidationException", "Parameter Event is not valid."), field)
        for event in ('{"id": "1"', "[]", '"event"'):
            self.assertEqual(error(self.WATCH_PATTERN, event)[:2], (400, "ValidationException"), event)
        # A bad pattern: InvalidEventPatternException.
        status, code, message = error('{"source": ["aws.sns"]')
        self.assertEqual((status, code), (400, "InvalidEventPatternException"))
        self.assertTrue(message.startswith("Event pattern is not valid."), message)
        for pattern in ('["aws.sns"]', '{"source": "aws.sns"}', '{"source": []}',
                        '{"detail": {"name": [{"prefixx": "cis-fix-"}]}}',
                        '{"detail": {"name": [{"prefix": "a", "suffix": "b"}]}}',
                        '{"detail": {"errorCode": [{"exists": "false"}]}}',
                        '{"$or": {"source": ["aws.sns"]}}', '{"$or": [["aws.sns"]]}'):
            self.assertEqual(error(pattern)[:2], (400, "InvalidEventPatternException"), pattern)

    def rule_tags(self, events, arn):
        return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}

    def test_put_rule_again_keeps_the_rules_tags(self):
        """PutRule takes Tags when it creates a rule; "If you are updating an existing rule,
        the tags are not changed" (TagResource / UntagResource change them)."""
        events = self.client("events", new_account())
        pattern = '{"source": ["aws.sns"]}'
        arn = events.put_rule(Name="cis-fix-watch", EventPattern=pattern, Description="v1",
                              Tags=[{"Key": "owner", "Value": "team-a"}])["RuleArn"]
        self.assertEqual(self.rule_tags(events, arn), {"owner": "team-a"})
        self.assertEqual(events.put_rule(Name="cis-fix-watch", EventPattern=pattern, Description="v2", Tags=[
            {"Key": "owner", "Value": "team-b"}, {"Key": "extra", "Value": "x"}])["RuleArn"], arn)
        self.assertEqual(self.rule_tags(events, arn), {"owner": "team-a"})
        self.assertEqual(events.describe_rule(Name="cis-fix-watch")["Description"], "v2")  # the update happened
        events.tag_resource(ResourceARN=arn, Tags=[{"Key": "owner", "Value": "team-c"}])
        self.assertEqual(self.rule_tags(events, arn), {"owner": "team-c"})
        events.untag_resource(ResourceARN=arn, TagKeys=["owner"])
        self.assertEqual(self.rule_tags(events, arn), {})

        # An untagged rule stays untagged; on another bus, a rule is its own.
        untagged = events.put_rule(Name="u", EventPattern=pattern)["RuleArn"]
        events.put_rule(Name="u", EventPattern=pattern, Tags=[{"Key": "k", "Value": "v"}])
        self.assertEqual(self.rule_tags(events, untagged), {})
        events.create_event_bus(Name="custom")
        other = events.put_rule(Name="w", EventPattern=pattern, EventBusName="custom",
                                Tags=[{"Key": "bus", "Value": "custom"}])["RuleArn"]
        self.assertEqual(self.rule_tags(events, other), {"bus": "custom"})
        events.put_rule(Name="w", EventPattern=pattern, EventBusName="custom", Tags=[{"Key": "bus", "Value": "x"}])
        self.assertEqual(self.rule_tags(events, other), {"bus": "custom"})

        # A deleted rule's tags go with it: a new rule of that name has its own Tags only.
        events.delete_rule(Name="cis-fix-watch")
        events.put_rule(Name="cis-fix-watch", EventPattern=pattern, Tags=[{"Key": "new", "Value": "1"}])
        self.assertEqual(self.rule_tags(events, arn), {"new": "1"})

    def by_topic(self, account, topic):
        return self.client("sns", account).list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]

    def cross_account_topic(self):
        """Account A's topic, whose policy lets account B subscribe (as AWS would need; moto
        does not check), with a queue of A's and one of B's subscribed (B subscribing its own).
        -> (a, b, topic, (a's queue url, arn), (b's queue url, arn), b's subscription ARN)."""
        a, b = new_account(), new_account()
        sns_a = self.client("sns", a)
        topic = sns_a.create_topic(Name=f"t{next(_names)}")["TopicArn"]
        policy = json.loads(sns_a.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
        policy["Statement"].append({"Sid": "b-subscribes", "Effect": "Allow",
                                    "Principal": {"AWS": f"arn:aws:iam::{b}:root"},
                                    "Action": "SNS:Subscribe", "Resource": topic})
        sns_a.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(policy))
        own = self.queue(a, topic)
        theirs = self.queue(b, topic)
        [sub_b] = [s["SubscriptionArn"] for s in self.client("sns", b).list_subscriptions()["Subscriptions"]]
        self.assertTrue(sub_b.startswith(topic + ":"))
        return a, b, topic, own, theirs, sub_b

    def test_cross_account_subscription_is_the_topic_owners_to_see_and_remove(self):
        a, b, topic, (own_url, own_arn), (their_url, their_arn), sub_b = self.cross_account_topic()
        sns_a, sns_b = self.client("sns", a), self.client("sns", b)

        by_topic = self.by_topic(a, topic)
        self.assertEqual(sorted((s["Owner"], s["Endpoint"]) for s in by_topic),
                         sorted([(a, own_arn), (b, their_arn)]))
        self.assertIn(sub_b, [s["SubscriptionArn"] for s in by_topic])
        # ListSubscriptions is the requester's own: B's subscription to A's topic is B's.
        self.assertEqual([s["Endpoint"] for s in sns_a.list_subscriptions()["Subscriptions"]], [own_arn])
        self.assertEqual([s["SubscriptionArn"] for s in sns_b.list_subscriptions()["Subscriptions"]], [sub_b])

        # A Publish, and an alarm action, reach B's queue (its policy lets the topic send).
        sns_a.publish(TopicArn=topic, Message="hello")
        self.put_alarm(a, "alarm", AlarmActions=[topic])
        self.set_state(a, "alarm")
        for url, acct in ((own_url, a), (their_url, b)):
            bodies = [json.loads(m["Body"]) for m in self.queued(acct, url)]
            self.assertEqual([m["Message"] for m in bodies if not m.get("Subject")], ["hello"], acct)
            self.assertEqual([json.loads(m["Message"])["AlarmName"] for m in bodies if m.get("Subject")],
                             ["alarm"], acct)

        # A third account owns neither the topic nor the subscription: refused.
        with self.assertRaises(ClientError) as err:
            self.client("sns", new_account()).unsubscribe(SubscriptionArn=sub_b)
        reply = err.exception.response
        self.assertEqual((reply["Error"]["Code"], reply["ResponseMetadata"]["HTTPStatusCode"]),
                         ("AuthorizationError", 403))
        self.assertIn("SNS:Unsubscribe", reply["Error"]["Message"])
        self.assertEqual(len(self.by_topic(a, topic)), 2)

        # The topic owner may remove it; then nothing more reaches B's queue.
        sns_a.unsubscribe(SubscriptionArn=sub_b)
        sns_a.unsubscribe(SubscriptionArn=sub_b)  # again: no error, as in AWS
        self.assertEqual([s["Endpoint"] for s in self.by_topic(a, topic)], [own_arn])
        self.assertEqual(sns_b.list_subscriptions()["Subscriptions"], [])
        sns_a.publish(TopicArn=topic, Message="after")
        self.assertEqual(self.queued(b, their_url), [])
        self.assertEqual(len(self.queued(a, own_url)), 1)

        # The subscriber may remove its own too; an email subscription needs no authentication
        # to be removed (anyone with its ARN may); a pending one is confirmed through the
        # control endpoint without naming the account it is kept in.
        theirs_again = sns_b.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=their_arn)["SubscriptionArn"]
        sns_b.unsubscribe(SubscriptionArn=theirs_again)
        email = sns_b.subscribe(TopicArn=topic, Protocol="email", Endpoint="b@example.com",
                                ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.assertIn("PendingConfirmation", [s["SubscriptionArn"] for s in self.by_topic(a, topic)])
        status, out = self.control("POST", "confirm", {"subscription_arn": email})
        self.assertEqual((status, out["confirmed"]), (200, [email]))
        self.client("sns", new_account()).unsubscribe(SubscriptionArn=email)
        self.assertEqual([s["Endpoint"] for s in self.by_topic(a, topic)], [own_arn])

    def test_delete_topic_removes_every_accounts_subscriptions(self):
        a, b, topic, _, (their_url, _), _ = self.cross_account_topic()
        sns_a, sns_b = self.client("sns", a), self.client("sns", b)
        sns_a.delete_topic(TopicArn=topic)
        self.assertEqual(sns_b.list_subscriptions()["Subscriptions"], [])
        self.assertEqual(sns_a.list_subscriptions()["Subscriptions"], [])
        # A new topic of that name starts with no subscriptions.
        self.assertEqual(sns_a.create_topic(Name=topic.split(":")[-1])["TopicArn"], topic)
        self.assertEqual(self.by_topic(a, topic), [])
        sns_a.publish(TopicArn=topic, Message="nobody")
        self.assertEqual(self.queued(b, their_url), [])

    def test_list_subscriptions_by_topic_pages_over_accounts(self):
        """Pages of at most 100 (as documented), every account's subscriptions once."""
        a, b = new_account(), new_account()
        topic = self.client("sns", a).create_topic(Name="t")["TopicArn"]
        made = set()
        for acct, count in ((a, 70), (b, 60)):
            sns = self.client("sns", acct)
            for n in range(count):
                made.add(sns.subscribe(TopicArn=topic, Protocol="sqs",
                                       Endpoint=f"arn:aws:sqs:us-east-1:{acct}:q{n}")["SubscriptionArn"])
        paginator = self.client("sns", a).get_paginator("list_subscriptions_by_topic")
        pages = list(paginator.paginate(TopicArn=topic))
        self.assertEqual([len(p["Subscriptions"]) for p in pages], [100, 30])
        listed = [s["SubscriptionArn"] for p in pages for s in p["Subscriptions"]]
        self.assertEqual((len(listed), set(listed)), (130, made))
        self.assertEqual(len(self.client("sns", b).list_subscriptions()["Subscriptions"]), 60)

    def test_describe_alarm_history_over_cbor(self):
        acct, other = new_account(), new_account()
        topic = self.client("sns", acct).create_topic(Name="t")["TopicArn"]
        self.put_alarm(acct, "a", AlarmActions=[topic])
        self.put_alarm(acct, "b")
        self.put_alarm(other, "a")
        for state in ("ALARM", "OK", "ALARM"):
            self.set_state(acct, "a", state)
        self.set_state(acct, "b")

        status, headers, raw, out = self.cbor("DescribeAlarmHistory", {}, acct)
        self.assertEqual((status, headers["smithy-protocol"]), (200, "rpc-v2-cbor"))
        everything = out["AlarmHistoryItems"]
        self.assertNotIn("NextToken", out)
        self.assertEqual(len(everything), 8)  # a: created, 3 states, 2 ALARM actions; b: 1 + 1
        stamps = [(i["Timestamp"]) for i in everything]
        self.assertEqual(stamps, sorted(stamps, reverse=True))  # TimestampDescending by default
        tagged = cbor2.dumps(everything[0]["Timestamp"], datetime_as_timestamp=True, timezone=UTC)
        self.assertEqual(tagged[0], 0xC1)  # epoch timestamp, as the Rust SDK expects
        self.assertIn(tagged, raw)

        self.assertEqual([i["HistorySummary"] for i in self.history(acct, "a", "StateUpdate")], [
            "Alarm updated from INSUFFICIENT_DATA to ALARM", "Alarm updated from ALARM to OK",
            "Alarm updated from OK to ALARM"])
        self.assertEqual(len(self.history(acct, "a", "Action")), 2)
        self.assertEqual(len(self.history(acct, "b")), 2)
        self.assertEqual(len(self.history(other, "a")), 1)  # per account
        self.assertEqual(len(self.history(acct, "a", AlarmTypes=["CompositeAlarm"])), 0)

        # Pages of 2, in either direction, add up to the whole.
        for scan in ("TimestampDescending", "TimestampAscending"):
            pages, token = [], None
            while True:
                params = {"MaxRecords": 2, "ScanBy": scan, **({"NextToken": token} if token else {})}
                status, _, _, out = self.cbor("DescribeAlarmHistory", params, acct)
                self.assertEqual(status, 200, out)
                self.assertLessEqual(len(out["AlarmHistoryItems"]), 2)
                pages += out["AlarmHistoryItems"]
                token = out.get("NextToken")
                if not token:
                    break
            expected = everything if scan == "TimestampDescending" else everything[::-1]
            self.assertEqual([(i["Timestamp"], i["HistorySummary"]) for i in pages],
                             [(i["Timestamp"], i["HistorySummary"]) for i in expected])

        middle = everything[4]["Timestamp"]
        status, _, _, out = self.cbor("DescribeAlarmHistory", {"StartDate": middle}, acct)
        self.assertTrue(all(i["Timestamp"] >= middle for i in out["AlarmHistoryItems"]))
        status, _, _, out = self.cbor("DescribeAlarmHistory", {"EndDate": middle}, acct)
        self.assertTrue(all(i["Timestamp"] <= middle for i in out["AlarmHistoryItems"]))
        self.assertEqual(self.cbor("DescribeAlarmHistory", {
            "EndDate": datetime.datetime(2000, 1, 1, tzinfo=UTC)}, acct)[3]["AlarmHistoryItems"], [])

        for params, code in (({"NextToken": "bogus"}, "InvalidNextToken"),
                             ({"MaxRecords": 0}, "ValidationError"),
                             ({"MaxRecords": 101}, "ValidationError"),
                             ({"HistoryItemType": "Everything"}, "ValidationError"),
                             ({"ScanBy": "Sideways"}, "ValidationError")):
            status, headers, _, out = self.cbor("DescribeAlarmHistory", params, acct)
            # The SDK takes the (awsQuery-compatible) code from this header.
            self.assertEqual((status, headers["x-amzn-query-error"]), (400, f"{code};Sender"), params)

    def test_describe_alarm_history_faults_apply(self):
        acct = new_account()
        self.faults(acct, ["throttle"], ["DescribeAlarmHistory"])
        status, _, _, out = self.cbor("DescribeAlarmHistory", {}, acct)
        self.assertEqual((status, out["__type"]), (400, "Throttling"))

    def test_exits_when_stdin_closes(self):
        # (Started with --ne-matches-missing, which is checked too, to save a second start.)
        proc, port = start_emulator("--ne-matches-missing")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/_emulator/health")
            self.assertEqual(conn.getresponse().read(), b"ok")
            conn.close()
            # --ne-matches-missing: the other reading of `!=` on a missing or null field
            # (undocumented by AWS; see filter_patterns.NE_MATCHES_MISSING).
            logs = boto3.client("logs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                                aws_access_key_id=new_account(), aws_secret_access_key="secret",
                                config=NO_RETRY)
            out = logs.test_metric_filter(filterPattern='{ $.invokedBy != "x" }',
                                          logEventMessages=['{"other": 1}', '{"invokedBy": null}',
                                                            '{"invokedBy": "x"}', '{"invokedBy": "y"}'])
            self.assertEqual([m["eventNumber"] for m in out["matches"]], [1, 2, 4])
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()

    # ---- Security Hub (patch_securityhub, securityhub_import_refusal, rest_operation)

    def asff(self, account, finding_id="f1", status="FAILED", **extra):
        finding = {
            "SchemaVersion": "2018-10-08", "Id": finding_id,
            "ProductArn": f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default",
            "GeneratorId": "g", "AwsAccountId": account,
            "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z",
            "Title": "t", "Description": "d",
            "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account}"}],
            "Compliance": {"Status": status}}
        finding.update(extra)
        return finding

    def test_securityhub_refuses_another_accounts_finding_as_aws_does(self):
        acct, other = new_account(), new_account()
        hub = self.client("securityhub", acct)
        for finding in (self.asff(other),  # another account's finding in its own product
                        self.asff(acct, ProductArn=f"arn:aws:securityhub:us-east-1:{other}:product/{other}/default")):
            with self.assertRaises(ClientError) as caught:
                hub.batch_import_findings(Findings=[self.asff(acct, "ok"), finding])
            error = caught.exception.response["Error"]
            self.assertEqual(error["Code"], "AccessDeniedException")
            self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
            self.assertIn(f"User: arn:aws:iam::{acct}:user/moto is not authorized to perform: "
                          f"securityhub:BatchImportFindings on resource: ", error["Message"])
        # Nothing of a refused call was imported.
        self.assertEqual(hub.get_findings()["Findings"], [])
        # The call log names the restJson1 operation.
        _, out = self.control("GET", f"calls?account={acct}")
        ops = [(c["service"], c["operation"], c["status"]) for c in out["calls"]]
        self.assertIn(("securityhub", "BatchImportFindings", 403), ops)
        self.assertIn(("securityhub", "GetFindings", 200), ops)

    def test_securityhub_reimport_replaces_a_finding_and_keeps_the_customers_fields(self):
        acct = new_account()
        hub = self.client("securityhub", acct)
        first = self.asff(acct, Remediation={"Recommendation": {"Text": "fix it"}},
                          Workflow={"Status": "NOTIFIED"})
        out = hub.batch_import_findings(Findings=[first, self.asff(acct, "f2")])
        self.assertEqual((out["SuccessCount"], out["FailedCount"]), (2, 0))
        out = hub.batch_import_findings(Findings=[self.asff(acct, status="PASSED",
                                                            Workflow={"Status": "RESOLVED"})])
        self.assertEqual(out["SuccessCount"], 1)
        findings = {f["Id"]: f for f in hub.get_findings()["Findings"]}
        self.assertEqual(sorted(findings), ["f1", "f2"])
        self.assertEqual(findings["f1"]["Compliance"]["Status"], "PASSED")
        self.assertNotIn("Remediation", findings["f1"])  # left out: gone, as AWS replaces
        self.assertEqual(findings["f1"]["Workflow"], {"Status": "NOTIFIED"})  # the customer's

    def test_securityhub_faults_name_the_operation(self):
        acct = new_account()
        self.faults(acct, ["access_denied"], ["BatchImportFindings"])
        hub = self.client("securityhub", acct)
        with self.assertRaises(ClientError) as caught:
            hub.batch_import_findings(Findings=[self.asff(acct)])
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDeniedException")
        hub.get_findings()  # other operations pass

class PolicyEvaluationTest(unittest.TestCase):
    """The emulator's policy evaluator on its own (AWS's side of the topic/key/queue checks)."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, HERE)
        import emulator
        cls.em = emulator

    ACCOUNT = "123456789012"
    TOPIC = "arn:aws:sns:us-east-1:123456789012:cis-alarms"
    ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:root-usage"

    def decide(self, *statements, action="SNS:Publish", resource=TOPIC, context=None):
        request = self.em.service_request("cloudwatch.amazonaws.com", action, resource, context if
                                          context is not None else {
                                              "aws:SourceAccount": self.ACCOUNT, "aws:SourceArn": self.ALARM,
                                              "AWS:SourceOwner": self.ACCOUNT})
        return self.em.evaluate_policy({"Version": "2012-10-17", "Statement": list(statements)}, request)

    def allow(self, **overrides):
        return {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish", "Resource": self.TOPIC, **overrides}

    def test_principals(self):
        for principal in ("*", {"AWS": "*"}, {"AWS": ["*"]}, {"Service": "cloudwatch.amazonaws.com"},
                          {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]}):
            self.assertEqual(self.decide(self.allow(Principal=principal)), "Allow", principal)
        for principal in ({"AWS": self.ACCOUNT}, {"AWS": f"arn:aws:iam::{self.ACCOUNT}:root"},
                          {"Service": "events.amazonaws.com"}, {"Federated": "*"}):
            self.assertEqual(self.decide(self.allow(Principal=principal)), "ImplicitDeny", principal)
        self.assertEqual(self.decide({k: v for k, v in self.allow().items() if k != "Principal"}),
                         "ImplicitDeny")
        # Deny everyone but a role: the service is denied.
        self.assertEqual(self.decide(self.allow(), {
            "Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{self.ACCOUNT}:role/ops"},
            "Action": "*", "Resource": "*"}), "ExplicitDeny")

    def test_actions_and_resources(self):
        for action in ("sns:Publish", "SNS:PUBLISH", "sns:*", "*", "sns:Pub*", "sns:Publis?",
                       ["sns:Subscribe", "sns:publish"]):
            self.assertEqual(self.decide(self.allow(Action=action)), "Allow", action)
        for action in ("sns:Subscribe", "sqs:Publish", "sns:Publi"):
            self.assertEqual(self.decide(self.allow(Action=action)), "ImplicitDeny", action)
        without_action = {k: v for k, v in self.allow().items() if k != "Action"}
        self.assertEqual(self.decide({**without_action, "NotAction": "sns:Subscribe"}), "Allow")
        self.assertEqual(self.decide({**without_action, "NotAction": "sns:*"}), "ImplicitDeny")
        for resource in ("*", self.TOPIC, "arn:aws:sns:*:*:cis-*", [self.TOPIC + "x", self.TOPIC]):
            self.assertEqual(self.decide(self.allow(Resource=resource)), "Allow", resource)
        for resource in (self.TOPIC.upper(), "arn:aws:sns:us-east-1:123456789012:other"):
            self.assertEqual(self.decide(self.allow(Resource=resource)), "ImplicitDeny", resource)
        without_resource = {k: v for k, v in self.allow().items() if k != "Resource"}
        self.assertEqual(self.decide({**without_resource, "NotResource": "arn:aws:sns:*:*:other"}), "Allow")
        self.assertEqual(self.decide({**without_resource, "NotResource": self.TOPIC}), "ImplicitDeny")

    def test_conditions(self):
        alarm, acct = self.ALARM, self.ACCOUNT
        cases = [
            ({"StringEquals": {"aws:SourceAccount": acct}}, "Allow"),
            ({"StringEquals": {"AWS:SOURCEACCOUNT": acct}}, "Allow"),  # key names: any case
            ({"StringEquals": {"aws:SourceAccount": ["111111111111", acct]}}, "Allow"),  # values: OR
            ({"StringEquals": {"aws:SourceAccount": acct, "aws:SourceArn": "x"}}, "ImplicitDeny"),  # keys: AND
            ({"StringEquals": {"aws:SourceAccount": acct}, "ArnLike": {"aws:SourceArn": "x"}}, "ImplicitDeny"),
            ({"StringEquals": {"aws:SourceArn": alarm.upper()}}, "ImplicitDeny"),
            ({"StringEqualsIgnoreCase": {"aws:SourceArn": alarm.upper()}}, "Allow"),
            ({"StringNotEquals": {"aws:SourceAccount": "111111111111"}}, "Allow"),
            ({"StringNotEquals": {"aws:SourceAccount": ["111111111111", acct]}}, "ImplicitDeny"),  # NOR
            ({"StringLike": {"aws:SourceArn": "*:alarm:root-*"}}, "Allow"),
            ({"StringNotLike": {"aws:SourceArn": "*:alarm:root-*"}}, "ImplicitDeny"),
            ({"ArnEquals": {"aws:SourceArn": alarm}}, "Allow"),
            ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:123456789012:alarm:*"}}, "Allow"),
            ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:*"}}, "ImplicitDeny"),  # 6 parts
            ({"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:other"}}, "ImplicitDeny"),
            ({"ArnNotEquals": {"aws:SourceArn": alarm}}, "ImplicitDeny"),
            ({"ArnNotLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:other"}}, "Allow"),
            ({"Bool": {"aws:SecureTransport": True}}, "Allow"),
            # A key the request does not carry: false, but true for a negated operator,
            # for ...IfExists and for the matching Null test.
            ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, "ImplicitDeny"),
            ({"StringLike": {"aws:PrincipalArn": "*"}}, "ImplicitDeny"),
            ({"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}, "Allow"),
            ({"ArnNotLike": {"aws:PrincipalArn": "arn:*"}}, "Allow"),
            ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, "Allow"),
            ({"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}, "ImplicitDeny"),
            ({"Null": {"aws:PrincipalOrgID": "true"}}, "Allow"),
            ({"Null": {"aws:PrincipalOrgID": "false"}}, "ImplicitDeny"),
            ({"Null": {"aws:SourceArn": "false"}}, "Allow"),
            ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, "Allow"),
            ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, "ImplicitDeny"),
            ({"ForAnyValue:StringEquals": {"aws:SourceAccount": [acct]}}, "Allow"),
        ]
        for condition, expected in cases:
            self.assertEqual(self.decide(self.allow(Condition=condition)), expected, condition)
        with self.assertLogs("emulator", "WARNING"):  # an operator we do not know never allows
            self.assertEqual(self.decide(self.allow(Condition={"NoSuchOperator": {"k": "v"}})),
                             "ImplicitDeny")

    def test_explicit_deny_wins_and_bad_documents(self):
        deny = {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*"}
        self.assertEqual(self.decide(self.allow(), deny), "ExplicitDeny")
        self.assertEqual(self.decide(deny, self.allow()), "ExplicitDeny")
        self.assertEqual(self.decide(self.allow(), {**deny, "Condition": {
            "StringEquals": {"aws:SourceAccount": "111111111111"}}}), "Allow")  # deny does not apply
        # An unknown operator: an Allow does not apply, a Deny does (the strict reading).
        with self.assertLogs("emulator", "WARNING"):
            self.assertEqual(self.decide(self.allow(), {**deny, "Condition": {"Weird": {"k": "v"}}}),
                             "ExplicitDeny")
        request = self.em.service_request("cloudwatch.amazonaws.com", "SNS:Publish", self.TOPIC, {})
        for document in (None, "", "not json", "[]", json.dumps({"Statement": self.allow()})):
            expected = "Allow" if document and document.startswith("{") else "ImplicitDeny"
            self.assertEqual(self.em.evaluate_policy(document, request), expected, document)


if __name__ == "__main__":
    unittest.main()

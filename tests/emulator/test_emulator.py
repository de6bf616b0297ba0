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


def new_account():
    """A fresh 12-digit account (= access key id) so tests never share state."""
    return str(next(_accounts))


def start_emulator():
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "emulator.py"), "--port", "0", "--exit-on-stdin-eof"],
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

    def test_fault_rate_is_deterministic_per_account(self):
        def pattern(acct):
            self.faults(acct, ["throttle"], [], rate=0.5)
            return [self.cbor("DescribeAlarms", {}, acct)[0] for _ in range(12)]

        a, b = pattern(new_account()), pattern(new_account())
        self.assertEqual(a, b)  # same seed, separate RNGs
        self.assertEqual(set(a), {200, 400})

    def test_exits_when_stdin_closes(self):
        proc, port = start_emulator()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/_emulator/health")
            self.assertEqual(conn.getresponse().read(), b"ok")
            conn.close()
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=10), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()


if __name__ == "__main__":
    unittest.main()

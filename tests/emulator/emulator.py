#!/usr/bin/env python3
"""Test AWS emulator for cis-fix: moto's server app plus a thin WSGI middleware.

Why a middleware and not plain ``moto_server``:

* The Rust SDK talks to CloudWatch in Smithy RPC v2 CBOR
  (``POST /service/GraniteServiceVersion20100801/operation/<Op>``), which moto
  does not understand.  We translate those calls to CloudWatch's awsJson1_0
  protocol (which moto does speak) and translate the reply back to CBOR.
* Tests isolate themselves by using a distinct 12-digit access key id each; we
  turn that key into moto's ``x-moto-account-id`` header so every test gets its
  own account (and STS GetCallerIdentity reports it).
* Real SNS leaves email/http(s) subscriptions pending until the recipient
  confirms; moto confirms everything at once.  We patch moto's SNS model.
* Tests need to see which calls were made and to inject faults, which is done
  through plain-JSON control endpoints under ``/_emulator/``.

Usage: python emulator.py [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof] [--verbose]
Prints exactly one line ``PORT <n>`` to stdout once it is listening.
"""

import argparse
import base64
import copy
import datetime
import io
import json
import logging
import os
import random
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs

import botocore.session
import cbor2
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import make_server
from werkzeug.test import run_wsgi_app
from werkzeug.wsgi import get_input_stream

from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

UTC = datetime.timezone.utc
CW_TARGET_PREFIX = "GraniteServiceVersion20100801"
CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
SERVICE_NAMES = {"monitoring": "cloudwatch"}  # signing name -> name reported in the call log
CW_MODEL = botocore.session.get_session().get_service_model("cloudwatch")


# --------------------------------------------------------------------------- CBOR <-> JSON

SCALAR_TYPES = {
    "string": str, "boolean": bool, "integer": int, "long": int, "double": (int, float),
    "float": (int, float), "blob": (bytes, bytearray), "timestamp": (datetime.datetime, int, float),
}


def cbor_to_json(value, shape):
    """Convert a decoded CBOR request value to awsJson shapes, guided by the botocore shape."""
    kind = shape.type_name if shape is not None else None
    if value is None:
        return None
    if kind == "structure" and isinstance(value, dict):
        return {k: cbor_to_json(v, shape.members.get(k)) for k, v in value.items() if v is not None}
    if kind == "list" and isinstance(value, list):
        return [cbor_to_json(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: cbor_to_json(v, shape.value) for k, v in value.items()}
    if kind in SCALAR_TYPES and not isinstance(value, SCALAR_TYPES[kind]):
        # Real services reject ill-typed CBOR; moto would crash with a 500 instead.
        raise ValueError(f"{shape.name} must be {kind}, got {type(value).__name__}")
    if isinstance(value, bool) and kind in ("integer", "long", "double", "float"):
        raise ValueError(f"{shape.name} must be {kind}, got bool")
    if isinstance(value, datetime.datetime):  # CBOR tag 1 -> awsJson epoch seconds
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):  # awsJson blobs are base64 strings
        return base64.b64encode(value).decode()
    if isinstance(value, dict):  # unknown member: convert recursively without a shape
        return {k: cbor_to_json(v, None) for k, v in value.items()}
    if isinstance(value, list):
        return [cbor_to_json(v, None) for v in value]
    return value


def json_to_cbor(value, shape):
    """Convert a moto awsJson reply value to the Python types that cbor2 encodes as
    the Rust SDK expects: its decoder is strict (doubles must be CBOR floats,
    integers CBOR ints, timestamps tag 1), so coerce by the modelled type."""
    kind = shape.type_name if shape is not None else None
    if value is None or kind is None:
        return value
    if kind == "structure":
        return {k: json_to_cbor(v, shape.members.get(k)) for k, v in value.items() if v is not None}
    if kind == "list":
        return [json_to_cbor(v, shape.member) for v in value]
    if kind == "map":
        return {k: json_to_cbor(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):  # moto may emit ISO-8601 for some members
            try:
                return datetime.datetime.fromisoformat(value).astimezone(UTC)
            except ValueError:
                value = float(value)
        return datetime.datetime.fromtimestamp(float(value), UTC)
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("double", "float"):
        return float(value)
    if kind == "boolean" and isinstance(value, str):
        return value.lower() == "true"
    return value


def cbor_dumps(obj):
    return cbor2.dumps(obj, datetime_as_timestamp=True, timezone=UTC)


# --------------------------------------------------------------------------- error replies

def error_reply(protocol, status, code, message, fault="Sender", json_type="application/x-amz-json-1.1"):
    """An error in the wire format of the caller's protocol (cbor, json or query)."""
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "cbor":
        body = cbor_dumps({"__type": code, "message": message})
        # CloudWatch is awsQueryCompatible: the SDK takes the code from this header.
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"),
                    ("x-amzn-query-error", f"{code};{fault}")]
    elif protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", json_type)]
    else:
        body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers += [("Content-Type", "text/xml")]
    return status, headers, body


def fault_reply(protocol, kind, json_type, service=""):
    if kind == "access_denied":
        # Each protocol family spells it its own way; SNS says AuthorizationError.
        code = {"json": "AccessDeniedException", "cbor": "AccessDenied"}.get(
            protocol, "AuthorizationError" if service == "sns" else "AccessDenied")
        status = 400 if protocol == "json" else 403
        return error_reply(protocol, status, code, "User is not authorized to perform this action",
                           json_type=json_type)
    if kind == "throttle":
        code = "ThrottlingException" if protocol == "json" else "Throttling"
        return error_reply(protocol, 400, code, "Rate exceeded", json_type=json_type)
    code = "ServiceUnavailableException" if protocol == "json" else "ServiceUnavailable"
    return error_reply(protocol, 503, code, "Service is unavailable", "Receiver", json_type)


# --------------------------------------------------------------------------- SNS pending subscriptions

PENDING_PROTOCOLS = {"email", "email-json", "http", "https"}


def set_pending(sub, pending):
    sub._emulator_pending = pending
    sub.confirmed = not pending
    sub.attributes["PendingConfirmation"] = "true" if pending else "false"
    sub.attributes["ConfirmationWasAuthenticated"] = "false" if pending else "true"


def patch_logs():
    """AWS replaces a metric filter put again under the same name; moto appends a duplicate.
    (A retried PutMetricFilter whose first reply was lost must not leave two filters.)"""
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter

    def add_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        self.metric_filters = [
            f for f in self.metric_filters
            if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)]
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    MetricFilters.add_filter = add_filter


def patch_sns():
    """moto confirms every subscription at once; real SNS keeps email/http(s) ones
    pending until confirmed. Patch the model in-process (we share moto's process)."""
    from moto.core.responses import ActionResult
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    orig_subscribe = SNSBackend.subscribe
    orig_list = SNSBackend.list_subscriptions
    orig_list_by_topic = SNSBackend.list_subscriptions_by_topic
    orig_response_subscribe = SNSResponse.subscribe

    def subscribe(self, topic_arn, endpoint, protocol):
        existing = self._find_subscription(topic_arn, endpoint, protocol)
        sub = orig_subscribe(self, topic_arn, endpoint, protocol)
        if existing is None and protocol in PENDING_PROTOCOLS:
            set_pending(sub, True)
        return sub

    def views(subs):
        # The serializer picks `subscription_arn` before `arn`, so a shallow copy
        # with that attribute shows "PendingConfirmation" without touching the
        # stored subscription (whose real ARN Unsubscribe still accepts).
        out = []
        for sub in subs:
            if getattr(sub, "_emulator_pending", False):
                sub = copy.copy(sub)
                sub.subscription_arn = "PendingConfirmation"
            out.append(sub)
        return out

    def list_subscriptions(self, next_token=None):
        subs, token = orig_list(self, next_token=next_token)
        return views(subs), token

    def list_subscriptions_by_topic(self, topic_arn, next_token=None):
        subs, token = orig_list_by_topic(self, topic_arn, next_token=next_token)
        return views(subs), token

    def response_subscribe(self):
        result = orig_response_subscribe(self)
        sub = self.backend.subscriptions.get(result.result["SubscriptionArn"])
        want_arn = str(self._get_param("ReturnSubscriptionArn", False)).lower() == "true"
        if sub is not None and getattr(sub, "_emulator_pending", False) and not want_arn:
            return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    SNSBackend.subscribe = subscribe
    SNSBackend.list_subscriptions = list_subscriptions
    SNSBackend.list_subscriptions_by_topic = list_subscriptions_by_topic
    SNSResponse.subscribe = response_subscribe


# --------------------------------------------------------------------------- the middleware

class Emulator:
    def __init__(self):
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()
        self.calls = []  # dicts in arrival order, each with its account
        self.faults = {}  # account -> {"rate", "kinds", "operations", "rng", "injected"}

    # ---- plumbing

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/"):
            status, headers, body = self.control(environ, path)
        else:
            status, headers, body = self.aws_call(environ)
        # moto adds a pseudo "status" header; drop it and recompute the length.
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "status")]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}", headers)
        return [body]

    def call_moto(self, environ, body):
        # We consumed the body; hand moto a fresh, length-delimited copy.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)
        try:
            app_iter, status, headers = run_wsgi_app(self.moto, environ, buffered=True)
            data = b"".join(app_iter)
            return int(status.split()[0]), list(headers.items()), data
        except Exception as exc:  # a moto crash is a 500, like a real service fault
            log = logging.getLogger("emulator")
            log.warning("moto failed: %r", exc, exc_info=log.isEnabledFor(logging.INFO))
            return 500, [("Content-Type", "application/json")], json.dumps(
                {"__type": "InternalFailure", "message": f"{type(exc).__name__}: {exc}"}).encode()

    # ---- AWS calls

    def aws_call(self, environ):
        body = get_input_stream(environ).read()  # handles chunked bodies too
        m = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        akid, region, service = m.groups() if m else ("", "us-east-1", "unknown")
        account = DEFAULT_ACCOUNT_ID
        if re.fullmatch(r"\d{12}", akid):
            account = environ["HTTP_X_MOTO_ACCOUNT_ID"] = akid  # honoured by moto's get_current_account

        cbor_match = CBOR_PATH.match(environ.get("PATH_INFO", ""))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if cbor_match:
            protocol, operation = "cbor", cbor_match.group(2)
        elif target:
            protocol, operation = "json", target.rsplit(".", 1)[-1]
        else:
            protocol = "query"
            form = parse_qs(body.decode("utf-8", "replace")) if body else {}
            query = parse_qs(environ.get("QUERY_STRING", ""))
            operation = (form.get("Action") or query.get("Action") or ["unknown"])[0]

        json_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
        fault = self.pick_fault(account, operation)
        if fault in ("throttle", "unavailable", "access_denied"):
            # Never reaches moto.
            status, headers, out = fault_reply(protocol, fault, json_type, service)
        else:
            if fault == "delay":  # a slow call: lets a test act while the caller waits
                time.sleep(self.faults.get(account, {}).get("delay_ms", 1000) / 1000)
            if protocol == "cbor":
                status, headers, out = self.cbor_call(environ, body, operation)
            else:
                status, headers, out = self.call_moto(environ, body)
            if fault == "lost_reply":  # the change happened, but the caller never hears
                status, headers, out = fault_reply(protocol, "unavailable", json_type)

        with self.lock:
            self.calls.append({"account": account, "service": SERVICE_NAMES.get(service, service),
                               "operation": operation, "region": region, "status": status,
                               "fault": fault})
        return status, headers, out

    def cbor_call(self, environ, body, operation):
        """Translate one rpcv2Cbor call to awsJson1_0, run it on moto, translate back."""
        if operation not in CW_MODEL.operation_names:
            return error_reply("cbor", 404, "UnknownOperationException", f"Unknown operation {operation}")
        op_model = CW_MODEL.operation_model(operation)
        try:
            request = cbor_to_json(cbor2.loads(body) if body else {}, op_model.input_shape)
        except Exception as exc:
            return error_reply("cbor", 400, "SerializationException", f"Invalid request: {exc}")
        json_body = json.dumps(request or {}).encode()

        environ.update({
            "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "",
            "RAW_URI": "/", "REQUEST_URI": "/",
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "HTTP_X_AMZ_TARGET": f"{CW_TARGET_PREFIX}.{operation}",
        })
        environ.pop("HTTP_SMITHY_PROTOCOL", None)
        status, moto_headers, out = self.call_moto(environ, json_body)

        # Keep request id / query-compatible error headers; replace content headers.
        headers = [(k, v) for k, v in moto_headers
                   if k.lower() not in ("content-type", "content-length", "x-amzn-errortype")]
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        try:
            reply = json.loads(out) if out.strip() else {}
        except ValueError:
            reply = {"message": out.decode("utf-8", "replace")}
        if status >= 400:
            # moto says {"__type": "GraniteServiceVersion20100801#Code", "Message": ...};
            # the real service says "com.amazonaws.cloudwatch#Code" and `message`.
            # (The SDK strips everything up to '#', and prefers x-amzn-query-error.)
            error = {k: v for k, v in reply.items() if k not in ("Message", "message", "__type")}
            code = reply.get("__type") or ("InternalFailure" if status >= 500 else "UnknownError")
            error["__type"] = "com.amazonaws.cloudwatch#" + code.split("#")[-1]
            error["message"] = reply.get("message") or reply.get("Message") or ""
            return status, headers, cbor_dumps(error)
        # Always a map, even for empty outputs: the SDK's decoders expect one.
        return status, headers, cbor_dumps(json_to_cbor(reply, op_model.output_shape) or {})

    # ---- fault injection

    def pick_fault(self, account, operation):
        with self.lock:
            plan = self.faults.get(account)
            if not plan or (plan["operations"] and operation not in plan["operations"]):
                return None
            if plan["rng"].random() >= plan["rate"]:
                return None
            kind = plan["rng"].choice(plan["kinds"])
            plan["injected"][kind] = plan["injected"].get(kind, 0) + 1
            return kind

    def fault_status(self, account):
        plan = self.faults.get(account)
        if plan is None:
            return {"account": account, "active": False}
        return {"account": account, "active": True, "rate": plan["rate"], "kinds": plan["kinds"],
                "operations": plan["operations"], "injected": dict(plan["injected"])}

    # ---- control endpoints

    def control(self, environ, path):
        method = environ["REQUEST_METHOD"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        raw = get_input_stream(environ).read()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return self.json_reply(400, {"error": "body is not JSON"})
        account = str(query.get("account") or data.get("account") or "") or None

        if path == "/_emulator/health":
            return 200, [("Content-Type", "text/plain")], b"ok"
        if path == "/_emulator/calls" and method == "GET":
            with self.lock:
                calls = [c for c in self.calls if account is None or c["account"] == account]
            return self.json_reply(200, {"calls": calls})
        if path == "/_emulator/calls/reset" and method == "POST":
            with self.lock:
                self.calls = [c for c in self.calls if account is not None and c["account"] != account]
            return self.json_reply(200, {"reset": account or "all"})
        if path == "/_emulator/confirm" and method == "POST":
            return self.confirm(account, data)
        if path == "/_emulator/faults":
            if account is None:
                return self.json_reply(400, {"error": "account is required"})
            with self.lock:
                if method == "POST":
                    kinds = data.get("kinds") or ["throttle", "unavailable", "lost_reply"]
                    bad = set(kinds) - {"throttle", "unavailable", "lost_reply", "access_denied",
                                        "delay"}
                    if bad:
                        return self.json_reply(400, {"error": f"unknown fault kinds {sorted(bad)}"})
                    seed = data.get("seed", int(account) if account.isdigit() else account)
                    self.faults[account] = {
                        "rate": float(data.get("rate", 1.0)), "kinds": kinds,
                        "operations": data.get("operations") or [],
                        "delay_ms": int(data.get("delay_ms", 1000)),
                        "rng": random.Random(seed), "injected": {}}
                elif method == "DELETE":
                    self.faults.pop(account, None)
                return self.json_reply(200, self.fault_status(account))
        return self.json_reply(404, {"error": f"no control endpoint {method} {path}"})

    def confirm(self, account, data):
        from moto.sns.models import sns_backends

        arn, topic = data.get("subscription_arn"), data.get("topic_arn")
        # Account and region default to those in the ARN (arn:aws:sns:REGION:ACCOUNT:...).
        parts = (arn or topic or "").split(":") + [""] * 6
        account = account or parts[4] or DEFAULT_ACCOUNT_ID
        backend = sns_backends[account][data.get("region") or parts[3] or "us-east-1"]
        with self.lock:
            subs = [s for s in list(backend.subscriptions.values())
                    if (arn and s.arn == arn) or (topic and s.topic.arn == topic)]
            for sub in subs:
                set_pending(sub, False)
        if not subs:
            return self.json_reply(404, {"error": "no such subscription", "confirmed": []})
        return self.json_reply(200, {"confirmed": [s.arn for s in subs]})

    @staticmethod
    def json_reply(status, obj):
        return status, [("Content-Type", "application/json")], json.dumps(obj).encode()


class QuietHandler(MotoRequestHandler):
    """moto's handler (keeps underscored headers), without per-request log lines."""

    verbose = False

    def log_request(self, *args, **kwargs):
        if self.verbose:
            super().log_request(*args, **kwargs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--exit-on-stdin-eof", action="store_true",
                        help="exit when stdin closes (ties our lifetime to the parent's)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    QuietHandler.verbose = args.verbose
    patch_sns()
    patch_logs()

    if args.exit_on_stdin_eof:
        def wait_for_eof():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=wait_for_eof, daemon=True).start()

    server = make_server(args.host, args.port, Emulator(), threaded=True, request_handler=QuietHandler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

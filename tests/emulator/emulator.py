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
  Real SNS delivers nothing to a pending subscription, and delivers to an SQS
  queue only if the queue policy lets ``sns.amazonaws.com`` send (and, for a
  KMS-encrypted queue, the key policy lets it use the key); moto delivers to
  every subscription and any queue.  Patched in ``patch_sns``.
* CreateTopic is idempotent, but AWS refuses a name that exists with tags other than those
  asked for (InvalidParameter, "Invalid parameter: Tags Reason: Topic already exists with
  different tags"); moto returns the topic whatever the tags.  ``patch_sns_create_topic``.
* A subscription that account B makes to account A's topic is B's (B's ListSubscriptions
  lists it, A's does not) and the topic's: A's ListSubscriptionsByTopic lists it, A may
  Unsubscribe it (a third account may not: AuthorizationError), A's DeleteTopic removes it,
  and a Publish (an alarm's too) reaches it.  moto keeps it in B's backend only and sees
  none of that.  ``patch_sns_cross_account``.
* moto never runs alarm actions and has no DescribeAlarmHistory.  Real
  CloudWatch records ConfigurationUpdate / StateUpdate / Action history items and,
  on a state change, publishes to each SNS topic in the state's action list -
  but only if the topic policy lets ``cloudwatch.amazonaws.com`` publish and, for
  an encrypted topic, the key policy lets it use the key (an AWS managed key's
  never does).  ``patch_cloudwatch`` emulates this, checking the policies with
  our own evaluator (``evaluate_policy``, written from the IAM policy
  evaluation docs, independently of the product whose analysis it checks), and
  publishes through moto's real SNS path so that subscribers receive it.  It also
  starts new alarms in INSUFFICIENT_DATA and keeps an updated alarm's state, as
  PutMetricAlarm is documented to; moto starts and resets them to OK.
* PutMetricAlarm ignores Tags when it updates an alarm (documented); moto merges them into
  the alarm's tags, and gives a new alarm the tags of a deleted one of the same name.
  ``keep_alarm_tags`` and ``patch_cloudwatch`` keep an updated alarm's tags as they were.
* KMS creates an AWS managed key (``alias/aws/sns`` ...) on first use; moto
  answers NotFoundException for ``alias/aws/sns`` and makes its own reserved
  aliases customer keys.  ``patch_kms`` creates them as AWS does.
* moto has no CloudWatch Logs TestMetricFilter.  The middleware answers it itself
  (``test_metric_filter``, before moto, after fault injection and with call logging like
  any call), with our own filter-pattern evaluator (``filter_patterns.py``, written from
  the CloudWatch Logs filter-pattern docs, independently of the product's engine).
* moto's FilterLogEvents ignores JSON filter patterns (it returns every event for them).  The
  middleware answers FilterLogEvents itself (``filter_log_events``) with filter_patterns.py,
  paged as documented (1 MB or 10,000 events, nextToken, both window ends inclusive).
* moto drops PutMetricFilter's applyOnTransformedLogs, fieldSelectionCriteria and
  emitSystemFieldDimensions; AWS keeps them and DescribeMetricFilters returns them.
  ``patch_metric_filter_fields``.
* moto has no log transformers or account policies.  The middleware answers PutTransformer,
  GetTransformer (ResourceNotFoundException for a log group without a transformer of its own),
  DeleteTransformer and, for TRANSFORMER_POLICY, PutAccountPolicy, DescribeAccountPolicies and
  DeleteAccountPolicy itself (``put_transformer`` and the handlers beside it).
* Organizations: moto answers a member's or an outsider's ListAccounts (and the other
  management-only reads) with an empty list, pages ListAccounts by 100 and cannot give an
  account a chosen id.  ``patch_organizations`` refuses them as AWS does
  (AccessDeniedException / AWSOrganizationsNotInUseException; delegated administrators
  read), pages by at most 20, and ``POST /_emulator/organization`` builds an organization
  with the ids a test chooses.
* Organization trails: moto lets any account create one and shows it to no member.
  ``patch_cloudtrail`` lets only an all-features organization's management account create
  it and lists it in every member's DescribeTrails, with the management account's ARN; a
  member reads its status by ARN (documented) and nothing else of it.
* AssumeRole: moto lets anyone assume any role ARN.  ``assume_role_refusal`` (in the
  middleware, before moto) wants the role to exist and its trust policy (ExternalId
  conditions included) to allow the caller, else AccessDenied as STS words it; temporary
  credentials work only with their session token, until they expire.  A call signed with
  them is made in the role's account: moto's, the call log's and the faults' account.
* EventBridge TestEventPattern answers {"Result": true|false}; moto's replies nothing.
  ``patch_events_test_event_pattern`` answers it with moto's own matcher (written apart from
  the product's), refusing a bad pattern (InvalidEventPatternException, a filter object that
  is no documented comparison operator included, which moto lets match everything) and an
  event that is not JSON or lacks a mandatory field (ValidationException; `resources`, which
  the API reference calls mandatory, may be missing, as AWS's own example has it).
* PutRule on an existing rule leaves its tags unchanged (documented); moto merges the given
  Tags into them.  ``patch_events_put_rule`` keeps them as they were.
* Security Hub speaks restJson1: the method and path name the operation (no target header,
  no Action), which the call log and the faults need; ``rest_operation`` reads them from
  botocore's model.  BatchImportFindings must be called from the account a finding names
  (AwsAccountId) when it uses the default product ARN (API reference, BatchImportFindings):
  AWS refuses the call as a whole (AccessDeniedException, 403, "User: <caller> is not
  authorized to perform: securityhub:BatchImportFindings on resource: <product ARN>"), as it
  does for another account's default product; moto imports anything.
  ``securityhub_import_refusal``.  A re-import of an existing Id replaces the finding,
  keeping what only customers set (Note, UserDefinedFields, VerificationState, Workflow;
  BatchImportFindings cannot change those); moto merges the new fields into the old ones,
  so a member the new finding leaves out (StatusReasons, Remediation) would linger.
  ``patch_securityhub``.
* Tests need to see which calls were made, to inject faults, and to read what
  reached SNS / SQS and the alarm history, which is done through plain-JSON
  control endpoints under ``/_emulator/``:

  GET  /_emulator/calls[?account=A]      calls in arrival order: account (where the call was
                                         made), service, operation, region, status, fault,
                                         principal (the caller: arn:aws:iam::A:user/moto for
                                         a 12-digit key, the assumed-role session ARN for
                                         temporary credentials), role_arn (AssumeRole only)
  POST /_emulator/calls/reset[?account=A]
  POST /_emulator/faults {"account": A, "kinds": [...], "operations": [...], "rate": 1.0,
                          "seed": n, "delay_ms": n, "skip": n, "target_account": B or [B, ...]}
        one plan per account (a POST replaces it); kinds throttle, unavailable, lost_reply,
        access_denied, delay, no_matches.  The first "skip" calls the plan matches pass
        untouched (a fault on the second SetAlarmState only, say); with "count": n, only the
        first n faults are injected (then calls pass).  With target_account the plan is for
        AssumeRole calls made in A into roles of those accounts only (operations may be
        omitted or ["AssumeRole"]); access_denied then says what STS says: AccessDenied,
        403, "User: <caller> is not authorized to perform: sts:AssumeRole on resource:
        <role arn>".
  GET|DELETE /_emulator/faults?account=A
  POST /_emulator/filter-log-events {"account": A, "page_events": n, "scan_events": n}
        FilterLogEvents pages of at most n events, and at most n stored events read per call
        (pages may then be empty with a nextToken, as AWS's time-bounded scans are).
  POST /_emulator/organization {"management": M, "feature_set": "ALL",
        "management_name": ..., "management_email": ...,
        "accounts": [B, {"id": C, "name": ..., "email": ..., "status": "ACTIVE"|"SUSPENDED",
                         "joined_method": "CREATED"|"INVITED",
                         "role": true|false|"Name"|{"name": N, "external_id": X}|{"name": N,
                                 "trust_policy": {...}}}]}
        creates M's organization (or adds to it); each member joins in the order given.
        A CREATED account gets OrganizationAccountAccessRole (or "role"), trusting M, as
        CreateAccount makes it; an INVITED one gets none unless "role" asks; a "role" object
        makes the role with that trust (M's root with an sts:ExternalId condition, or the
        policy given).  409 if an account is already in an organization.
  POST /_emulator/confirm, GET /_emulator/alarm-history, /_emulator/sns-published,
  /_emulator/sqs-messages, /_emulator/health (see Emulator.control)

Usage: python emulator.py [--host 127.0.0.1] [--port 0] [--exit-on-stdin-eof] [--verbose]
                          [--ne-matches-missing]
Prints exactly one line ``PORT <n>`` to stdout once it is listening.
"""

import argparse
import base64
import collections
import copy
import datetime
import io
import ipaddress
import itertools
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

import filter_patterns  # ours, next to this file

UTC = datetime.timezone.utc
CW_TARGET_PREFIX = "GraniteServiceVersion20100801"
CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")
SERVICE_NAMES = {"monitoring": "cloudwatch"}  # signing name -> name reported in the call log
CW_MODEL = botocore.session.get_session().get_service_model("cloudwatch")
# restJson1 services whose operations the call log and the faults name (``rest_operation``).
REST_MODELS = {"securityhub": botocore.session.get_session().get_service_model("securityhub")}


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
    elif protocol == "rest-json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
    else:
        body = (f"<ErrorResponse><Error><Type>{fault}</Type><Code>{code}</Code><Message>{message}"
                f"</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()
        headers += [("Content-Type", "text/xml")]
    return status, headers, body


def fault_reply(protocol, kind, json_type, service="", message=None):
    if kind == "access_denied":
        # Each protocol family spells it its own way; SNS says AuthorizationError.
        code = {"json": "AccessDeniedException", "rest-json": "AccessDeniedException",
                "cbor": "AccessDenied"}.get(
            protocol, "AuthorizationError" if service == "sns" else "AccessDenied")
        status = 400 if protocol == "json" else 403
        return error_reply(protocol, status, code, message or "User is not authorized to perform this action",
                           json_type=json_type)
    if kind == "throttle":
        code = "ThrottlingException" if protocol == "json" else "Throttling"
        return error_reply(protocol, 400, code, "Rate exceeded", json_type=json_type)
    code = "ServiceUnavailableException" if protocol == "json" else "ServiceUnavailable"
    return error_reply(protocol, 503, code, "Service is unavailable", "Receiver", json_type)


# --------------------------------------------------------------------------- CloudWatch Logs TestMetricFilter

LOGS_TARGET_PREFIX = "Logs_20140328"
# TestMetricFilter's modelled limits (API reference): filterPattern 0-1024 characters,
# logEventMessages 1-50 items, each at least 1 character.
MAX_FILTER_PATTERN = 1024
MAX_TEST_MESSAGES = 50


def _logs_validation(field, constraint, value=None):
    shown = "" if value is None else f" '{value}'"
    return filter_patterns.InvalidPattern(
        f"1 validation error detected: Value{shown} at '{field}' failed to satisfy constraint: {constraint}")


def test_metric_filter(body, json_type, account=None, region=None):
    """logs:TestMetricFilter (awsJson1.1), answered by filter_patterns.  An invalid request or
    pattern is InvalidParameterException (400), as the API reference lists; a pattern that
    AWS may accept but we do not emulate (space-delimited, say) is a loud 501 NotImplemented,
    never a silent non-match."""
    def invalid(message):
        return error_reply("json", 400, "InvalidParameterException", message, json_type=json_type)

    try:
        request = json.loads(body) if body.strip() else {}
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return error_reply("json", 400, "SerializationException", "Request body is not a JSON object",
                           json_type=json_type)
    pattern, messages = request.get("filterPattern"), request.get("logEventMessages")
    try:
        if not isinstance(pattern, str):
            raise _logs_validation("filterPattern", "Member must not be null")
        if len(pattern) > MAX_FILTER_PATTERN:
            raise _logs_validation("filterPattern", "Member must have length less than or equal to "
                                   f"{MAX_FILTER_PATTERN}")
        if not isinstance(messages, list):
            raise _logs_validation("logEventMessages", "Member must not be null")
        if not 1 <= len(messages) <= MAX_TEST_MESSAGES:
            bound = ("greater than or equal to 1" if not messages
                     else f"less than or equal to {MAX_TEST_MESSAGES}")
            raise _logs_validation("logEventMessages", f"Member must have length {bound}")
        for n, message in enumerate(messages, 1):
            if not isinstance(message, str) or not message:
                raise _logs_validation(f"logEventMessages.{n}.member",
                                       "Member must have length greater than or equal to 1", "")
        matches = filter_patterns.test_metric_filter(pattern, messages)
    except filter_patterns.InvalidPattern as exc:
        text = str(exc)
        if not text.startswith("1 validation error"):
            # AWS says "Invalid metric filter pattern"; what is wrong follows in parentheses.
            text = f"Invalid metric filter pattern ({text})"
        return invalid(text)
    except filter_patterns.UnsupportedPattern as exc:
        return error_reply("json", 501, "NotImplemented",
                           f"The emulator does not evaluate this filter pattern: {exc}", "Receiver",
                           json_type)
    headers = [("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Type", json_type)]
    return 200, headers, json.dumps({"matches": matches}).encode()


# --------------------------------------------------------------------------- CloudWatch Logs transformers

# moto 5.2.5 has no log transformers and no account policies (its server answers 500
# NotImplementedError).  We keep them here, per (account, region), and answer
# PutTransformer / GetTransformer / DeleteTransformer and, for policyType TRANSFORMER_POLICY,
# PutAccountPolicy / DescribeAccountPolicies / DeleteAccountPolicy as the CloudWatch Logs API
# reference documents them (operations, shapes and error lists as in botocore's model of the API).
TRANSFORMER_LOCK = threading.Lock()
TRANSFORMERS = {}  # (account, region, log group name) -> {"transformerConfig", "creationTime", ...}
ACCOUNT_POLICIES = {}  # (account, region) -> {policy name: AccountPolicy}, TRANSFORMER_POLICY only
# PutTransformer: "the first processor in a transformer must be a parser" (Create and manage log
# transformers); these are the parser-type processors that guide lists.
PARSERS = {"parseCloudfront", "parseJSON", "parseKeyValue", "parseRoute53", "parseToOCSF",
           "parsePostgres", "parseVPC", "parseWAF", "csv", "grok"}
PROCESSORS = PARSERS | {"addKeys", "copyValue", "dateTimeConverter", "deleteKeys", "listToMap",
                        "lowerCaseString", "moveKeys", "renameKeys", "splitString",
                        "substituteString", "trimString", "typeConverter", "upperCaseString"}
MAX_PROCESSORS = 20  # Processors: "min": 1, "max": 20
MAX_TRANSFORMER_POLICIES = 20  # "as many as 20 account-level transformer policies" (PutAccountPolicy)
PREFIX_CRITERIA = re.compile(r'^\s*LogGroupNamePrefix\s+IN\s*\[(.*)\]\s*$', re.S)
LOG_GROUP_ARN = re.compile(r"^arn:[^:]+:logs:[^:]*:\d{12}:log-group:([^:]+)(?::\*)?$")
NO_RESOURCE = "The specified resource does not exist."  # ResourceNotFoundException, as documented


class LogsError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.status = code, status


def logs_operation(handler):
    """An awsJson1.1 CloudWatch Logs operation answered here: the request body parsed, a
    LogsError turned into its error reply, a dict into a 200 reply (None: an empty body, as
    the API reference says of PutTransformer and the deletes)."""
    def answer(body, json_type, account, region):
        try:
            request = json.loads(body) if body.strip() else {}
            if not isinstance(request, dict):
                raise ValueError
        except ValueError:
            return error_reply("json", 400, "SerializationException", "Request body is not a JSON object",
                               json_type=json_type)
        try:
            reply = handler(request, account, region)
        except LogsError as exc:
            return error_reply("json", exc.status, exc.code, str(exc), json_type=json_type)
        headers = [("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Type", json_type)]
        return 200, headers, b"" if reply is None else json.dumps(reply).encode()
    return answer


POLICY_TYPES = ["DATA_PROTECTION_POLICY", "SUBSCRIPTION_FILTER_POLICY", "FIELD_INDEX_POLICY",
                "TRANSFORMER_POLICY", "METRIC_EXTRACTION_POLICY", "RETENTION_POLICY"]  # PolicyType


def _required(request, field, kind=str):
    value = request.get(field)
    if value is None:
        raise LogsError("InvalidParameterException",
                        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
                        "Member must not be null")
    if not isinstance(value, kind):
        raise LogsError("SerializationException", f"Unexpected value for {field}")
    return value


def _policy_type(request):
    policy_type = _required(request, "policyType")
    if policy_type not in POLICY_TYPES:
        raise LogsError("InvalidParameterException",
                        f"1 validation error detected: Value '{policy_type}' at 'policyType' failed to "
                        f"satisfy constraint: Member must satisfy enum value set: [{', '.join(POLICY_TYPES)}]")
    return policy_type


def _log_group(request, account, region):
    """The log group a logGroupIdentifier (name or ARN) names; ResourceNotFoundException when
    it does not exist (GetTransformer, PutTransformer and DeleteTransformer list that error)."""
    from moto.logs.models import logs_backends

    identifier = _required(request, "logGroupIdentifier")
    match = LOG_GROUP_ARN.match(identifier)
    name = match.group(1) if match else identifier
    if name not in logs_backends[account][region].groups:
        raise LogsError("ResourceNotFoundException", "The specified log group does not exist.")
    return name, f"arn:aws:logs:{region}:{account}:log-group:{name}"


def _now_ms():
    return int(time.time() * 1000)


@logs_operation
def put_transformer(request, account, region):
    """PutTransformer: creates or replaces the log group's transformer, a list of 1-20
    processors of which the first must be a parser."""
    name, _ = _log_group(request, account, region)
    config = _required(request, "transformerConfig", list)
    if not 1 <= len(config) <= MAX_PROCESSORS:
        raise LogsError("InvalidParameterException", "1 validation error detected: Value at "
                        f"'transformerConfig' failed to satisfy constraint: Member must have length "
                        f"between 1 and {MAX_PROCESSORS}")
    kinds = [next(iter(p), None) if isinstance(p, dict) and len(p) == 1 else None for p in config]
    if any(k not in PROCESSORS for k in kinds):
        raise LogsError("InvalidParameterException", "Each processor must name exactly one processor type")
    if kinds[0] not in PARSERS:
        raise LogsError("InvalidParameterException", "The first processor in a transformer must be a parser")
    with TRANSFORMER_LOCK:
        before = TRANSFORMERS.get((account, region, name))
        now = _now_ms()
        TRANSFORMERS[(account, region, name)] = {
            "transformerConfig": config, "lastModifiedTime": now,
            "creationTime": before["creationTime"] if before else now}
    return None


@logs_operation
def get_transformer(request, account, region):
    """GetTransformer returns "data only for transformers created at the log group level" (an
    account policy's are DescribeAccountPolicies'). A log group without a transformer of its
    own has no such resource: ResourceNotFoundException, the documented error (and the one
    the Terraform AWS provider's aws_cloudwatch_log_transformer reads as "no transformer")."""
    name, arn = _log_group(request, account, region)
    with TRANSFORMER_LOCK:
        found = TRANSFORMERS.get((account, region, name))
    if found is None:
        raise LogsError("ResourceNotFoundException", NO_RESOURCE)
    return {"logGroupIdentifier": arn, **found}


@logs_operation
def delete_transformer(request, account, region):
    name, _ = _log_group(request, account, region)
    with TRANSFORMER_LOCK:
        if TRANSFORMERS.pop((account, region, name), None) is None:
            raise LogsError("ResourceNotFoundException", NO_RESOURCE)
    return None


def transformer_prefixes(criteria):
    """The prefixes of a TRANSFORMER_POLICY's selectionCriteria (`LogGroupNamePrefix IN
    ["a", "b"]`, the only filter PutAccountPolicy supports for that type); None for none."""
    if criteria is None or not criteria.strip():
        return None
    match = PREFIX_CRITERIA.match(criteria)
    try:
        prefixes = json.loads(f"[{match.group(1)}]") if match else None
    except ValueError:
        prefixes = None
    if not prefixes or not all(isinstance(p, str) and p for p in prefixes):
        raise LogsError("InvalidParameterException", "If policyType is TRANSFORMER_POLICY, the only "
                        "supported selectionCriteria filter is LogGroupNamePrefix")
    return prefixes


def _overlap(a, b):
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def _transformer_policy_type(request):
    policy_type = _policy_type(request)
    if policy_type != "TRANSFORMER_POLICY":
        # Loud, never a silent success: the emulator keeps transformer policies only.
        raise LogsError("NotImplemented", f"The emulator does not keep {policy_type} account policies", 501)


@logs_operation
def put_account_policy(request, account, region):
    """PutAccountPolicy, TRANSFORMER_POLICY: at most 20 per Region, "no two of them can use the
    same or overlapping log group name prefixes", names may not start with aws/."""
    _transformer_policy_type(request)
    name = _required(request, "policyName")
    document = _required(request, "policyDocument")
    if name.startswith("aws/"):
        raise LogsError("InvalidParameterException", "The policy name cannot start with aws/")
    try:
        json.loads(document)
    except ValueError:
        raise LogsError("InvalidParameterException", "The policy document is not valid JSON") from None
    criteria = request.get("selectionCriteria")
    prefixes = transformer_prefixes(criteria)
    with TRANSFORMER_LOCK:
        policies = ACCOUNT_POLICIES.setdefault((account, region), {})
        others = [p for n, p in policies.items() if n != name]
        if name not in policies and len(others) >= MAX_TRANSFORMER_POLICIES:
            raise LogsError("LimitExceededException", "You have reached the maximum number of "
                            "transformer policies")
        if prefixes and any(_overlap(prefixes, transformer_prefixes(p.get("selectionCriteria")) or [])
                            for p in others):
            raise LogsError("InvalidParameterException", "The selection criteria overlap with those of "
                            "another transformer policy")
        policy = {"policyName": name, "policyDocument": document, "lastUpdatedTime": _now_ms(),
                  "policyType": "TRANSFORMER_POLICY", "scope": request.get("scope") or "ALL",
                  "accountId": account}
        if criteria is not None:
            policy["selectionCriteria"] = criteria
        policies[name] = policy
    return {"accountPolicy": policy}


@logs_operation
def describe_account_policies(request, account, region):
    """DescribeAccountPolicies: this account's policies of the type asked for (the emulator
    keeps TRANSFORMER_POLICY ones only, so other types have none), optionally one by name."""
    policy_type = _policy_type(request)
    name = request.get("policyName")
    with TRANSFORMER_LOCK:
        policies = list(ACCOUNT_POLICIES.get((account, region), {}).values())
    found = [copy.deepcopy(p) for p in policies
             if p["policyType"] == policy_type and name in (None, p["policyName"])]
    return {"accountPolicies": sorted(found, key=lambda p: p["policyName"])}


@logs_operation
def delete_account_policy(request, account, region):
    _transformer_policy_type(request)
    name = _required(request, "policyName")
    with TRANSFORMER_LOCK:
        if ACCOUNT_POLICIES.get((account, region), {}).pop(name, None) is None:
            raise LogsError("ResourceNotFoundException", NO_RESOURCE)
    return None


# --------------------------------------------------------------------------- CloudWatch Logs FilterLogEvents

# moto's FilterLogEvents understands single terms and phrases only, and returns every event
# for a pattern it does not understand (a JSON pattern, `{ $.errorCode = ... }`, among them):
# far kinder than AWS.  We answer it here with filter_patterns, as TestMetricFilter is, and
# page as the API reference documents (FilterLogEvents): "By default, this operation returns
# as many log events as can fit in 1 MB (up to 10,000 log events) or all the events found
# within the time range that you specify.  If the results include a token, that means there
# are more log events available"; `limit` is 1-10,000; startTime: "Events with a timestamp
# before this time are not returned"; endTime: "Events with a timestamp later than this time
# are not returned" (both ends inclusive).  AWS may also stop a page after a time-bounded
# scan window, so a page can be empty and still carry a nextToken: ``scan_events`` emulates
# that (events read per call).  Events are returned interleaved, by timestamp (AWS
# interleaves; the `interleaved` parameter is deprecated).
FILTER_PAGE_BYTES = 1024 * 1024
FILTER_MAX_LIMIT = 10000
# account -> {"page_events": n, "scan_events": n}: smaller pages for tests, set with
# POST /_emulator/filter-log-events.
FILTER_PAGING = {}


def _filter_token(group, position):
    raw = json.dumps({"g": group, "p": position}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _filter_position(group, token):
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["g"] == group and isinstance(data["p"], int) and data["p"] >= 0:
            return data["p"]
    except (ValueError, KeyError, TypeError):
        pass
    raise LogsError("InvalidParameterException", "The specified nextToken is invalid.")


def _filter_request(request):
    """The checked parameters of a FilterLogEvents request."""
    group = request.get("logGroupName") or request.get("logGroupIdentifier")
    if not isinstance(group, str) or not group:
        raise LogsError("InvalidParameterException", "1 validation error detected: Value at "
                        "'logGroupName' failed to satisfy constraint: Member must not be null")
    match = LOG_GROUP_ARN.match(group)
    group = match.group(1) if match else group
    limit = request.get("limit", FILTER_MAX_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= FILTER_MAX_LIMIT:
        raise LogsError("InvalidParameterException", f"1 validation error detected: Value '{limit}' at "
                        "'limit' failed to satisfy constraint: Member must have value less than or "
                        f"equal to {FILTER_MAX_LIMIT}")
    pattern = request.get("filterPattern") or ""
    if not isinstance(pattern, str) or len(pattern) > MAX_FILTER_PATTERN:
        raise LogsError("InvalidParameterException", "1 validation error detected: Value at "
                        "'filterPattern' failed to satisfy constraint: Member must have length less "
                        f"than or equal to {MAX_FILTER_PATTERN}")
    start, end = request.get("startTime"), request.get("endTime")
    for name, value in (("startTime", start), ("endTime", end)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise LogsError("InvalidParameterException", f"1 validation error detected: Value '{value}' "
                            f"at '{name}' failed to satisfy constraint: Member must have value greater "
                            "than or equal to 0")
    if start is not None and end is not None and start > end:
        raise LogsError("InvalidParameterException", "endTime must be greater than or equal to startTime")
    return group, limit, pattern, start, end


@logs_operation
def filter_log_events(request, account, region):
    """FilterLogEvents over moto's stored events, the pattern evaluated by filter_patterns."""
    from moto.logs.models import logs_backends

    group, limit, pattern, start, end = _filter_request(request)
    log_group = logs_backends[account][region].groups.get(group)
    if log_group is None:
        raise LogsError("ResourceNotFoundException", "The specified log group does not exist.")
    try:
        compiled = filter_patterns.compile_pattern(pattern)
    except filter_patterns.InvalidPattern as exc:
        raise LogsError("InvalidParameterException", f"Invalid filter pattern ({exc})")
    except filter_patterns.UnsupportedPattern as exc:
        raise LogsError("NotImplemented", f"The emulator does not evaluate this filter pattern: {exc}", 501)
    stored = sorted(((e.timestamp, name, e.event_id, e) for name, stream in list(log_group.streams.items())
                     for e in list(stream.events)), key=lambda t: t[:3])
    paging = FILTER_PAGING.get(account, {})
    limit = min(limit, paging.get("page_events") or limit)
    scan = paging.get("scan_events") or len(stored)
    position = _filter_position(group, request["nextToken"]) if request.get("nextToken") else 0
    events, size, read = [], 0, 0
    while position < len(stored) and read < scan and len(events) < limit:
        timestamp, stream_name, event_id, event = stored[position]
        in_window = (start is None or timestamp >= start) and (end is None or timestamp <= end)
        if in_window and compiled.matches(event.message):
            found = {"logStreamName": stream_name, "timestamp": timestamp, "message": event.message,
                     "ingestionTime": event.ingestion_time, "eventId": str(event_id)}
            grown = size + len(json.dumps(found))
            if events and grown > FILTER_PAGE_BYTES:
                break  # this event starts the next page
            events.append(found)
            size = grown
        position += 1
        read += 1
    reply = {"events": events, "searchedLogStreams": []}
    if position < len(stored):
        reply["nextToken"] = _filter_token(group, position)
    return reply


# Operations the middleware answers itself instead of moto:
# X-Amz-Target -> handler(body, json_type, account, region).
JSON_OPERATIONS = {
    f"{LOGS_TARGET_PREFIX}.TestMetricFilter": test_metric_filter,
    **{f"{LOGS_TARGET_PREFIX}.{op}": handler for op, handler in (
        ("PutTransformer", put_transformer), ("GetTransformer", get_transformer),
        ("DeleteTransformer", delete_transformer), ("PutAccountPolicy", put_account_policy),
        ("DescribeAccountPolicies", describe_account_policies),
        ("DeleteAccountPolicy", delete_account_policy), ("FilterLogEvents", filter_log_events))},
}


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
    patch_metric_filter_fields()


# MetricFilter / PutMetricFilter (API reference): emitSystemFieldDimensions' "Valid values are
# @aws.account and @aws.region", and they "count toward the total dimension limit for metric
# filters", which is three ("One metric filter can include as many as three dimensions",
# MetricTransformation.dimensions); fieldSelectionCriteria is at most 2000 characters.
SYSTEM_FIELDS = {"@aws.account", "@aws.region"}
MAX_FILTER_DIMENSIONS = 3
MAX_FIELD_SELECTION_CRITERIA = 2000


def system_field_refusal(request):
    """Why PutMetricFilter refuses these fields (InvalidParameterException), or None."""
    criteria = request.get("fieldSelectionCriteria")
    emitted = request.get("emitSystemFieldDimensions")
    if criteria is not None and (not isinstance(criteria, str)
                                 or len(criteria) > MAX_FIELD_SELECTION_CRITERIA):
        return ("1 validation error detected: Value at 'fieldSelectionCriteria' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_FIELD_SELECTION_CRITERIA}")
    if emitted is None:
        return None
    if not isinstance(emitted, list) or any(f not in SYSTEM_FIELDS for f in emitted):
        return "emitSystemFieldDimensions: valid values are @aws.account and @aws.region"
    transformations = request.get("metricTransformations") or [{}]
    own = (transformations[0] or {}).get("dimensions") or {}
    if len(own) + len(set(emitted)) > MAX_FILTER_DIMENSIONS:
        return (f"A metric filter can have at most {MAX_FILTER_DIMENSIONS} dimensions, "
                "emitSystemFieldDimensions included")
    return None


def patch_metric_filter_fields():
    """moto 5.2.5 drops PutMetricFilter's applyOnTransformedLogs, fieldSelectionCriteria and
    emitSystemFieldDimensions.  AWS keeps them with the filter and DescribeMetricFilters returns
    them (MetricFilter: "Returns the fieldSelectionCriteria value if it was specified when the
    metric filter was created", likewise emitSystemFieldDimensions; applyOnTransformedLogs is a
    Boolean in every reply's syntax, false unless set).  A put under the same name replaces the
    filter whole (patch_logs), these fields included."""
    from moto.logs.exceptions import InvalidParameterException
    from moto.logs.responses import LogsResponse

    original = LogsResponse.put_metric_filter

    def put_metric_filter(self):
        request = json.loads(self.body or "{}")
        refusal = system_field_refusal(request)
        if refusal:
            raise InvalidParameterException(refusal)
        result = original(self)
        for f in self.logs_backend.filters.metric_filters:
            if (f["filterName"], f["logGroupName"]) == (request.get("filterName"), request.get("logGroupName")):
                f["applyOnTransformedLogs"] = bool(request.get("applyOnTransformedLogs", False))
                for field in ("fieldSelectionCriteria", "emitSystemFieldDimensions"):
                    if request.get(field) is not None:
                        f[field] = request[field]
        return result

    LogsResponse.put_metric_filter = put_metric_filter


def patch_sns():
    """moto confirms every subscription at once; real SNS keeps email/http(s) ones
    pending until confirmed. Patch the model in-process (we share moto's process).
    Delivery: SNS sends nothing to a subscription until it is confirmed, and an SQS
    endpoint receives only what its queue policy (and key) let sns.amazonaws.com send
    (see sqs_refusal).  A failed delivery never fails the Publish call (SNS delivers
    after accepting it); moto would raise, e.g. for a missing queue."""
    from moto.core.responses import ActionResult
    from moto.sns.models import SNSBackend, Subscription
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

    orig_deliver = Subscription.publish

    def deliver(self, message, message_id, *args, **kwargs):
        log = logging.getLogger("emulator")
        if getattr(self, "_emulator_pending", False):
            log.info("not delivered to pending subscription %s", self.arn)
            return
        if self.protocol == "sqs":
            refusal = sqs_refusal(self.endpoint, self.topic)
            if refusal:
                log.info("not delivered to %s: %s", self.endpoint, refusal)
                return
            queue_account = self.endpoint.split(":")[4]
            if queue_account != self.account_id:  # moto would look in the subscriber's account
                self = copy.copy(self)
                self.account_id = queue_account
        try:
            orig_deliver(self, message, message_id, *args, **kwargs)
        except Exception as exc:
            log.info("delivery to %s failed: %r", self.endpoint, exc)

    SNSBackend.subscribe = subscribe
    SNSBackend.list_subscriptions = list_subscriptions
    SNSBackend.list_subscriptions_by_topic = list_subscriptions_by_topic
    SNSResponse.subscribe = response_subscribe
    Subscription.publish = deliver


# CreateTopic (SNS API reference, as the AWS CLI reference repeats it:
# https://awscli.amazonaws.com/v2/documentation/api/2.8.7/reference/sns/create-topic.html):
# "This action is idempotent, so if the requester already owns a topic with the specified
# name, that topic's ARN is returned without creating a new topic."  Tags cannot be changed
# that way: AWS answers InvalidParameter (400) with these words when the topic exists with
# other tags.  What counts as other tags is not documented; LocalStack's tests recorded
# against AWS (tests/aws/services/sns/test_sns.py, test_create_duplicate_topic_with_more_tags
# and test_create_duplicate_topic_check_idempotency, recorded 2025-10-13) show it: an
# untagged topic created again with a tag is refused; a topic tagged {a: 1, b: 2} created
# again with the same tags, with [a: 1] only, or with Tags=[] returns its ARN (a CreateTopic
# without Tags is taken alike).  So: refused iff some tag asked for is not on the topic with
# that value - a changed value included, which no recording shows but is the strict reading.
# The topic's tags never change.
TOPIC_TAGS_DIFFER = "Invalid parameter: Tags Reason: Topic already exists with different tags"


def patch_sns_create_topic():
    """moto's CreateTopic returns an existing topic whatever tags are asked for; AWS refuses
    tags the topic does not have (above)."""
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend
    from moto.sns.utils import make_arn_for_topic

    orig_create_topic = SNSBackend.create_topic

    def create_topic(self, name, attributes=None, tags=None):
        existing = self.topics.get(make_arn_for_topic(self.account_id, name, self.region_name))
        if existing is not None:
            have = existing._tags or {}
            if any(key not in have or have[key] != value for key, value in (tags or {}).items()):
                raise SNSInvalidParameter(TOPIC_TAGS_DIFFER)
        return orig_create_topic(self, name, attributes, tags)

    SNSBackend.create_topic = create_topic


# --------------------------------------------------------------------------- SNS cross-account subscriptions
#
# A subscription belongs to the account that made it (its Owner) and to the topic it is
# on, which may be another account's.  AWS (SNS API reference):
# * ListSubscriptions "Returns a list of the requester's subscriptions" - the caller's own
#   (https://docs.aws.amazon.com/goto/WebAPI/sns/ListSubscriptions);
# * ListSubscriptionsByTopic "Returns a list of the subscriptions to a specific topic" -
#   every subscription to it, whoever made it, "up to 100" a page
#   (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.md);
# * Unsubscribe: "If the subscription requires authentication for deletion, only the owner
#   of the subscription or the topic's owner can unsubscribe ... Amazon SQS queue
#   subscriptions require authentication for deletion" (errors: AuthorizationError, 403;
#   https://docs.amazonaws.cn/goto/WebAPI/sns-2010-03-31/Unsubscribe);
# * DeleteTopic "Deletes a topic and all its subscriptions"
#   (https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.md);
# * Publish delivers to every subscription of the topic.
# moto stores a subscription in the subscriber's backend and looks only in the caller's
# (or the topic owner's), so the topic owner neither lists, nor unsubscribes, nor deletes
# another account's subscription to its topic, and a Publish (the alarm actions' too)
# never reaches it.

def sns_backends_in(region):
    """Every account's SNS backend in `region` (none is created on the way)."""
    from moto.sns.models import sns_backends

    return [backend for per_account in list(sns_backends.values())
            for backend in [dict.get(per_account, region)] if backend is not None]


def topic_subscriptions(topic):
    """Every account's subscriptions to `topic`, the topic owner's first, each account's in
    the order they were made (a stable order, for NextToken paging)."""
    backends = sorted(sns_backends_in(topic.sns_backend.region_name),
                      key=lambda backend: backend.account_id != topic.account_id)
    return [sub for backend in backends for sub in list(backend.subscriptions.values())
            if sub.topic is topic]


def find_subscription(region, arn):
    """The subscription with this ARN in any account of `region`, or None."""
    return next((backend.subscriptions[arn] for backend in sns_backends_in(region)
                 if arn in backend.subscriptions), None)


def unsubscribe_refusal(caller_account, caller, sub):
    """Why `caller` (of `caller_account`) may not unsubscribe `sub`, or None.  An email or
    http(s) subscription confirmed from its endpoint (as /_emulator/confirm stands for)
    does not require authentication for deletion, so anyone may remove it (AWS then sends
    the endpoint a final cancellation message, which we do not emulate); every other one is
    taken to require it, as the API reference says of SQS subscriptions."""
    if caller_account in (sub.account_id, sub.topic.account_id) or sub.protocol in PENDING_PROTOCOLS:
        return None
    # The code and status are the documented ones; the words are SNS's usual not-authorized
    # form, which AWS does not spell out for Unsubscribe.
    return f"User: {caller} is not authorized to perform: SNS:Unsubscribe on resource: {sub.arn}"


def patch_sns_cross_account():
    """Subscriptions to a topic from every account, for the topic owner (above).
    ListSubscriptions stays the caller's own, as AWS has it."""
    from moto.sns.exceptions import SNSException
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    orig_response_unsubscribe = SNSResponse.unsubscribe

    # moto's ListSubscriptionsByTopic and Topic.publish both take the topic's subscriptions
    # from here; ListSubscriptionsByTopic keeps paging them (and patch_sns's pending view).
    def get_topic_subscriptions(self, topic):
        return topic_subscriptions(topic)

    def delete_topic_subscriptions(self, topic):
        for backend in sns_backends_in(topic.sns_backend.region_name):
            for arn, sub in list(backend.subscriptions.items()):
                if sub.topic is topic:
                    backend.subscriptions.pop(arn, None)

    def unsubscribe(self, subscription_arn):
        # Who may is checked first (response_unsubscribe).  An unknown ARN is no error, as
        # in moto: AWS answers a repeated Unsubscribe with 200 (LocalStack's AWS-recorded
        # test_unsubscribe_idempotency).
        for backend in sns_backends_in(self.region_name):
            backend.subscriptions.pop(subscription_arn, None)

    def response_unsubscribe(self):
        sub = find_subscription(self.region, self._get_param("SubscriptionArn") or "")
        if sub is not None:
            match = CREDENTIAL.search(self.headers.get("Authorization") or "")
            caller = caller_arn(self.current_account, ASSUMED_KEYS.get(match.group(1)) if match else None)
            refusal = unsubscribe_refusal(self.current_account, caller, sub)
            if refusal:
                raise SNSException("AuthorizationError", refusal)
        return orig_response_unsubscribe(self)

    SNSBackend._get_topic_subscriptions = get_topic_subscriptions
    SNSBackend.delete_topic_subscriptions = delete_topic_subscriptions
    SNSBackend.unsubscribe = unsubscribe
    SNSResponse.unsubscribe = response_unsubscribe


# --------------------------------------------------------------------------- policy evaluation
#
# AWS's side of "may this AWS service do this here": a resource-based policy (SNS topic
# policy, SQS queue policy, KMS key policy) evaluated for a request made by an AWS
# *service principal*.  Written from the IAM User Guide ("Policy evaluation logic",
# "IAM JSON policy elements: Principal / Action / Resource / Condition", "Condition
# operators", "Conditions with multiple context keys or values"), independently of the
# product whose own analysis it checks.  The outcome is one of:
ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


class UnsupportedCondition(Exception):
    pass


def service_request(service, action, resource, context):
    """A request by service principal `service`, with its request context (key -> value).
    Condition keys are case-insensitive ("Condition element"); values stay as given."""
    now = datetime.datetime.now(UTC)
    ctx = {"aws:principalservicename": [service], "aws:principalisawsservice": ["true"],
           "aws:securetransport": ["true"], "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
           "aws:epochtime": [str(int(now.timestamp()))]}
    for key, value in context.items():
        if value is not None:
            ctx[key.lower()] = [str(v) for v in (value if isinstance(value, list) else [value])]
    return {"principal": {"Service": service}, "action": action, "resource": resource, "context": ctx}


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _glob(pattern, value, ignore_case=False):
    """`*` any run of characters, `?` exactly one (Action, Resource, *Like operators)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _arn_like(pattern, value):
    # "Each of the six colon-delimited components of the ARN is checked separately and
    # each can include multi-character match wildcards (*) or single-character match
    # wildcards (?)" - ArnEquals and ArnLike behave alike.
    want, have = pattern.split(":", 5), value.split(":", 5)
    return len(want) == 6 and len(have) == 6 and all(_glob(w, h) for w, h in zip(want, have))


def _epoch(value):
    try:
        return float(value)
    except ValueError:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


COMPARATORS = {  # operator -> (policy value, request value) -> bool
    "StringEquals": lambda want, have: want == have,
    "StringEqualsIgnoreCase": lambda want, have: want.lower() == have.lower(),
    "StringLike": _glob,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "NumericEquals": lambda want, have: float(have) == float(want),
    "NumericLessThan": lambda want, have: float(have) < float(want),
    "NumericLessThanEquals": lambda want, have: float(have) <= float(want),
    "NumericGreaterThan": lambda want, have: float(have) > float(want),
    "NumericGreaterThanEquals": lambda want, have: float(have) >= float(want),
    "DateEquals": lambda want, have: _epoch(have) == _epoch(want),
    "DateLessThan": lambda want, have: _epoch(have) < _epoch(want),
    "DateLessThanEquals": lambda want, have: _epoch(have) <= _epoch(want),
    "DateGreaterThan": lambda want, have: _epoch(have) > _epoch(want),
    "DateGreaterThanEquals": lambda want, have: _epoch(have) >= _epoch(want),
    "Bool": lambda want, have: want.lower() == have.lower(),
    "BinaryEquals": lambda want, have: want == have,
    "IpAddress": lambda want, have: ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False),
}
NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
           "NotIpAddress": "IpAddress"}


def _policy_value(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def _condition(operator, key, wanted, context):
    """One operator/key pair of a Condition block."""
    qualifier = None
    if ":" in operator:  # ForAnyValue:... / ForAllValues:...
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise UnsupportedCondition(f"{qualifier}:{operator}")
    if_exists = operator.endswith("IfExists") and operator != "IfExists"
    if if_exists:
        operator = operator[:-len("IfExists")]
    wanted = [_policy_value(w) for w in _as_list(wanted)]
    values = context.get(key.lower())
    if operator == "Null":  # "true": the key must be absent; "false": present
        return any((values is None) == (w.lower() == "true") for w in wanted)
    negated = operator in NEGATED
    base = NEGATED.get(operator, operator)
    if base not in COMPARATORS:
        raise UnsupportedCondition(operator)
    if values is None:
        # "If the key that you specify in a policy condition is not present in the request
        # context, the values do not match and the condition is false.  If the policy
        # condition requires that the key is not matched, such as StringNotLike or
        # ArnNotLike, and the right key is not present, the condition is true."
        # ...IfExists: "If the key is not present, evaluate the condition element as true."
        if if_exists or qualifier == "ForAllValues":
            return True
        return negated and qualifier is None

    def one(value):
        try:
            hit = any(COMPARATORS[base](w, value) for w in wanted)  # several values: OR
        except (ValueError, TypeError):
            hit = False
        return not hit if negated else hit  # a negated operator: NOR

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _principal_matches(block, principal):
    """`principal` is a service principal ({"Service": name}).  "*" and {"AWS": "*"} match
    every principal, AWS services included (the IAM docs call them equivalent); an
    account or IAM ARN under "AWS" names IAM identities of that account, which a
    service principal is not."""
    if block == "*":
        return True
    if not isinstance(block, dict):
        return False
    for kind, ids in block.items():
        ids = _as_list(ids)
        if kind == "AWS" and "*" in ids:
            return True
        if kind in principal and principal[kind] in ids:
            return True
    return False


def _statement_applies(statement, request):
    if "Principal" in statement:
        if not _principal_matches(statement["Principal"], request["principal"]):
            return False
    elif "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], request["principal"]):
            return False
    else:
        return False  # a resource-based policy statement must name its principal
    for element, negate, ignore_case in (("Action", False, True), ("NotAction", True, True)):
        if element in statement:
            hit = any(_glob(str(p), request["action"], ignore_case) for p in _as_list(statement[element]))
            if hit == negate:
                return False
            break
    else:
        return False
    for element, negate in (("Resource", False), ("NotResource", True)):
        if element in statement:
            hit = any(_glob(str(p), request["resource"]) for p in _as_list(statement[element]))
            if hit == negate:
                return False
            break
    else:
        return False
    # Several operators, and several keys under one operator: all must hold (AND).
    for operator, block in (statement.get("Condition") or {}).items():
        for key, wanted in (block or {}).items():
            if not _condition(operator, key, wanted, request["context"]):
                return False
    return True


def evaluate_policy(policy, request):
    """ALLOW iff some Allow statement applies and no Deny does ("an explicit deny in any
    policy overrides any allows"); otherwise EXPLICIT_DENY / IMPLICIT_DENY.  A statement
    whose condition uses an operator we do not know is taken the strict way: a Deny
    applies, an Allow does not."""
    if isinstance(policy, (str, bytes)):
        try:
            policy = json.loads(policy) if policy.strip() else None
        except ValueError:
            policy = None
    if not isinstance(policy, dict):
        return IMPLICIT_DENY
    allowed = False
    for statement in _as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict):
            continue
        deny = str(statement.get("Effect")) == "Deny"
        try:
            applies = _statement_applies(statement, request)
        except UnsupportedCondition as exc:
            logging.getLogger("emulator").warning("policy uses unsupported condition %s", exc)
            applies = deny
        if applies and deny:
            return EXPLICIT_DENY
        allowed = allowed or (applies and str(statement.get("Effect")) == "Allow")
    return ALLOW if allowed else IMPLICIT_DENY


# --------------------------------------------------------------------------- KMS

# AWS managed keys that KMS creates on first use, by alias: their description.
AWS_MANAGED_KEY_DESCRIPTIONS = {
    "alias/aws/sns": "Default master key that protects my SNS topics when no other key is defined",
    "alias/aws/sqs": "Default master key that protects my SQS messages when no other key is defined",
}
KMS_LOCK = threading.RLock()


def aws_managed_key_policy(service, account, region, partition="aws"):
    """The policy KMS gives an AWS managed key (e.g. "auto-sns-1" for alias/aws/sns):
    usable only through the owning service, by principals of the account; the account
    may only read its metadata.  It cannot be changed."""
    name = service.upper()
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [
            {"Sid": f"Allow access through {name} for all principals in the account that are "
                    f"authorized to use {name}",
             "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants",
                        "kms:DescribeKey"],
             "Resource": "*",
             "Condition": {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com",
                                            "kms:CallerAccount": account}}},
            {"Sid": "Allow direct access to key metadata to the account",
             "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
             "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
             "Resource": "*"},
        ],
    }


def resolve_kms_key(account, region, key_ref):
    """A key named as KMS accepts it (key id, key ARN, alias name, alias ARN), relative to
    `account`/`region` unless it is an ARN.  None if there is no such key."""
    from moto.kms.models import kms_backends

    ref = key_ref or ""
    if ref.startswith("arn:"):
        parts = ref.split(":", 5)
        if len(parts) != 6:
            return None
        region, account, ref = parts[3], parts[4], parts[5]
        ref = ref[len("key/"):] if ref.startswith("key/") else ref
    backend = kms_backends[account][region]
    with KMS_LOCK:
        key_id = backend.get_key_id_from_alias(ref) if ref.startswith("alias/") else ref
        return backend.keys.get(key_id) if key_id else None


def kms_refusal(account, region, key_ref, service, context):
    """Why `service` may not use the key for an encrypted SNS/SQS message (it needs
    kms:GenerateDataKey and kms:Decrypt), or None if it may."""
    key = resolve_kms_key(account, region, key_ref)
    if key is None:
        return f"key {key_ref} does not exist"
    if key.key_manager == "AWS":
        # The AWS managed key's policy allows use only via the owning service on behalf
        # of the account's principals (kms:ViaService), never a service principal.
        return f"{key.arn} is an AWS managed key"
    if key.key_state != "Enabled":
        return f"{key.arn} is {key.key_state}"
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        decision = evaluate_policy(key.policy, service_request(service, action, key.arn, context))
        if decision != ALLOW:
            return f"{action} on {key.arn}: {decision}"
    return None


def patch_kms():
    """KMS creates an AWS managed key (KeyManager AWS, its "auto-<service>" policy) the first
    time a predefined alias such as alias/aws/sns is used (AWS KMS developer guide, "AWS
    managed keys"); moto answers NotFoundException for alias/aws/sns and makes its own
    reserved aliases customer keys with the default key policy.  Nobody may change an
    AWS managed key's policy."""
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import KmsBackend
    from moto.kms.responses import KmsResponse
    from moto.kms.utils import RESERVED_ALIASES
    from moto.utilities.utils import get_partition

    managed_aliases = set(RESERVED_ALIASES) | set(AWS_MANAGED_KEY_DESCRIPTIONS)

    def existing_alias(self, alias_name):
        for key in list(self.keys.values()):
            if alias_name in key.aliases:
                return key.id
        return None

    def generate_default_keys(self, alias_name):
        with KMS_LOCK:
            key_id = existing_alias(self, alias_name)
            if key_id or alias_name not in managed_aliases:
                return key_id
            service = alias_name.rsplit("/", 1)[-1]
            policy = aws_managed_key_policy(service, self.account_id, self.region_name,
                                            get_partition(self.region_name))
            key = self.create_key(json.dumps(policy, indent=2), "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT",
                                  AWS_MANAGED_KEY_DESCRIPTIONS.get(alias_name, "Default key"), None)
            key.key_manager = "AWS"
            key.key_rotation_status = True  # AWS rotates AWS managed keys every year
            self.create_alias(key.id, alias_name)
            return key.id

    def get_key_id_from_alias(self, alias_name):
        return existing_alias(self, alias_name) or generate_default_keys(self, alias_name)

    orig_put_key_policy = KmsResponse.put_key_policy

    def put_key_policy(self):
        key = self.kms_backend.keys.get(self.kms_backend.get_key_id(self._get_param("KeyId") or ""))
        if key is not None and key.key_manager == "AWS":
            # Its policy grants the account only kms:Describe*/Get*/List*/RevokeGrant.
            caller = f"arn:{get_partition(self.region)}:sts::{self.current_account}:user/moto"
            raise JsonRESTError(
                "AccessDeniedException",
                f"User: {caller} is not authorized to perform: kms:PutKeyPolicy on resource: "
                f"{key.arn} because no resource-based policy allows the kms:PutKeyPolicy action")
        return orig_put_key_policy(self)

    KmsBackend._generate_default_keys = generate_default_keys
    KmsBackend.get_key_id_from_alias = get_key_id_from_alias
    KmsResponse.put_key_policy = put_key_policy


# --------------------------------------------------------------------------- SNS delivery

def sqs_refusal(queue_arn, topic):
    """Why SNS may not deliver `topic`'s message to the queue, or None.  The queue
    policy must let sns.amazonaws.com sqs:SendMessage (SNS developer guide, "Fanout to
    Amazon SQS queues": "give permission to the Amazon SNS topic to send messages to the
    Amazon SQS queue"), and an SSE-KMS queue's key must let it use the key ("Enable
    compatibility between event sources from AWS services and encrypted queues")."""
    from moto.sqs.models import sqs_backends

    parts = (queue_arn or "").split(":")
    if len(parts) != 6:
        return f"{queue_arn} is not a queue ARN"
    region, account, name = parts[3], parts[4], parts[5]
    queue = sqs_backends[account][region].queues.get(name)
    if queue is None:
        return f"queue {queue_arn} does not exist"
    context = {"aws:SourceArn": topic.arn, "aws:SourceAccount": topic.account_id}
    decision = evaluate_policy(queue.policy, service_request("sns.amazonaws.com", "sqs:SendMessage",
                                                             queue.queue_arn, context))
    if decision != ALLOW:
        return f"queue policy of {queue_arn}: {decision}"
    key_ref = getattr(queue, "kms_master_key_id", None)
    if key_ref:
        return kms_refusal(account, region, key_ref, "sns.amazonaws.com", context)
    return None


# --------------------------------------------------------------------------- CloudWatch alarms

ALARM_HISTORY = collections.defaultdict(list)  # (account, region) -> history items
HISTORY_LOCK = threading.Lock()
_history_seq = itertools.count(1)
HISTORY_ITEM_TYPES = ["ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate",
                      "AlarmContributorAction"]
# CloudWatch's texts for a failed SNS action (AWS re:Post knowledge center, "Why didn't I
# receive an SNS notification for my CloudWatch alarm trigger?" and "How do I configure a
# CloudWatch alarm with an encrypted SNS topic?"); the not-authorized suffixes are IAM's
# ("Troubleshoot access denied error messages").
KMS_ACTION_ERROR = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."
NOT_AUTHORIZED = "Resource: {alarm} is not authorized to perform: SNS:Publish on resource: {topic}"
NO_ALLOW = " because no resource-based policy allows the SNS:Publish action"
EXPLICIT = " with an explicit deny in a resource-based policy"
TOPIC_NOT_FOUND = "Topic does not exist"  # SNS's NotFound message
_region_names = {}


def region_long_name(region):
    """The region as CloudWatch names it in notifications ("US East (N. Virginia)",
    "EU (Ireland)")."""
    if not _region_names:
        for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
            for code, info in partition.get("regions", {}).items():
                _region_names[code] = re.sub(r"^Europe \(", "EU (", info.get("description", code))
    return _region_names.get(region, region)


def as_utc(ts):
    """moto keeps naive UTC datetimes; history and messages use millisecond precision."""
    ts = ts or datetime.datetime.now(UTC)
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


def cw_time(ts):
    ts = as_utc(ts)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def alarm_type(alarm):
    return "CompositeAlarm" if getattr(alarm, "rule", None) else "MetricAlarm"


def record_history(account, region, alarm, item_type, summary, data, when=None):
    item = {"AlarmName": alarm.name, "AlarmType": alarm_type(alarm),
            "Timestamp": as_utc(when or datetime.datetime.now(UTC)), "HistoryItemType": item_type,
            "HistorySummary": summary, "HistoryData": json.dumps(data, separators=(",", ":"))}
    with HISTORY_LOCK:
        item["_seq"] = next(_history_seq)
        ALARM_HISTORY[(account, region)].append(item)
    return item


def alarm_configuration(alarm):
    """The alarm as ConfigurationUpdate history data describes it."""
    config = {
        "alarmName": alarm.name, "alarmArn": alarm.alarm_arn, "alarmDescription": alarm.description,
        "actionsEnabled": alarm.actions_enabled, "oKActions": list(alarm.ok_actions or []),
        "alarmActions": list(alarm.alarm_actions or []),
        "insufficientDataActions": list(alarm.insufficient_data_actions or []),
        "metricName": alarm.metric_name, "namespace": alarm.namespace,
        "statistic": alarm.statistic.upper() if alarm.statistic else None,
        "extendedStatistic": alarm.extended_statistic,
        "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
        "period": alarm.period, "unit": alarm.unit, "evaluationPeriods": alarm.evaluation_periods,
        "datapointsToAlarm": alarm.datapoints_to_alarm, "threshold": alarm.threshold,
        "comparisonOperator": alarm.comparison_operator, "treatMissingData": alarm.treat_missing_data,
        "evaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "alarmRule": getattr(alarm, "rule", None),
        "alarmConfigurationUpdatedTimestamp": cw_time(alarm.configuration_updated_timestamp),
    }
    return {k: v for k, v in config.items() if v is not None}


def alarm_state(value, reason, reason_data):
    state = {"stateValue": value, "stateReason": reason}
    try:
        data = json.loads(reason_data) if reason_data else None
    except ValueError:
        data = None
    if data:
        state["stateReasonData"] = data
    return state


def alarm_notification(account, region, alarm, old_state):
    """CloudWatch's SNS message (JSON) and subject for a state change."""
    body = {
        "AlarmName": alarm.name, "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cw_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
        "StateChangeTime": cw_time(alarm.state_updated_timestamp), "Region": region_long_name(region),
        "AlarmArn": alarm.alarm_arn, "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions or []), "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
    }
    if getattr(alarm, "rule", None):
        body["AlarmRule"] = alarm.rule
    else:
        trigger = {"MetricName": alarm.metric_name, "Namespace": alarm.namespace}
        if alarm.extended_statistic:
            trigger.update(StatisticType="ExtendedStatistic", ExtendedStatistic=alarm.extended_statistic)
        else:
            trigger.update(StatisticType="Statistic", Statistic=(alarm.statistic or "").upper())
        trigger.update({
            "Unit": alarm.unit, "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
            "Period": alarm.period, "EvaluationPeriods": alarm.evaluation_periods})
        if alarm.datapoints_to_alarm:
            trigger["DatapointsToAlarm"] = alarm.datapoints_to_alarm
        trigger.update({
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": float(alarm.threshold) if alarm.threshold is not None else None,
            "TreatMissingData": alarm.treat_missing_data or "missing",
            "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or ""})
        if alarm.metric_data_queries:
            trigger["Metrics"] = [{k: v for k, v in (("Id", q.id), ("Label", q.label),
                                                     ("Expression", q.expression),
                                                     ("ReturnData", q.return_data)) if v is not None}
                                  for q in alarm.metric_data_queries]
        body["Trigger"] = trigger
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_long_name(region)}'[:100]
    return json.dumps(body, separators=(",", ":")), subject


def publish_alarm(account, region, alarm, topic_arn, old_state):
    """Publish as CloudWatch would, to an SNS topic action: (error or None, message id)."""
    from moto.sns.models import sns_backends

    parts = topic_arn.split(":")
    sns = sns_backends[parts[4]][parts[3]]
    topic = sns.topics.get(topic_arn)
    if topic is None:
        return TOPIC_NOT_FOUND, None
    context = {"aws:SourceAccount": account, "aws:SourceArn": alarm.alarm_arn, "AWS:SourceOwner": account}
    decision = evaluate_policy(topic._policy_json, service_request(
        "cloudwatch.amazonaws.com", "SNS:Publish", topic_arn, context))
    if decision != ALLOW:
        text = NOT_AUTHORIZED.format(alarm=alarm.alarm_arn, topic=topic_arn)
        return text + (EXPLICIT if decision == EXPLICIT_DENY else NO_ALLOW), None
    if topic.kms_master_key_id:
        refusal = kms_refusal(parts[4], parts[3], topic.kms_master_key_id, "cloudwatch.amazonaws.com",
                              context)
        if refusal:
            logging.getLogger("emulator").info("alarm %s -> %s: %s", alarm.name, topic_arn, refusal)
            return KMS_ACTION_ERROR, None
    message, subject = alarm_notification(account, region, alarm, old_state)
    try:
        return None, sns.publish(message, arn=topic_arn, subject=subject)
    except Exception as exc:  # e.g. a FIFO topic, which wants a MessageGroupId
        return str(getattr(exc, "message", None) or exc), None


def run_alarm_actions(backend, alarm, old):
    """After a state change: the StateUpdate history item, then each SNS action of the new
    state (when actions are enabled), each leaving an Action history item."""
    account, region = backend.account_id, backend.region_name
    changed = as_utc(alarm.state_updated_timestamp)
    record_history(account, region, alarm, "StateUpdate",
                   f"Alarm updated from {old[0]} to {alarm.state_value}",
                   {"version": "1.0", "oldState": alarm_state(*old),
                    "newState": alarm_state(alarm.state_value, alarm.state_reason, alarm.state_reason_data)},
                   when=changed)
    if not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(alarm.state_value) or []
    for arn in actions:
        parts = arn.split(":")
        if len(parts) != 6 or parts[2] != "sns":
            # EC2 / Auto Scaling / Systems Manager / Lambda actions are not emulated.
            logging.getLogger("emulator").info("alarm action %s not emulated", arn)
            continue
        error, message_id = publish_alarm(account, region, alarm, arn, old[0])
        data = {"actionState": "Failed" if error else "Succeeded",
                "stateUpdateTimestamp": int(changed.timestamp() * 1000), "notificationResource": arn}
        if error:
            data.update(publishedMessage=None, error=error)
            summary = f'Failed to execute action {arn}. Received error: "{error}"'
        else:
            request_id = str(uuid.uuid4())
            data["publishedMessage"] = {
                "messageId": message_id, "sdkResponseMetadata": {"requestId": request_id},
                "sdkHttpMetadata": {"httpHeaders": {"Content-Type": "text/xml",
                                                    "x-amzn-RequestId": request_id},
                                    "httpStatusCode": 200}}
            summary = f"Successfully executed action {arn}"
        record_history(account, region, alarm, "Action", summary, data)


def _history_key(item):
    return (item["Timestamp"], item["_seq"])


def describe_alarm_history(account, region, params):
    """DescribeAlarmHistory over the recorded items; raises moto ServiceExceptions."""
    from moto.cloudwatch.exceptions import CloudWatchException, ValidationError

    class InvalidNextToken(CloudWatchException):
        code = "InvalidNextToken"

    def enum(name, value, allowed):
        if value not in allowed:
            raise ValidationError(
                f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
                f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")

    types = params.get("AlarmTypes") or ["MetricAlarm"]  # "If you omit this parameter, only
    for t in types:                                      # metric alarms are returned."
        enum("alarmTypes", t, ["CompositeAlarm", "MetricAlarm"])
    item_type = params.get("HistoryItemType")
    if item_type is not None:
        enum("historyItemType", item_type, HISTORY_ITEM_TYPES)
    scan_by = params.get("ScanBy") or "TimestampDescending"
    enum("scanBy", scan_by, ["TimestampDescending", "TimestampAscending"])
    max_records = params.get("MaxRecords")
    max_records = 100 if max_records in (None, "") else int(max_records)
    if not 1 <= max_records <= 100:
        bound = "greater than or equal to 1" if max_records < 1 else "less than or equal to 100"
        raise ValidationError(f"1 validation error detected: Value '{max_records}' at 'maxRecords' "
                              f"failed to satisfy constraint: Member must have value {bound}")
    start, end = (as_utc(parse_time(params.get(k))) if params.get(k) not in (None, "") else None
                  for k in ("StartDate", "EndDate"))
    anchor = None
    if params.get("NextToken"):
        try:
            token = json.loads(base64.urlsafe_b64decode(params["NextToken"].encode()))
            anchor = (datetime.datetime.fromisoformat(token["t"]), int(token["s"]))
        except Exception:
            raise InvalidNextToken("The next token specified is invalid.")

    with HISTORY_LOCK:
        items = [i for i in ALARM_HISTORY.get((account, region), [])
                 if (not params.get("AlarmName") or i["AlarmName"] == params["AlarmName"])
                 and i["AlarmType"] in types
                 and (item_type is None or i["HistoryItemType"] == item_type)
                 and (start is None or i["Timestamp"] >= start)
                 and (end is None or i["Timestamp"] <= end)]
    descending = scan_by == "TimestampDescending"
    items.sort(key=_history_key, reverse=descending)
    if anchor is not None:  # resume after the last item of the previous page
        items = [i for i in items if (_history_key(i) < anchor if descending else _history_key(i) > anchor)]
    page = items[:max_records]
    result = {"AlarmHistoryItems": [{k: v for k, v in i.items() if not k.startswith("_")} for i in page]}
    if len(items) > max_records:
        last = page[-1]
        result["NextToken"] = base64.urlsafe_b64encode(json.dumps(
            {"t": last["Timestamp"].isoformat(), "s": last["_seq"]}).encode()).decode()
    return result


def parse_time(value):
    """A timestamp parameter as moto hands it over: datetime, epoch seconds or ISO-8601."""
    if isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError):
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def keep_alarm_tags(tagger, arn, tags):
    """PutMetricAlarm on an existing alarm leaves its tags as they were.  The API reference
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html),
    of `Tags`: "If you are using this operation to update an existing alarm, any tags you
    specify in this parameter are ignored.  To change the tags of an existing alarm, use
    TagResource or UntagResource."  moto merges them into the alarm's tags.  `tags` is what
    moto's tagger held before the update (None: the alarm had none)."""
    if tags is None:
        tagger.delete_all_tags_for_resource(arn)
    else:
        tagger.tags[arn] = tags


def patch_cloudwatch():
    """Alarm state, history and actions as CloudWatch has them (see the module docstring).
    Hooked at moto's backend, so it runs whichever protocol the call arrived in.  Tags: an
    update keeps the alarm's tags (keep_alarm_tags); a created alarm has exactly the Tags
    it was created with - moto's tagger keeps a deleted alarm's tags under its ARN, which a
    new alarm of the same name would inherit, so DeleteAlarms drops them."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    orig_put = CloudWatchBackend.put_metric_alarm
    orig_delete = CloudWatchBackend.delete_alarms
    orig_set_state = CloudWatchBackend.set_alarm_state

    def put_metric_alarm(self, *args, **kwargs):
        name = kwargs.get("name", args[0] if args else None)
        old = self.alarms.get(name)
        old_config = alarm_configuration(old) if old is not None else None
        old_tags = copy.deepcopy(self.tagger.tags.get(old.alarm_arn)) if old is not None else None
        alarm = orig_put(self, *args, **kwargs)
        if old is not None:
            keep_alarm_tags(self.tagger, alarm.alarm_arn, old_tags)
        if old is None:
            # "When this operation creates an alarm, the alarm state is immediately set to
            # INSUFFICIENT_DATA." (PutMetricAlarm)
            alarm.state_value, alarm.state_reason = "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"
            alarm.state_reason_data = None
            record_history(self.account_id, self.region_name, alarm, "ConfigurationUpdate",
                           f'Alarm "{alarm.name}" created',
                           {"version": "1.0", "type": "Create", "createdAlarm": alarm_configuration(alarm)})
        else:
            # "When you update an existing alarm, its state is left unchanged, but the update
            # completely overwrites the previous configuration of the alarm."
            for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
                setattr(alarm, attr, getattr(old, attr))
            new_config = alarm_configuration(alarm)
            record_history(self.account_id, self.region_name, alarm, "ConfigurationUpdate",
                           f'Alarm "{alarm.name}" updated',
                           {"version": "1.0", "type": "Update", "updatedAlarm": new_config,
                            "originalUpdatedFields": {k: v for k, v in old_config.items()
                                                      if new_config.get(k) != v}})
        return alarm

    def delete_alarms(self, alarm_names):
        doomed = [self.alarms[n] for n in alarm_names if n in self.alarms]
        orig_delete(self, alarm_names)
        for alarm in doomed:  # the history outlives the alarm; its tags do not
            self.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
            record_history(self.account_id, self.region_name, alarm, "ConfigurationUpdate",
                           f'Alarm "{alarm.name}" deleted',
                           {"version": "1.0", "type": "Delete", "deletedAlarm": alarm_configuration(alarm)})

    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
        alarm = self.alarms.get(alarm_name)
        old = (alarm.state_value, alarm.state_reason, alarm.state_reason_data) if alarm else None
        orig_set_state(self, alarm_name, reason, reason_data, state_value)  # validates
        # "When the updated state differs from the previous value, the action configured
        # for the appropriate state is invoked." (SetAlarmState)
        if old is not None and old[0] != state_value:
            run_alarm_actions(self, self.alarms[alarm_name], old)

    def response_describe_alarm_history(self):
        params = {k: self._get_param(k) for k in (
            "AlarmName", "AlarmTypes", "HistoryItemType", "StartDate", "EndDate", "MaxRecords",
            "NextToken", "ScanBy")}
        backend = self.cloudwatch_backend
        return ActionResult(describe_alarm_history(backend.account_id, backend.region_name, params))

    CloudWatchBackend.put_metric_alarm = put_metric_alarm
    CloudWatchBackend.delete_alarms = delete_alarms
    CloudWatchBackend.set_alarm_state = set_alarm_state
    CloudWatchResponse.describe_alarm_history = response_describe_alarm_history


# --------------------------------------------------------------------------- EventBridge
#
# TestEventPattern (EventBridge API reference,
# https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html):
# EventPattern and Event are JSON strings; the reply is {"Result": true|false}, "Indicates
# whether the event matches the event pattern".  moto's handler is `pass`: no Result at all.
# We answer with moto's own matcher (EventPattern.load + matches_event: written apart from
# the product's, like filter_patterns.py for TestMetricFilter).  It handles what cis-fix's
# patterns use: nested fields (detail.requestParameters.name), `$or` at any depth,
# {"prefix": ...} and {"exists": false} (absent field only), as the user guide's "Content
# filtering" page has them (tested in test_test_event_pattern).
# Refusals:
# * a bad pattern: InvalidEventPatternException (400; with InternalException the only error
#   the API reference lists for TestEventPattern) - invalid JSON, not a JSON object, a value
#   neither object nor array, an empty array (moto's parser), and, which moto lets match
#   everything, a filter object that is not one documented comparison operator
#   (PATTERN_OPERATORS) or an `exists` that is not true/false.  The Reason words after
#   "Event pattern is not valid. Reason: " are ours where moto has none;
# * a bad event: ValidationException (400, a common error: "The input fails to satisfy the
#   constraints specified by an AWS service"), "Parameter Event is not valid." - chosen
#   because it is a fault of the Event parameter, not of the pattern, and it is what AWS is
#   reported to answer (e.g. for an event without id; LocalStack's provider, checked against
#   AWS, answers the same).  The Event "must follow the format specified in AWS Events, and
#   the following fields are mandatory: id, account, source, time, region, resources,
#   detail-type" - but AWS's own example (AWS CLI reference, events test-event-pattern:
#   an event of id, source, detail-type, account, region and time whose "output would be
#   true") has no `resources`, and LocalStack notes "the documentation says that `resources`
#   is mandatory, but it is not in reality".  So `resources` may be missing; the other six
#   may not, and the event must be a JSON object.
EVENT_MANDATORY_FIELDS = ("id", "account", "source", "time", "region", "detail-type")
EVENT_NOT_VALID = "Parameter Event is not valid."
# The comparison operators of the user guide's "Content filtering in Amazon EventBridge
# event patterns" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
PATTERN_OPERATORS = {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but",
                     "numeric", "exists", "cidr"}


def event_pattern_refusal(node):
    """Why a parsed event pattern is not valid (the Reason of InvalidEventPatternException),
    or None.  Checks what moto's parser leaves out: the filter objects in a value list."""
    if not isinstance(node, dict):
        return "Pattern must be a JSON object"
    for key, value in node.items():
        if key == "$or":
            if not isinstance(value, list) or not value:
                return "$or must be a non-empty array"
            for branch in value:
                reason = event_pattern_refusal(branch)
                if reason:
                    return reason
        elif isinstance(value, dict):
            reason = event_pattern_refusal(value)
            if reason:
                return reason
        elif isinstance(value, list):
            for f in value:
                if isinstance(f, dict):
                    if len(f) != 1 or next(iter(f)) not in PATTERN_OPERATORS:
                        return f"Unrecognized match type {', '.join(f) or '{}'}"
                    if "exists" in f and not isinstance(f["exists"], bool):
                        return "exists match pattern must be either true or false."
        # else: moto's parser refuses it ("must be an object or an array")
    return None


def patch_events_test_event_pattern():
    """moto's TestEventPattern replies nothing; AWS replies {"Result": bool} (above)."""
    from moto.events.exceptions import InvalidEventPatternException, ValidationException
    from moto.events.models import EventPattern
    from moto.events.responses import EventsHandler

    def test_event_pattern(self):
        raw_pattern, raw_event = self._get_param("EventPattern"), self._get_param("Event")
        if not isinstance(raw_pattern, str):
            raise InvalidEventPatternException(reason="Invalid JSON")
        try:
            parsed = json.loads(raw_pattern)
        except ValueError:
            raise InvalidEventPatternException(reason="Invalid JSON")
        reason = event_pattern_refusal(parsed)
        if reason:
            raise InvalidEventPatternException(reason=reason)
        pattern = EventPattern.load(raw_pattern)  # moto's own checks (empty arrays ...)
        try:
            event = json.loads(raw_event) if isinstance(raw_event, str) else None
        except ValueError:
            event = None
        if not isinstance(event, dict) or any(f not in event for f in EVENT_MANDATORY_FIELDS):
            raise ValidationException(EVENT_NOT_VALID)
        return json.dumps({"Result": bool(pattern.matches_event(event))}), self.response_headers

    EventsHandler.test_event_pattern = test_event_pattern


def patch_events_put_rule():
    """PutRule of an existing rule leaves its tags as they were.  The API reference
    (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html): "If you
    are updating an existing rule, the tags are not changed."  (Tags: "The list of key-value
    pairs to associate with the rule.")  moto merges the given Tags into the rule's.  A new
    rule still gets the Tags given; moto's DeleteRule drops a rule's tags, so a new rule of
    a deleted one's name starts with its own.  TagResource / UntagResource still change them."""
    import inspect

    from moto.events.models import EventsBackend

    orig_put_rule = EventsBackend.put_rule
    signature = inspect.signature(orig_put_rule)

    def put_rule(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs).arguments
        bus = self.event_buses.get(self._normalize_event_bus_arn(bound.get("event_bus_arn")))
        old = bus.rules.get(bound["name"]) if bus is not None else None
        old_tags = copy.deepcopy(self.tagger.tags.get(old.arn)) if old is not None else None
        rule = orig_put_rule(self, *args, **kwargs)
        if old is not None:
            keep_alarm_tags(self.tagger, rule.arn, old_tags)  # restores any resource's entry
        return rule

    EventsBackend.put_rule = put_rule


# --------------------------------------------------------------------------- Organizations
#
# moto keeps an organization in its management account's backend and maps each member to
# it (organizations_backends.master_accounts), so organizations are per management account
# and tests stay apart by using their own account ids.  What moto gets wrong:
# * it answers every operation from any account: a member's (or an outsider's) ListAccounts
#   is an empty list.  AWS: "You can only call this operation from the management account
#   or a member account that is a delegated administrator" (ListAccounts and the other
#   List*/Describe* of the organization); a member gets AccessDeniedException, an account
#   in no organization AWSOrganizationsNotInUseException.  Only DescribeOrganization (and
#   CreateOrganization) may be called from any account.
# * ListAccounts pages by 100 and ignores the modelled MaxResults range (1-20); AWS pages
#   by at most 20 and refuses other values (InvalidInputException), and a bad NextToken too.
# * it has no way to give a member account a chosen id: the control endpoint
#   /_emulator/organization does (AWS picks ids; tests need their own, distinct ones).

ORG_LOCK = threading.RLock()
ORG_ACCESS_DENIED = "You don't have permissions to access this resource."
# Operations any account may call (the rest: the management account, or for reads a
# delegated administrator).
ORG_ANY_ACCOUNT = {"create_organization", "describe_organization"}
ORG_READS = {"describe_account", "describe_create_account_status", "describe_organizational_unit",
             "describe_policy", "list_accounts", "list_accounts_for_parent",
             "list_aws_service_access_for_organization", "list_children", "list_create_account_status",
             "list_delegated_administrators", "list_delegated_services_for_account",
             "list_organizational_units_for_parent", "list_parents", "list_policies",
             "list_policies_for_target", "list_roots", "list_tags_for_resource",
             "list_targets_for_policy"}
LIST_ACCOUNTS_MAX = 20  # ListAccounts MaxResults: "Valid Range: Minimum value of 1. Maximum value of 20."
ORGANIZATION_ROLE = "OrganizationAccountAccessRole"  # what CreateAccount creates by default
_forced_account_id = threading.local()


def organization_role(account, partition="aws"):
    """(management account id, "management" | "delegated" | "member"), or (None, None) for
    an account in no organization."""
    from moto.organizations.models import organizations_backends

    if organizations_backends[account][partition].org is not None:
        return account, "management"
    owner = organizations_backends.master_accounts.get(account)
    if owner is None:
        return None, None
    management = organizations_backends[owner[0]][owner[1]]
    if any(admin.account.id == account for admin in list(management.admins)):
        return owner[0], "delegated"
    return owner[0], "member"


def organization_account(account, partition="aws"):
    """The organization's record (moto FakeAccount) of a member account, or None."""
    from moto.organizations.models import organizations_backends

    management, role = organization_role(account, partition)
    if role is None:
        return None
    return next((a for a in list(organizations_backends[management][partition].accounts)
                 if a.id == account), None)


def _org_error(code, message, reason=None):
    from moto.organizations.exceptions import OrganizationsClientError

    error = OrganizationsClientError(code, message)
    if reason:
        error.Reason = reason  # InvalidInputException's modelled member
    return error


def patch_organizations():
    """Who may call what, and ListAccounts paging, as AWS Organizations has them (above)."""
    from moto.organizations import utils as org_utils
    from moto.organizations.models import organizations_backends
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException
    from moto.organizations.responses import OrganizationsResponse

    def backend(self):
        # A delegated administrator reads the organization of its management account.
        account = getattr(self, "_emulator_org_account", None) or self.current_account
        return organizations_backends[account][self.partition]

    def guarded(name, method):
        def call(self):
            self._emulator_org_account = None
            if name not in ORG_ANY_ACCOUNT:
                management, role = organization_role(self.current_account, self.partition)
                if role is None:
                    raise AWSOrganizationsNotInUseException
                if role == "delegated" and name in ORG_READS:
                    self._emulator_org_account = management
                elif role != "management":
                    raise _org_error("AccessDeniedException", ORG_ACCESS_DENIED)
            return method(self)
        call.__name__ = name
        return call

    def list_accounts(self):
        params = self.request_params
        size = params.get("MaxResults")
        if size is None:
            size = LIST_ACCOUNTS_MAX
        elif not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= LIST_ACCOUNTS_MAX:
            low = isinstance(size, int) and size < 1
            raise _org_error(
                "InvalidInputException",
                "You provided a value that is less than the minimum allowed value." if low
                else "You provided a value that exceeds the maximum allowed value.",
                "MIN_VALUE_EXCEEDED" if low else "MAX_VALUE_EXCEEDED")
        org = self.organizations_backend.org
        accounts = sorted(list(self.organizations_backend.accounts), key=lambda a: (a.create_time, a.id))
        start = 0
        if params.get("NextToken") is not None:
            try:
                token = json.loads(base64.urlsafe_b64decode(str(params["NextToken"]).encode()))
                if token["org"] != org.id:
                    raise ValueError("another organization's token")
                start = int(token["start"])
            except Exception:
                raise _org_error("InvalidInputException",
                                 "You specified an invalid value for the nextToken request parameter.",
                                 "INVALID_NEXT_TOKEN")
        page = accounts[start:start + size]
        out = {"Accounts": [a.describe() for a in page]}
        if start + size < len(accounts):
            out["NextToken"] = base64.urlsafe_b64encode(
                json.dumps({"org": org.id, "start": start + size}).encode()).decode()
        return json.dumps(out)

    OrganizationsResponse.list_accounts = list_accounts
    for name in [n for n, v in vars(OrganizationsResponse).items()
                 if callable(v) and not n.startswith("_") and n != "request_params"]:
        setattr(OrganizationsResponse, name, guarded(name, getattr(OrganizationsResponse, name)))
    OrganizationsResponse.organizations_backend = property(backend)

    # CreateAccount takes the id a control request asks for (AWS would pick one).
    random_account_id = org_utils.make_random_account_id

    def make_random_account_id():
        return getattr(_forced_account_id, "value", None) or random_account_id()

    org_utils.make_random_account_id = make_random_account_id


def _member_spec(member):
    """A member of a control request, checked: (spec dict, error or None)."""
    member = dict(member) if isinstance(member, dict) else {"id": member}
    member["id"] = account = str(member.get("id") or "")
    if not re.fullmatch(r"\d{12}", account):
        return member, f"account id {account!r} is not 12 digits"
    member.setdefault("joined_method", "CREATED")
    member.setdefault("status", "ACTIVE")
    if member["joined_method"] not in ("CREATED", "INVITED") or member["status"] not in ("ACTIVE", "SUSPENDED"):
        return member, "joined_method is CREATED or INVITED; status ACTIVE or SUSPENDED"
    # CreateAccount creates OrganizationAccountAccessRole (or RoleName), trusting the
    # management account; an invited account has no such role unless someone made it.  An
    # object {"name", "external_id" | "trust_policy"} makes the role with another trust
    # policy, as an administrator of the member would.
    role = member.get("role", ORGANIZATION_ROLE if member["joined_method"] == "CREATED" else None)
    if isinstance(role, dict):
        member["custom_role"], role = role, None
    elif not isinstance(role, (bool, str, type(None))):
        return member, "role is true, false, a role name or {name, external_id, trust_policy}"
    member["role"] = ORGANIZATION_ROLE if role is True else (role or None)
    return member, None


def create_organization(spec):
    """The control endpoint's work: an organization of `management` with the listed member
    accounts, added to it if it exists.  -> (status, reply).  Nothing changes unless every
    account can join."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends

    management = str(spec.get("management") or "")
    if not re.fullmatch(r"\d{12}", management):
        return 400, {"error": "management must be a 12-digit account id"}
    feature_set = spec.get("feature_set") or "ALL"
    if feature_set not in ("ALL", "CONSOLIDATED_BILLING"):
        return 400, {"error": "feature_set is ALL or CONSOLIDATED_BILLING"}
    if not isinstance(spec.get("accounts") or [], list):
        return 400, {"error": "accounts must be a list"}
    members = []
    for member in spec.get("accounts") or []:
        member, error = _member_spec(member)
        if error:
            return 400, {"error": error}
        members.append(member)
    ids = [m["id"] for m in members]
    if management in ids or len(set(ids)) != len(ids):
        return 400, {"error": "an account is listed twice"}
    with ORG_LOCK:
        owner, role = organization_role(management)
        if role not in (None, "management"):
            return 409, {"error": f"{management} is a member of the organization of {owner}"}
        for account in ids:
            if organization_role(account)[1] is not None:
                return 409, {"error": f"{account} is already in an organization"}
        backend = organizations_backends[management]["aws"]
        if backend.org is None:
            backend.create_organization(region="us-east-1", FeatureSet=feature_set)
            master = backend.get_account_by_id(management)
            master.name = spec.get("management_name") or master.name
            master.email = spec.get("management_email") or master.email
            backend.org.master_account_email = master.email
        elif spec.get("feature_set") and backend.org.feature_set != feature_set:
            return 409, {"error": f"the organization of {management} has feature set "
                                  f"{backend.org.feature_set}"}
        last = max(a.create_time for a in backend.accounts)
        for member in members:
            account, role_name = member["id"], member["role"]
            iam = iam_backends[account]["aws"]
            had_role = any(r.name == (role_name or ORGANIZATION_ROLE) for r in list(iam.roles.values()))
            _forced_account_id.value = account
            try:
                backend.create_account(AccountName=member.get("name") or f"account-{account}",
                                       Email=member.get("email") or f"aws+{account}@example.com",
                                       RoleName=role_name or ORGANIZATION_ROLE)
            finally:
                _forced_account_id.value = None
            created = backend.get_account_by_id(account)
            if role_name is None and not had_role:
                iam.delete_role(ORGANIZATION_ROLE)
            custom = member.get("custom_role")
            if custom is not None:
                trust = custom.get("trust_policy") or {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
                    "Action": "sts:AssumeRole"}]}
                if custom.get("external_id") is not None and not custom.get("trust_policy"):
                    trust["Statement"][0]["Condition"] = {
                        "StringEquals": {"sts:ExternalId": str(custom["external_id"])}}
                name = custom.get("name") or ORGANIZATION_ROLE
                if any(r.name == name for r in list(iam.roles.values())):
                    iam.update_assume_role_policy(name, json.dumps(trust))
                else:
                    iam.create_role(role_name=name, assume_role_policy_document=json.dumps(trust), path="/",
                                    permissions_boundary=None, description="", tags=[],
                                    max_session_duration="3600")
            created.joined_method = member["joined_method"]
            if member["status"] == "SUSPENDED":
                created.status = created.state = "SUSPENDED"
            # Distinct join times keep ListAccounts' order (by join time) the order given.
            last = created.create_time = max(created.create_time, last + datetime.timedelta(milliseconds=1))
        return 200, {"organization": backend.org.describe()["Organization"],
                     "accounts": [a.describe()
                                  for a in sorted(backend.accounts, key=lambda a: a.create_time)]}


# --------------------------------------------------------------------------- CloudTrail organization trails
#
# AWS (CloudTrail User Guide, "Creating a trail for an organization"; API reference): only
# the management account of an organization with all features creates an organization
# trail (CreateTrail/UpdateTrail with IsOrganizationTrail); "a trail with the name that you
# give it is created in every AWS account that belongs to your organization.  Users with
# CloudTrail permissions in member accounts can see this trail" - DescribeTrails lists it,
# with the management account's trail ARN, when includeShadowTrails is true (the default;
# "If you do not include shadow trails, organization trails in a member account ... will not
# be returned") - but cannot change or delete it.  GetTrailStatus: "If the trail is an
# organization trail and you are a member account in the organization in Organizations, you
# must provide the full ARN of that trail, and not just the name" - by ARN a member reads its
# status; by name it is TrailNotFoundException ("Unknown trail: arn:aws:cloudtrail:<region>:
# <member>:trail/<name> for the user: <member>").  Nothing documents that a member may read
# the trail's selectors or settings: GetEventSelectors/GetTrail/... by its ARN from a member
# are refused (TrailNotFoundException), the strict reading.  An ARN of another account
# otherwise is CloudTrailARNInvalidException ("AccountID in ARN is wrong, you can only access
# resources with AccountID <caller>.", as ListTags is reported to answer).
# moto knows none of this (a member sees nothing; anyone may create an organization trail),
# deletes a missing trail silently (AWS: TrailNotFoundException), and finds a shadow trail of
# another Region by name (AWS: only by ARN).

CT_ERROR = "com.amazonaws.cloudtrail.v20131101#"  # how CloudTrail's __type spells its errors
TRAIL_ARN = re.compile(r"^arn:[^:]+:cloudtrail:([^:]*):(\d{12}):trail/(.+)$")


def _cloudtrail_error(code, message):
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(CT_ERROR + code, message)


def _unknown_trail(backend, name_or_arn):
    arn = name_or_arn if name_or_arn.startswith("arn:") else (
        f"arn:{backend.partition}:cloudtrail:{backend.region_name}:{backend.account_id}:trail/{name_or_arn}")
    return _cloudtrail_error("TrailNotFoundException",
                             f"Unknown trail: {arn} for the user: {backend.account_id}")


def _arn_invalid(backend):
    return _cloudtrail_error(
        "CloudTrailARNInvalidException",
        f"AccountID in ARN is wrong, you can only access resources with AccountID {backend.account_id}.")


def organization_trails_seen_by(account, region, partition="aws"):
    """The organization trails a member account sees in `region` (none for the management
    account, which sees its own trails as moto lists them)."""
    from moto.cloudtrail.models import cloudtrail_backends

    management, role = organization_role(account, partition)
    if role in (None, "management"):
        return []
    return [t for backend in list(cloudtrail_backends[management].values())
            for t in list(backend.trails.values())
            if t.is_org_trail and (t.is_multi_region or t.region_name == region)]


def patch_cloudtrail():
    from moto.cloudtrail.exceptions import TrailNameTooShort, TrailNotFoundException
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.cloudtrail.responses import CloudTrailResponse

    def require_management(backend):
        management, role = organization_role(backend.account_id, backend.partition)
        if role is None:
            raise _cloudtrail_error(
                "OrganizationsNotInUseException",
                "This operation can be performed only by an account that is a member of an "
                "organization in AWS Organizations.")
        if role != "management":
            raise _cloudtrail_error(
                "NotOrganizationMasterAccountException",
                f"The account {backend.account_id} is not the management account for an organization "
                "in AWS Organizations; only the management account can create or update an "
                "organization trail.")
        from moto.organizations.models import organizations_backends
        if organizations_backends[management][backend.partition].org.feature_set != "ALL":
            raise _cloudtrail_error(
                "OrganizationNotInAllFeaturesModeException",
                "All features must be enabled in AWS Organizations to support creating an "
                "organization trail.")

    orig_create = CloudTrailBackend.create_trail
    orig_update = CloudTrailBackend.update_trail
    orig_describe = CloudTrailBackend.describe_trails
    orig_get = CloudTrailBackend.get_trail
    orig_list_tags = CloudTrailBackend.list_tags

    def create_trail(self, name, bucket_name, s3_key_prefix, sns_topic_name, is_global, is_multi_region,
                     log_validation, is_org_trail, *rest):
        if is_org_trail:
            require_management(self)
        return orig_create(self, name, bucket_name, s3_key_prefix, sns_topic_name, is_global,
                           is_multi_region, log_validation, is_org_trail, *rest)

    def update_trail(self, name, *args, **kwargs):
        if kwargs.get("is_organization_trail"):
            require_management(self)
        return orig_update(self, name, *args, **kwargs)

    def describe_trails(self, include_shadow_trails):
        trails = list(orig_describe(self, include_shadow_trails))
        if include_shadow_trails:
            trails += organization_trails_seen_by(self.account_id, self.region_name, self.partition)
        return trails

    def foreign(self, arn):
        """A trail ARN of another account: refused, as TrailNotFoundException for the organization
        trail a member sees, else CloudTrailARNInvalidException."""
        m = TRAIL_ARN.match(arn)
        if m and m.group(2) != self.account_id:
            seen = organization_trails_seen_by(self.account_id, self.region_name, self.partition)
            if any(t.arn == arn for t in seen):
                return _unknown_trail(self, arn)
            return _arn_invalid(self)
        return None

    def get_trail(self, name_or_arn):
        if name_or_arn and name_or_arn.startswith("arn:"):
            error = foreign(self, name_or_arn)
            if error:
                raise error
        try:
            return orig_get(self, name_or_arn)
        except TrailNotFoundException:
            raise _unknown_trail(self, name_or_arn)

    def get_trail_status(self, name):
        if len(name) < 3:
            raise TrailNameTooShort(actual_length=len(name))
        if name.startswith("arn:"):
            # By ARN: the shadow copies of this account's multi-Region trails, and the
            # organization trail a member sees (documented above).
            trail = next((t for t in self.describe_trails(include_shadow_trails=True) if t.arn == name), None)
            if trail is None:
                raise foreign(self, name) or _unknown_trail(self, name)
        else:
            # By name: a trail of this account and Region only.
            trail = self.trails.get(name)
            if trail is None:
                raise _unknown_trail(self, name)
        return trail.status

    def delete_trail(self, name):
        trail = self.get_trail(name)
        del self.trails[trail.trail_name]

    def list_tags(self, resource_id_list):
        for arn in resource_id_list:
            error = foreign(self, arn)
            if error:
                raise _arn_invalid(self)
        return orig_list_tags(self, resource_id_list)

    # DescribeTrails' trailNameList (moto ignores it): "If one or more trail names are
    # specified, information is returned only if the names match the names of trails
    # belonging only to the current Region and current account.  To return information
    # about a trail in another Region, you must specify its trail ARN."
    def response_describe_trails(self):
        shadows = self._get_bool_param("includeShadowTrails", True)
        wanted = self._get_param("trailNameList") or []
        backend = self.cloudtrail_backend
        trails = backend.describe_trails(shadows)
        if wanted:
            trails = [t for t in trails if t.arn in wanted or (
                t.trail_name in wanted and t.account_id == backend.account_id
                and t.region_name == backend.region_name)]
        return json.dumps({"trailList": [t.description(include_region=True) for t in trails]})

    CloudTrailResponse.describe_trails = response_describe_trails
    CloudTrailBackend.create_trail = create_trail
    CloudTrailBackend.update_trail = update_trail
    CloudTrailBackend.describe_trails = describe_trails
    CloudTrailBackend.get_trail = get_trail
    CloudTrailBackend.get_trail_status = get_trail_status
    CloudTrailBackend.delete_trail = delete_trail
    CloudTrailBackend.list_tags = list_tags


# --------------------------------------------------------------------------- STS AssumeRole
#
# moto lets anyone assume any role ARN, existing or not, trusted or not.  AWS (IAM User
# Guide, "Granting a user permissions to switch roles", "IAM JSON policy elements:
# Principal"; STS API reference, AssumeRole): the role must exist and its trust policy must
# allow the caller (an account principal "arn:aws:iam::<acct>:root" or "<acct>" trusts that
# account's identities; a role ARN trusts that role's sessions), including its conditions
# such as sts:ExternalId; otherwise AccessDenied (403): "User: <caller> is not authorized to
# perform: sts:AssumeRole on resource: <role arn>" - the same words whatever the reason.
# DurationSeconds may not exceed the role's MaxSessionDuration, nor an hour when a role
# session assumes a role (role chaining).  A suspended (closed) member account cannot be
# entered.  Temporary credentials (ASIA... access key ids) are honoured only with their
# session token and until they expire (InvalidClientTokenId / ExpiredToken otherwise).  The
# check runs in the middleware (`assume_role_refusal`), before moto.

ASSUMED_KEYS = {}  # temporary access key id -> moto AssumedRole, recorded by patch_sts
ROLE_ARN = re.compile(r"^arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def patch_sts():
    from moto.sts.models import STSBackend

    orig_assume_role = STSBackend.assume_role

    def assume_role(self, *args, **kwargs):
        role = orig_assume_role(self, *args, **kwargs)
        ASSUMED_KEYS[role.access_key_id] = role
        return role

    # moto names a caller it has no IAM user for "arn:aws:sts::<account>:user/moto"; an IAM
    # user's ARN is arn:aws:iam::<account>:user/<name> (IAM User Guide, "IAM identifiers").
    orig_identity = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id, region):
        user_id, arn, account = orig_identity(self, access_key_id, region)
        return user_id, re.sub(r"^arn:([^:]+):sts::(\d{12}):user/", r"arn:\1:iam::\2:user/", arn), account

    STSBackend.assume_role = assume_role
    STSBackend.get_caller_identity = get_caller_identity


def caller_arn(account, assumed):
    """The calling identity as AWS names it in errors: a test's 12-digit key is an IAM user of
    that account (named moto, as moto's GetCallerIdentity has it); temporary credentials are
    the assumed-role session."""
    return assumed.arn if assumed is not None else f"arn:aws:iam::{account}:user/moto"


def _aws_principal_matches(block, account, principal_arn):
    if block == "*":
        return True
    if not isinstance(block, dict):
        return False
    for name in _as_list(block.get("AWS") or []):
        name = str(name)
        if name in ("*", account, principal_arn):
            return True
        if re.fullmatch(rf"arn:[^:]+:iam::{account}:root", name):
            return True
    return False


def evaluate_trust_policy(policy, account, principal_arn, context):
    """May `principal_arn` (of `account`) sts:AssumeRole by this trust policy?  ALLOW,
    EXPLICIT_DENY or IMPLICIT_DENY, as `evaluate_policy` decides (a trust policy names no
    Resource: the role itself)."""
    if isinstance(policy, (str, bytes)):
        try:
            policy = json.loads(policy)
        except ValueError:
            policy = None
    if not isinstance(policy, dict):
        return IMPLICIT_DENY
    allowed = False
    for statement in _as_list(policy.get("Statement") or []):
        if not isinstance(statement, dict):
            continue
        deny = str(statement.get("Effect")) == "Deny"
        try:
            if "Principal" in statement:
                applies = _aws_principal_matches(statement["Principal"], account, principal_arn)
            elif "NotPrincipal" in statement:
                applies = not _aws_principal_matches(statement["NotPrincipal"], account, principal_arn)
            else:
                applies = False
            if "Action" in statement:
                applies = applies and any(_glob(str(a), "sts:AssumeRole", True)
                                          for a in _as_list(statement["Action"]))
            elif "NotAction" in statement:
                applies = applies and not any(_glob(str(a), "sts:AssumeRole", True)
                                              for a in _as_list(statement["NotAction"]))
            else:
                applies = False
            for operator, conditions in (statement.get("Condition") or {}).items():
                for key, wanted in (conditions or {}).items():
                    applies = applies and _condition(operator, key, wanted, context)
        except UnsupportedCondition as exc:
            logging.getLogger("emulator").warning("trust policy uses unsupported condition %s", exc)
            applies = deny
        if applies and deny:
            return EXPLICIT_DENY
        allowed = allowed or (applies and str(statement.get("Effect")) == "Allow")
    return ALLOW if allowed else IMPLICIT_DENY


def assume_role_refusal(account, assumed, form):
    """Why AWS would refuse this AssumeRole (a query-protocol error reply), or None to let
    moto answer it."""
    from moto.iam.models import iam_backends

    role_arn = (form.get("RoleArn") or [""])[0]
    m = ROLE_ARN.match(role_arn)
    if not m:
        return None  # moto validates what is not a role ARN
    partition, target, _ = m.groups()
    denied = error_reply("query", 403, "AccessDenied",
                         f"User: {caller_arn(account, assumed)} is not authorized to perform: "
                         f"sts:AssumeRole on resource: {role_arn}")
    member = organization_account(target, partition)
    if member is not None and member.status != "ACTIVE":
        return denied
    role = next((r for r in list(iam_backends[target][partition].roles.values()) if r.arn == role_arn), None)
    if role is None:
        return denied
    principal_arn = assumed.role_arn if assumed is not None else caller_arn(account, None)
    now = datetime.datetime.now(UTC)
    context = {"aws:principalaccount": [account], "aws:principalarn": [principal_arn],
               "aws:securetransport": ["true"], "aws:currenttime": [now.strftime("%Y-%m-%dT%H:%M:%SZ")],
               "aws:epochtime": [str(int(now.timestamp()))]}
    external_id = (form.get("ExternalId") or [None])[0]
    if external_id is not None:
        context["sts:externalid"] = [external_id]
    management, _ = organization_role(account, partition)
    if management is not None:
        from moto.organizations.models import organizations_backends
        context["aws:principalorgid"] = [organizations_backends[management][partition].org.id]
    if evaluate_trust_policy(role.assume_role_policy_document, account, principal_arn, context) != ALLOW:
        return denied
    try:
        duration = int((form.get("DurationSeconds") or ["3600"])[0])
    except ValueError:
        return None
    if assumed is not None and duration > 3600:
        return error_reply("query", 400, "ValidationError", "The requested DurationSeconds exceeds the "
                           "1 hour session limit for roles assumed by role chaining.")
    if duration > int(role.max_session_duration or 3600):
        return error_reply("query", 400, "ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return None


def credential_refusal(protocol, akid, token, json_type):
    """(reply, assumed role): the error AWS gives for temporary credentials it does not know,
    given without their session token, or expired; else (None, the moto AssumedRole)."""
    assumed = ASSUMED_KEYS.get(akid)
    if assumed is None or token != assumed.session_token:
        code = "UnrecognizedClientException" if protocol == "json" else "InvalidClientTokenId"
        return error_reply(protocol, 400 if protocol == "json" else 403, code,
                           "The security token included in the request is invalid.",
                           json_type=json_type), assumed
    expiration = assumed.expiration.replace(tzinfo=UTC) if assumed.expiration.tzinfo is None \
        else assumed.expiration
    if expiration <= datetime.datetime.now(UTC):
        code = "ExpiredTokenException" if protocol == "json" else "ExpiredToken"
        return error_reply(protocol, 400, code, "The security token included in the request is expired",
                           json_type=json_type), assumed
    return None, assumed


# --------------------------------------------------------------------------- Security Hub

def rest_operation(service, method, path):
    """The operation a restJson1 call makes: the one whose HTTP method and request URI (the
    service model's) match, or "unknown"."""
    model = REST_MODELS[service]
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", uri) + "/?$"
        if http["method"] == method and re.match(pattern, path):
            return name
    return "unknown"


DEFAULT_PRODUCT = re.compile(r"^arn:([^:]+):securityhub:([^:]+):(\d{12}):product/(\d{12})/default$")


def securityhub_import_refusal(account, assumed, body):
    """AWS's refusal of a BatchImportFindings that imports a finding for another account
    (AwsAccountId), or into another account's default product, or None to let moto answer.
    The API reference: with the default product ARN, "the identifier of the account that you
    are calling BatchImportFindings from needs to be the same as the AwsAccountId attribute for
    the finding"; AWS answers otherwise with AccessDeniedException for the whole call."""
    try:
        findings = json.loads(body or b"{}").get("Findings") or []
    except (ValueError, AttributeError):
        return None  # moto answers what is not JSON
    for finding in findings:
        if not isinstance(finding, dict):
            continue
        product = str(finding.get("ProductArn", ""))
        m = DEFAULT_PRODUCT.match(product)
        foreign_product = m is not None and (m.group(3) != account or m.group(4) != account)
        if finding.get("AwsAccountId") != account or foreign_product:
            return error_reply("rest-json", 403, "AccessDeniedException",
                               f"User: {caller_arn(account, assumed)} is not authorized to perform: "
                               f"securityhub:BatchImportFindings on resource: {product}")
    return None


# What only Security Hub's customers set (BatchUpdateFindings); a re-import keeps them.
CUSTOMER_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow")


def patch_securityhub():
    from moto.securityhub.models import SecurityHubBackend

    orig_import = SecurityHubBackend.batch_import_findings

    def batch_import_findings(self, findings):
        # What customers set on the findings that exist, before moto merges into them.
        kept = {f.id: copy.deepcopy({k: f.data[k] for k in CUSTOMER_FIELDS if k in f.data})
                for f in self.findings}
        failed_count, success_count, failed = orig_import(self, findings)
        refused = {f.get("Id") for f in failed}
        latest = {d.get("Id"): d for d in findings if isinstance(d, dict)}
        for finding in self.findings:
            if finding.id in kept and finding.id in latest and finding.id not in refused:
                finding.data = {**copy.deepcopy(latest[finding.id]), **kept[finding.id]}
        return failed_count, success_count, failed

    SecurityHubBackend.batch_import_findings = batch_import_findings


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

        cbor_match = CBOR_PATH.match(environ.get("PATH_INFO", ""))
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        form = {}
        if cbor_match:
            protocol, operation = "cbor", cbor_match.group(2)
        elif target:
            protocol, operation = "json", target.rsplit(".", 1)[-1]
        elif service in REST_MODELS:
            protocol = "rest-json"
            operation = rest_operation(service, environ.get("REQUEST_METHOD", ""),
                                       environ.get("PATH_INFO", ""))
        else:
            protocol = "query"
            form = parse_qs(body.decode("utf-8", "replace")) if body else {}
            operation = (form.get("Action") or query.get("Action") or ["unknown"])[0]
        json_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"

        # The account a call is made in: a test's 12-digit access key id is its account;
        # temporary credentials from AssumeRole belong to the assumed role's account.
        account, assumed, refused = DEFAULT_ACCOUNT_ID, None, None
        if re.fullmatch(r"\d{12}", akid):
            account = environ["HTTP_X_MOTO_ACCOUNT_ID"] = akid  # honoured by moto's get_current_account
        elif akid.startswith("ASIA"):
            token = (environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
                     or (query.get("X-Amz-Security-Token") or [None])[0])
            refused, assumed = credential_refusal(protocol, akid, token, json_type)
            if assumed is not None:
                account = environ["HTTP_X_MOTO_ACCOUNT_ID"] = assumed.account_id

        role_arn = (form.get("RoleArn") or [None])[0] if operation == "AssumeRole" else None
        role_account = ROLE_ARN.match(role_arn).group(2) if role_arn and ROLE_ARN.match(role_arn) else None
        fault = None if refused else self.pick_fault(account, operation, role_account)
        if refused:  # AWS authenticates before anything else
            status, headers, out = refused
        elif fault in ("throttle", "unavailable", "access_denied"):
            # Never reaches moto.
            message = None
            if fault == "access_denied" and role_arn:
                message = (f"User: {caller_arn(account, assumed)} is not authorized to perform: "
                           f"sts:AssumeRole on resource: {role_arn}")
            status, headers, out = fault_reply(protocol, fault, json_type, service, message)
        else:
            if fault == "delay":  # a slow call: lets a test act while the caller waits
                time.sleep(self.faults.get(account, {}).get("delay_ms", 1000) / 1000)
            refusal = assume_role_refusal(account, assumed, form) if role_arn and service == "sts" else None
            if service == "securityhub" and operation == "BatchImportFindings":
                refusal = securityhub_import_refusal(account, assumed, body)
            if refusal:
                status, headers, out = refusal
            elif protocol == "cbor":
                status, headers, out = self.cbor_call(environ, body, operation)
            elif protocol == "json" and target in JSON_OPERATIONS:
                status, headers, out = JSON_OPERATIONS[target](body, json_type, account, region)
            else:
                status, headers, out = self.call_moto(environ, body)
            if fault == "lost_reply":  # the change happened, but the caller never hears
                status, headers, out = fault_reply(protocol, "unavailable", json_type)
            if fault == "no_matches" and status == 200 and operation == "TestMetricFilter":
                # Stands for an AWS evaluator that disagrees with the product's proof: the
                # product must then refuse the chain (aws_test_refutes), not trust itself.
                out = json.dumps({"matches": []}).encode()

        call = {"account": account, "service": SERVICE_NAMES.get(service, service),
                "operation": operation, "region": region, "status": status, "fault": fault,
                "principal": caller_arn(account, assumed)}
        if role_arn:
            call["role_arn"] = role_arn
        with self.lock:
            self.calls.append(call)
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

    def pick_fault(self, account, operation, role_account=None):
        with self.lock:
            plan = self.faults.get(account)
            if not plan or (plan["operations"] and operation not in plan["operations"]):
                return None
            if plan["targets"] and role_account not in plan["targets"]:
                return None  # a plan for AssumeRole into some accounts only
            if plan["skip"] > 0:
                plan["skip"] -= 1
                return None
            if plan["count"] is not None and sum(plan["injected"].values()) >= plan["count"]:
                return None  # the first "count" faults only (a throttled start, then calm)
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
                "operations": plan["operations"], "target_accounts": plan["targets"],
                "injected": dict(plan["injected"])}

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
        if path == "/_emulator/alarm-history" and method == "GET":
            return self.alarm_history(account, query)
        if path == "/_emulator/sns-published" and method == "GET":
            return self.sns_published(account, query)
        if path == "/_emulator/sqs-messages" and method == "GET":
            return self.sqs_messages(query)
        if path == "/_emulator/filter-log-events" and method == "POST":
            if account is None:
                return self.json_reply(400, {"error": "account is required"})
            paging = {k: int(data[k]) for k in ("page_events", "scan_events") if data.get(k)}
            with self.lock:
                FILTER_PAGING[account] = paging
            return self.json_reply(200, {"account": account, **paging})
        if path == "/_emulator/organization" and method == "POST":
            status, reply = create_organization(data)
            return self.json_reply(status, reply)
        if path == "/_emulator/faults":
            if account is None:
                return self.json_reply(400, {"error": "account is required"})
            with self.lock:
                if method == "POST":
                    kinds = data.get("kinds") or ["throttle", "unavailable", "lost_reply"]
                    bad = set(kinds) - {"throttle", "unavailable", "lost_reply", "access_denied",
                                        "delay", "no_matches"}
                    if bad:
                        return self.json_reply(400, {"error": f"unknown fault kinds {sorted(bad)}"})
                    seed = data.get("seed", int(account) if account.isdigit() else account)
                    targets = data.get("target_account") or data.get("target_accounts") or []
                    targets = [str(t) for t in _as_list(targets)]
                    operations = data.get("operations") or []
                    if targets:
                        if set(operations) - {"AssumeRole"}:
                            return self.json_reply(400, {"error": "target_account is for AssumeRole "
                                                                  "(operations [\"AssumeRole\"] or none)"})
                        operations = ["AssumeRole"]
                    self.faults[account] = {
                        "rate": float(data.get("rate", 1.0)), "kinds": kinds,
                        "operations": operations, "targets": targets,
                        "delay_ms": int(data.get("delay_ms", 1000)),
                        "skip": int(data.get("skip", 0)),
                        "count": None if data.get("count") is None else int(data["count"]),
                        "rng": random.Random(seed), "injected": {}}
                elif method == "DELETE":
                    self.faults.pop(account, None)
                return self.json_reply(200, self.fault_status(account))
        return self.json_reply(404, {"error": f"no control endpoint {method} {path}"})

    def confirm(self, account, data):
        from moto.sns.models import sns_backends

        arn, topic = data.get("subscription_arn"), data.get("topic_arn")
        # The region defaults to the ARN's (arn:aws:sns:REGION:ACCOUNT:...); without an
        # account, the subscriptions of every account (another account's subscription to a
        # topic is kept in that account).
        parts = (arn or topic or "").split(":") + [""] * 6
        region = data.get("region") or parts[3] or "us-east-1"
        backends = [sns_backends[account][region]] if account else sns_backends_in(region)
        with self.lock:
            subs = [s for backend in backends for s in list(backend.subscriptions.values())
                    if (arn and s.arn == arn) or (topic and s.topic.arn == topic)]
            for sub in subs:
                set_pending(sub, False)
        if not subs:
            return self.json_reply(404, {"error": "no such subscription", "confirmed": []})
        return self.json_reply(200, {"confirmed": [s.arn for s in subs]})

    def alarm_history(self, account, query):
        """All history items of an account's region (oldest first), optionally one alarm's."""
        if account is None:
            return self.json_reply(400, {"error": "account is required"})
        region, alarm = query.get("region") or "us-east-1", query.get("alarm")
        with HISTORY_LOCK:
            items = sorted(ALARM_HISTORY.get((account, region), []), key=_history_key)
        items = [{**{k: v for k, v in i.items() if not k.startswith("_")},
                  "Timestamp": i["Timestamp"].isoformat().replace("+00:00", "Z")}
                 for i in items if alarm is None or i["AlarmName"] == alarm]
        return self.json_reply(200, {"items": items})

    def sns_published(self, account, query):
        """Every message SNS accepted for the account's topics in a region (whatever became
        of its deliveries), oldest first; `topic_arn` narrows it to one topic."""
        from moto.sns.models import sns_backends

        topic_arn = query.get("topic_arn")
        parts = (topic_arn or "").split(":") + [""] * 6
        account = account or parts[4] or None
        if account is None:
            return self.json_reply(400, {"error": "account or topic_arn is required"})
        backend = sns_backends[account][query.get("region") or parts[3] or "us-east-1"]
        with self.lock:
            messages = [{"topic_arn": t.arn, "message_id": n[0], "message": n[1], "subject": n[2]}
                        for t in list(backend.topics.values()) if topic_arn in (None, t.arn)
                        for n in list(t.sent_notifications)]
        return self.json_reply(200, {"messages": messages})

    def sqs_messages(self, query):
        """The messages in an SQS queue, read without receiving them (nothing changes)."""
        from moto.sqs.models import sqs_backends

        parts = (query.get("queue_arn") or "").split(":")
        if len(parts) != 6:
            return self.json_reply(400, {"error": "queue_arn is required"})
        queue = sqs_backends[parts[4]][parts[3]].queues.get(parts[5])
        if queue is None:
            return self.json_reply(404, {"error": "no such queue", "messages": []})
        with queue._messages_lock:
            messages = [{"message_id": m.id, "body": m.body} for m in queue._messages]
        return self.json_reply(200, {"messages": messages})

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
    parser.add_argument("--ne-matches-missing", action="store_true",
                        help="let `!=` in a JSON filter pattern match a missing or null field "
                             "(undocumented; see filter_patterns.NE_MATCHES_MISSING)")
    args = parser.parse_args(argv)
    filter_patterns.NE_MATCHES_MISSING = args.ne_matches_missing

    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    QuietHandler.verbose = args.verbose
    patch_sns()
    patch_sns_create_topic()
    patch_sns_cross_account()
    patch_logs()
    patch_kms()
    patch_cloudwatch()
    patch_events_test_event_pattern()
    patch_events_put_rule()
    patch_organizations()
    patch_cloudtrail()
    patch_sts()
    patch_securityhub()

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

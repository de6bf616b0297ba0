"""Test tools for the Terraform files `cis-fix export terraform` writes.

    python export_tools.py hcl2json FILE.tf               # the file as JSON (below)
    python export_tools.py deploy FILE.tf --endpoint URL  # create its resources in the emulator

Both exit non-zero with a message on anything they do not understand: a test using them
must fail rather than pass over a construct it did not check.

hcl2json prints {"providers": [...], "resources": [...], "imports": [...], "variables": {...}}:
  providers  [{"alias": null|str, "assume_role": null|{...}, "region": ..., "allowed_account_ids": [...], ...}]
  resources  [{"type", "name", "provider": null|"aws.ALIAS", "args": {...}}]
  imports    [{"to": "TYPE.NAME", "id": ..., "provider": null|"aws.ALIAS"}]
  variables  {NAME: {...arguments...}}
Value rules (python-hcl2 8.1.4, strip_string_quotes=True):
  * python-hcl2 resolves backslash escapes (\\" \\\\ \\n \\t \\uNNNN ...) in a quoted string, except
    inside its tokens for HCL's template escapes `$${...}` and `%%{...}`, which it returns as
    written. For a literal string this module turns `$${` into `${` and `%%{` into `%{` and
    resolves the backslash escapes inside those tokens, so the value is Terraform's, byte for byte.
  * An expression comes back from python-hcl2 as a string "${...}". A raw value starting with
    `${` (not `$${`) and ending with `}` is therefore an expression; only references
    (a.b.c[0].d) are supported and become {"ref": "a.b.c[0].d"}. Anything else, and a
    template ("a-${var.x}", %{ if }), is an error, but for the one template cis-fix writes:
    `${terraform.workspace}` (in the cis-fix:deployed-by tag), which becomes the workspace
    Terraform would apply in, `default`.
  * Numbers stay numbers, bools bools; lists and objects are converted recursively (so a map
    whose only key is "ref" would read as a reference: none of the supported ones has one).
  * A nested block (`metric_transformation { ... }`) is an object if it appears once, a list
    of objects if repeated; `x = [{...}]` stays a list (told apart by python-hcl2's
    `__is_block__` markers, hence explicit_blocks=True).
  * The `provider` meta-argument (a reference such as aws.a1111) is reported as the string
    "aws.a1111" in "provider" and removed from "args"; an import's `to` likewise.
Known python-hcl2 limits (it fails or misreads where Terraform does not):
  * a `$${` or `%%{` must be closed by a `}` in the same string: python-hcl2 reads from it to
    the next `}`, across the closing quote if need be. This module refuses such a token.
  * a bare identifier (`type = string`) comes back as the string "string", like a literal;
    exponent numbers (1e3) come back as expressions and are refused; heredocs are unsupported.

deploy creates, with boto3, exactly the resources the file declares, in dependency order, and
prints [{"type", "name", "id", "imported"}] (id: topic ARN, subscription ARN,
"LOGGROUP:FILTER", alarm name, event rule name, "RULE/TARGET_ID", the topic ARN of a topic
policy - Terraform's import id). An import must name an existing object and that resource's id;
an imported resource is deployed by the same calls, which update it in place as `terraform
apply` after the import would (its tags by TagResource: CreateTopic, PutMetricAlarm and PutRule
do not retag an existing topic, alarm or rule).
Each resource's account is the single allowed_account_ids entry of its provider, used as the
access key id: the emulator attributes calls by access key, so assume_role is ignored.
"""

import argparse
import json
import re
import sys

import boto3
import botocore.config
import botocore.exceptions
import hcl2

OPTIONS = hcl2.SerializationOptions(strip_string_quotes=True, explicit_blocks=True, with_comments=False)
# What Terraform would call a traversal: aws_sns_topic.t.arn, x.metric_transformation[0].name.
REFERENCE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])+")
# python-hcl2's tokens for `$${...}` and `%%{...}` (its grammar: /\$\$\{[^}]*\}/).
ESCAPED = re.compile(r"(\$\$|%%)\{([^}]*)\}")
BACKSLASH = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S)
SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1})


class ExportError(Exception):
    pass


# ---- hcl2json

def _backslash(match):
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    if match.group(3) not in SIMPLE_ESCAPES:
        raise ExportError(f"unknown escape \\{match.group(3)}")
    return SIMPLE_ESCAPES[match.group(3)]


def _escaped_token(match):
    inner = match.group(2)
    # An unescaped quote or a line break means the token ran past the end of its string.
    if '"' in re.sub(r"\\.", "", inner) or "\n" in inner:
        raise ExportError(f"python-hcl2 misreads {match.group(0)[:40]!r}...: "
                          f"'{match.group(1)}{{' without a '}}' before the end of its string")
    return match.group(1)[0] + "{" + BACKSLASH.sub(_backslash, inner) + "}"


# The one interpolation the export writes inside a string, and what `terraform apply` in a
# fresh working directory makes of it.
# (Not `$${terraform.workspace}`, a literal.)
WORKSPACE = re.compile(r"(?<!\$)\$\{terraform\.workspace\}")


def _string(raw):
    if raw != "${terraform.workspace}":
        raw = WORKSPACE.sub("default", raw)
    if raw.startswith("${") and raw.endswith("}"):
        if not REFERENCE.fullmatch(raw[2:-1]):
            raise ExportError(f"unsupported expression {raw!r} (only references are)")
        return {"ref": raw[2:-1]}
    # Outside the escape tokens an interpolation or directive would make this a template.
    if any(t in part for part in ESCAPED.split(raw)[::3] for t in ("${", "%{")):
        raise ExportError(f"unsupported template {raw!r}")
    return ESCAPED.sub(_escaped_token, raw)


def value(raw):
    """A python-hcl2 value by the rules of the module docstring."""
    if isinstance(raw, str):
        return _string(raw)
    if isinstance(raw, list):
        if raw and all(isinstance(b, dict) and b.get("__is_block__") for b in raw):
            blocks = [value(b) for b in raw]
            return blocks[0] if len(blocks) == 1 else blocks
        return [value(v) for v in raw]
    if isinstance(raw, dict):
        return {_key(k): value(v) for k, v in raw.items() if k != "__is_block__"}
    return raw


def _key(raw):
    key = _string(raw)
    if not isinstance(key, str):
        raise ExportError(f"unsupported object key {raw!r}")
    return key


def _meta_reference(args, name):
    """Pop a meta-argument that must be a reference (provider = aws.x, to = T.N) as its text."""
    ref = args.pop(name, None)
    if ref is not None and not (isinstance(ref, dict) and list(ref) == ["ref"]):
        raise ExportError(f"{name} must be a reference, not {ref!r}")
    return ref and ref["ref"]


def to_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            doc = hcl2.load(f, serialization_options=OPTIONS)
    except Exception as e:  # lark's errors carry the position; keep them in the message
        raise ExportError(f"python-hcl2 cannot parse {path}: {e}") from e
    out = {"providers": [], "resources": [], "imports": [], "variables": {}}
    for kind, blocks in doc.items():
        if not isinstance(blocks, list):
            raise ExportError(f"unsupported top-level argument {kind!r}")
        for block in blocks:
            if kind == "terraform":
                continue
            if kind == "import":
                args = value(block)
                out["imports"].append({"to": _meta_reference(args, "to"), "id": args.pop("id", None),
                                       "provider": _meta_reference(args, "provider")})
                if args:
                    raise ExportError(f"unsupported import arguments {sorted(args)}")
                continue
            for label, body in block.items():
                if kind == "provider":
                    if label != "aws":
                        raise ExportError(f"unsupported provider {label!r}")
                    out["providers"].append({"alias": None, "assume_role": None, **value(body)})
                elif kind == "variable":
                    out["variables"][label] = value(body)
                elif kind == "resource":
                    for name, raw in body.items():
                        args = value(raw)
                        provider = _meta_reference(args, "provider")
                        out["resources"].append({"type": label, "name": name, "provider": provider, "args": args})
                else:
                    raise ExportError(f"unsupported block {kind!r}")
    return out


# ---- deploy

# Supported arguments per type; deploy refuses any other argument or type. Deployed in this
# order, so a type comes after every type it may refer to.
ARGUMENTS = {
    "aws_sns_topic": {"name", "tags", "kms_master_key_id"},
    # Right after its topic: the topic lets EventBridge / CloudWatch publish before they target it.
    "aws_sns_topic_policy": {"arn", "policy"},
    "aws_cloudwatch_event_rule": {"name", "description", "event_pattern", "state", "tags"},
    "aws_cloudwatch_event_target": {"rule", "target_id", "arn"},
    "aws_sns_topic_subscription": {"topic_arn", "protocol", "endpoint"},
    "aws_cloudwatch_log_metric_filter": {"name", "log_group_name", "pattern", "metric_transformation"},
    "aws_cloudwatch_metric_alarm": {
        "alarm_name", "alarm_description", "metric_name", "namespace", "statistic", "period", "threshold",
        "comparison_operator", "evaluation_periods", "actions_enabled", "alarm_actions", "tags"},
}
TRANSFORMATION = {"name", "namespace", "value"}
ALARM_PARAMETERS = {
    "alarm_name": "AlarmName", "alarm_description": "AlarmDescription", "metric_name": "MetricName",
    "namespace": "Namespace", "statistic": "Statistic", "period": "Period", "threshold": "Threshold",
    "comparison_operator": "ComparisonOperator", "evaluation_periods": "EvaluationPeriods",
    "actions_enabled": "ActionsEnabled", "alarm_actions": "AlarmActions"}


def _attributes(resource):
    """The references to `resource` that deploy can resolve (values filled in once created)."""
    address = f"{resource['type']}.{resource['name']}"
    if resource["type"] == "aws_sns_topic":
        return [f"{address}.arn"]
    if resource["type"] == "aws_cloudwatch_log_metric_filter":
        return [f"{address}.metric_transformation[0].{a}" for a in ("name", "namespace")]
    if resource["type"] == "aws_cloudwatch_event_rule":
        return [f"{address}.name", f"{address}.arn"]
    return []


def _references(v):
    if isinstance(v, dict) and list(v) == ["ref"]:
        yield v["ref"]
    elif isinstance(v, dict):
        for item in v.values():
            yield from _references(item)
    elif isinstance(v, list):
        for item in v:
            yield from _references(item)


def _check(doc):
    """Refuse the whole file before creating anything, as `terraform plan` would."""
    known = {ref for r in doc["resources"] for ref in _attributes(r)}
    aliases = {p["alias"] and "aws." + p["alias"] for p in doc["providers"]}
    addresses = set()
    for r in doc["resources"]:
        address = f"{r['type']}.{r['name']}"
        if r["provider"] not in aliases:
            raise ExportError(f"{address}: no provider {r['provider'] or '(default)'}")
        if r["type"] not in ARGUMENTS:
            raise ExportError(f"{address}: unsupported resource type")
        if address in addresses:
            raise ExportError(f"{address}: declared twice")
        addresses.add(address)
        unknown = set(r["args"]) - ARGUMENTS[r["type"]]
        transformation = r["args"].get("metric_transformation")
        if transformation is not None:
            if not isinstance(transformation, dict):
                raise ExportError(f"{address}: metric_transformation must be one block")
            unknown |= {f"metric_transformation.{a}" for a in set(transformation) - TRANSFORMATION}
        if unknown:
            raise ExportError(f"{address}: unsupported arguments {sorted(unknown)}")
        for ref in _references(r["args"]):
            if ref not in known:
                raise ExportError(f"{address}: unresolvable reference {ref}")
    for i in doc["imports"]:
        if i["to"] not in addresses:
            raise ExportError(f"import of undeclared {i['to']}")
        target = next(r for r in doc["resources"] if f"{r['type']}.{r['name']}" == i["to"])
        if i["provider"] != target["provider"]:
            raise ExportError(f"import of {i['to']} names provider {i['provider']}, the resource {target['provider']}")


def _clients(doc, endpoint):
    """provider alias (None: default) -> service -> boto3 client of its account and region."""
    providers = {}
    for p in doc["providers"]:
        accounts = p.get("allowed_account_ids")
        if not (isinstance(accounts, list) and len(accounts) == 1 and p.get("region")):
            raise ExportError(f"provider {p['alias']}: needs region and exactly one allowed_account_ids entry")
        alias = p["alias"] and "aws." + p["alias"]
        if alias in providers:
            raise ExportError(f"provider {alias or '(default)'} declared twice")
        providers[alias] = {
            service: boto3.client(service, endpoint_url=endpoint, region_name=p["region"],
                                  aws_access_key_id=accounts[0], aws_secret_access_key="test-secret",
                                  config=NO_RETRY)
            for service in ("sns", "logs", "cloudwatch", "events")}
    return providers


def _exists(client, kind, rid):
    """Whether the object an import id names exists (`terraform import` fails otherwise)."""
    try:
        if kind in ("aws_sns_topic", "aws_sns_topic_policy"):  # a topic always has a policy
            client["sns"].get_topic_attributes(TopicArn=rid)
        elif kind == "aws_cloudwatch_event_rule":
            client["events"].describe_rule(Name=rid)
        elif kind == "aws_cloudwatch_event_target":
            rule, _, target_id = rid.partition("/")
            targets = client["events"].list_targets_by_rule(Rule=rule)["Targets"]
            return any(t["Id"] == target_id for t in targets)
        elif kind == "aws_sns_topic_subscription":
            client["sns"].get_subscription_attributes(SubscriptionArn=rid)
        elif kind == "aws_cloudwatch_log_metric_filter":
            group, _, name = rid.partition(":")
            filters = client["logs"].describe_metric_filters(logGroupName=group, filterNamePrefix=name)
            return any(f["filterName"] == name for f in filters["metricFilters"])
        else:
            return bool(client["cloudwatch"].describe_alarms(AlarmNames=[rid])["MetricAlarms"])
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in ("NotFound", "NotFoundException", "ResourceNotFoundException"):
            return False
        raise
    return True


def _need(args, name, address):
    if name not in args:
        raise ExportError(f"{address}: missing argument {name}")
    return args[name]


def _tags(args):
    return [{"Key": k, "Value": v} for k, v in args.get("tags", {}).items()]


def _event_rule(events, args, address, imported):
    """PutRule; the rule's name and ARN."""
    name = _need(args, "name", address)
    params = {"Name": name, "EventPattern": _need(args, "event_pattern", address)}
    if "description" in args:
        params["Description"] = args["description"]
    if "state" in args:
        params["State"] = args["state"]
    if _tags(args):
        params["Tags"] = _tags(args)
    arn = events.put_rule(**params)["RuleArn"]
    if imported and _tags(args):
        # PutRule ignores Tags when it updates a rule (documented): tag it the way
        # `terraform apply` would (TagResource).
        events.tag_resource(ResourceARN=arn, Tags=_tags(args))
    return name, arn


def deploy(path, endpoint):
    doc = to_json(path)
    _check(doc)
    providers = _clients(doc, endpoint)
    imports = {i["to"]: i["id"] for i in doc["imports"]}
    for i in doc["imports"]:
        if not _exists(providers[i["provider"]], i["to"].split(".")[0], i["id"]):
            raise ExportError(f"import of {i['to']}: no object with id {i['id']!r}")
    resolved = {}

    def resolve(v):
        if isinstance(v, dict) and list(v) == ["ref"]:
            if v["ref"] not in resolved:  # declared, but of a type deployed later
                raise ExportError(f"reference {v['ref']} used before it is created")
            return resolved[v["ref"]]
        if isinstance(v, list):
            return [resolve(item) for item in v]
        if isinstance(v, dict):
            return {k: resolve(item) for k, item in v.items()}
        return v

    created = []
    for kind in ARGUMENTS:  # dependency order
        for r in (r for r in doc["resources"] if r["type"] == kind):
            address = f"{kind}.{r['name']}"
            client = providers[r["provider"]]
            args = resolve(r["args"])
            imported = address in imports
            if kind == "aws_sns_topic":
                name, kms = _need(args, "name", address), args.get("kms_master_key_id")
                if imported:
                    # CreateTopic of an existing name returns it unchanged (other tags are
                    # refused, attributes ignored): update it the way `terraform apply` would.
                    rid = client["sns"].create_topic(Name=name)["TopicArn"]
                    if _tags(args):
                        client["sns"].tag_resource(ResourceArn=rid, Tags=_tags(args))
                    if kms is not None:
                        client["sns"].set_topic_attributes(TopicArn=rid, AttributeName="KmsMasterKeyId",
                                                           AttributeValue=kms)
                else:
                    rid = client["sns"].create_topic(
                        Name=name, Tags=_tags(args),
                        Attributes={"KmsMasterKeyId": kms} if kms is not None else {})["TopicArn"]
                resolved[f"{address}.arn"] = rid
            elif kind == "aws_sns_topic_policy":
                rid = _need(args, "arn", address)
                client["sns"].set_topic_attributes(TopicArn=rid, AttributeName="Policy",
                                                   AttributeValue=_need(args, "policy", address))
            elif kind == "aws_cloudwatch_event_rule":
                rid, arn = _event_rule(client["events"], args, address, imported)
                resolved[f"{address}.name"], resolved[f"{address}.arn"] = rid, arn
            elif kind == "aws_cloudwatch_event_target":
                rule, target_id = _need(args, "rule", address), _need(args, "target_id", address)
                reply = client["events"].put_targets(
                    Rule=rule, Targets=[{"Id": target_id, "Arn": _need(args, "arn", address)}])
                # PutTargets reports a refused target in its reply, not as an error.
                if reply["FailedEntryCount"]:
                    raise ExportError(f"{address}: PutTargets failed: {reply['FailedEntries']}")
                rid = f"{rule}/{target_id}"
            elif kind == "aws_sns_topic_subscription":
                rid = client["sns"].subscribe(
                    TopicArn=_need(args, "topic_arn", address), Protocol=_need(args, "protocol", address),
                    Endpoint=_need(args, "endpoint", address), ReturnSubscriptionArn=True)["SubscriptionArn"]
            elif kind == "aws_cloudwatch_log_metric_filter":
                group, name = _need(args, "log_group_name", address), _need(args, "name", address)
                t = _need(args, "metric_transformation", address)
                client["logs"].put_metric_filter(
                    logGroupName=group, filterName=name, filterPattern=_need(args, "pattern", address),
                    metricTransformations=[{"metricName": _need(t, "name", address),
                                            "metricNamespace": _need(t, "namespace", address),
                                            "metricValue": _need(t, "value", address)}])
                rid = f"{group}:{name}"
                for a in ("name", "namespace"):
                    resolved[f"{address}.metric_transformation[0].{a}"] = t[a]
            else:
                for a in ("alarm_name", "comparison_operator", "evaluation_periods"):
                    _need(args, a, address)
                params = {ALARM_PARAMETERS[k]: v for k, v in args.items() if k in ALARM_PARAMETERS}
                if "Threshold" in params:
                    params["Threshold"] = float(params["Threshold"])
                if _tags(args):
                    params["Tags"] = _tags(args)
                client["cloudwatch"].put_metric_alarm(**params)
                rid = args["alarm_name"]
                if imported and _tags(args):
                    # PutMetricAlarm ignores Tags when it updates an alarm: tag it the way
                    # `terraform apply` would (TagResource).
                    [alarm] = client["cloudwatch"].describe_alarms(AlarmNames=[rid])["MetricAlarms"]
                    client["cloudwatch"].tag_resource(ResourceARN=alarm["AlarmArn"], Tags=_tags(args))
            if imported and imports[address] != rid:
                raise ExportError(f"import of {address} has id {imports[address]!r}, the resource is {rid!r}")
            created.append({"type": kind, "name": r["name"], "id": rid, "imported": imported})
    return created


def main(argv=None):
    parser = argparse.ArgumentParser(prog="export_tools.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("hcl2json", help="print FILE as JSON").add_argument("file")
    deploy_parser = commands.add_parser("deploy", help="create FILE's resources in the emulator")
    deploy_parser.add_argument("file")
    deploy_parser.add_argument("--endpoint", required=True)
    args = parser.parse_args(argv)
    try:
        out = to_json(args.file) if args.command == "hcl2json" else deploy(args.file, args.endpoint)
    except (ExportError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        print(f"export_tools.py: error: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

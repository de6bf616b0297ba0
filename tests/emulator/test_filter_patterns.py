"""Tests for filter_patterns.py, the emulator's CloudWatch Logs filter-pattern evaluator.

Run from the repo root:  python -m unittest discover -s tests/emulator -v
Cases come from the AWS documentation's own examples ("Filter pattern syntax for metric
filters, subscription filters, filter log events, and Live Tail"), the CIS Monitoring
patterns, and the choices filter_patterns.py documents where AWS is silent.
"""

import json
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import filter_patterns as fp  # noqa: E402


def event(**fields):
    return json.dumps(fields)


def trail(event_name, **fields):
    """A CloudTrail record as CloudTrail delivers it to CloudWatch Logs (abridged)."""
    record = {
        "eventVersion": "1.09", "eventTime": "2026-01-01T00:00:00Z",
        "eventSource": fields.pop("eventSource", "iam.amazonaws.com"), "eventName": event_name,
        "awsRegion": "us-east-1", "sourceIPAddress": fields.pop("sourceIPAddress", "203.0.113.7"),
        "userAgent": "aws-cli/2", "userIdentity": fields.pop("userIdentity", {
            "type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "123456789012",
            "arn": "arn:aws:iam::123456789012:user/alice", "userName": "alice"}),
        "requestParameters": None, "responseElements": None, "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012", "managementEvent": True,
    }
    record.update(fields)
    return json.dumps(record)


class Case(unittest.TestCase):
    def match(self, pattern, message):
        self.assertTrue(fp.matches(pattern, message), f"{pattern} should match {message}")

    def no_match(self, pattern, message):
        self.assertFalse(fp.matches(pattern, message), f"{pattern} should not match {message}")

    def invalid(self, pattern, fragment=""):
        with self.assertRaises(fp.InvalidPattern, msg=pattern) as err:
            fp.compile_pattern(pattern)
        self.assertIn(fragment, str(err.exception))


class DocumentedJsonExamples(Case):
    # "The following is a JSON example" / "The following filters would match".
    EXAMPLE = json.dumps({
        "eventType": "UpdateTrail", "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None, "ThisFlag": True}, indent=2)

    def test_the_filters_that_would_match(self):
        for pattern in ('{ $.eventType = "UpdateTrail" }', "{ $.sourceIPAddress != 123.123.* }",
                        '{ $.arrayKey[0] = "value" }', "{ $.objectList[1].id = 2 }",
                        "{ $.SomeObject IS NULL }", "{ $.SomeOtherObject NOT EXISTS }",
                        "{ $.ThisFlag IS TRUE }"):
            self.match(pattern, self.EXAMPLE)

    def test_their_counterparts_do_not(self):
        for pattern in ('{ $.eventType = "CreateTrail" }', "{ $.sourceIPAddress != 111.111.* }",
                        '{ $.arrayKey[1] = "value" }', "{ $.objectList[0].id = 2 }",
                        "{ $.objectList[2].id = 2 }", "{ $.eventType[0] = UpdateTrail }",
                        "{ $.eventType.id = 2 }", "{ $.ThisFlag IS NULL }", "{ $.Nothing IS NULL }",
                        "{ $.SomeObject NOT EXISTS }", "{ $.ThisFlag NOT EXISTS }",
                        "{ $.ThisFlag IS FALSE }", '{ $.eventType IS TRUE }'):
            self.no_match(pattern, self.EXAMPLE)
        self.match("{ $.ThisFlag IS FALSE }", event(ThisFlag=False))
        self.no_match("{ $.ThisFlag IS TRUE }", event(ThisFlag="true"))  # a string is not TRUE

    # "JSON Compound Conditions": "() > && > ||".
    COMPOUND = json.dumps({
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]})

    def test_compound_examples_and_precedence(self):
        self.match('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', self.COMPOUND)
        self.no_match('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
                      self.COMPOUND)
        # && binds tighter: A || (B && C) - A holds.
        self.match('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && '
                   '$.actions[2] = nomatch }', self.COMPOUND)
        # Parentheses first: (A || B) && C - C fails.
        self.no_match('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && '
                      '$.actions[2] = nomatch }', self.COMPOUND)
        self.match("{ $.coordinates[2][0] = 7 && $.users[1].id >= 3 }", self.COMPOUND)

    def test_or_examples(self):
        bar, baz = event(foo="bar"), event(foo="baz")
        self.match("{$.foo = bar}", bar)
        self.no_match("{$.foo = bar}", baz)
        self.match("{$.foo = baz }", baz)
        for message in (bar, baz):
            self.match("{$.foo = bar || $.foo = baz }", message)

    def test_selector_on_an_array_or_object_never_matches(self):
        # "both {$.users = 1} and {$.users != 1} will fail to match a log event where users is
        # an array" - whatever the != switch says about missing fields.
        users = event(users=[1, 2, 3], obj={"a": 1})
        for switch in (False, True):
            with mock.patch.object(fp, "NE_MATCHES_MISSING", switch):
                for pattern in ("{$.users = 1}", "{$.users != 1}", "{$.obj != 1}", "{$.obj = *}",
                                '{$.users != "x"}', "{$.users < 5}", "{$.users IS NULL}"):
                    self.no_match(pattern, users)
        self.match("{$.users[2] = 3}", users)

    def test_numeric_examples(self):
        message = event(latency=1500, numbers=[0.005], errorCode=400,
                        processes=[{}, {}, {}, {}, {"averageRuntime": 55.5}])
        for pattern in ("{ $.latency >= 500 }", "{ $.numbers[0] < 10e3 }", "{ $.numbers[0] < 10e-3 }",
                        "{ $.processes[4].averageRuntime <= 55.5 }", "{ $.errorCode = 400 }",
                        "{ $.errorCode != 500 }", "{ $.latency > +1000 }"):
            self.match(pattern, message)
        for pattern in ("{ $.latency < 500 }", "{ $.numbers[0] > 10e-3 }",
                        "{ $.processes[4].averageRuntime < 55.5 }", "{ $.errorCode != 400 }",
                        "{ $.latency > +1500 }", "{ $.latency <= -1 }"):
            self.no_match(pattern, message)

    def test_latency_star_publishes_any_value(self):
        # "metricFilter: { $.latency = * } metricValue: $.latency"
        self.match("{ $.latency = * }", event(latency=12))
        self.match("{ $.latency = * }", event(latency="slow"))
        self.no_match("{ $.latency = * }", event(other=1))
        self.no_match("{ $.latency = * }", event(latency=None))


class Wildcards(Case):
    """"*Event will match PutEvent and GetEvent.  Event* will match EventId and EventName.
    Ev*ent will only match the actual string Ev*ent." """

    def test_documented_examples(self):
        for name in ("PutEvent", "GetEvent", "Event"):
            self.match("{ $.name = *Event }", event(name=name))
        self.no_match("{ $.name = *Event }", event(name="EventId"))
        for name in ("EventId", "EventName", "Event"):
            self.match("{ $.name = Event* }", event(name=name))
        self.no_match("{ $.name = Event* }", event(name="PutEvent"))
        self.match("{ $.name = Ev*ent }", event(name="Ev*ent"))
        for name in ("Event", "EvXent", "Evnt", "Ev**ent"):
            self.no_match("{ $.name = Ev*ent }", event(name=name))

    def test_a_star_in_the_middle_is_literal(self):
        for pattern in ("{ $.eventName = Console*Login }", '{ $.eventName = "Console*Login" }'):
            self.no_match(pattern, trail("ConsoleLogin"))
            self.no_match(pattern, trail("ConsoleXLogin"))
            self.match(pattern, trail("Console*Login"))
        # Leading and trailing wildcards around a literal middle star.
        self.match("{ $.a = *b*c* }", event(a="xb*cx"))
        self.no_match("{ $.a = *b*c* }", event(a="xbzcx"))
        # != negates the wildcard match.
        self.match("{ $.eventName != Console*Login }", trail("ConsoleLogin"))
        self.no_match("{ $.eventName != Console*Login }", trail("Console*Login"))

    def test_both_ends_and_quoted(self):
        self.match('{ $.errorCode = "*Unauthorized*" }', event(errorCode="Client.UnauthorizedOperation"))
        self.match('{ $.errorCode = "*UnauthorizedOperation" }', event(errorCode="Client.UnauthorizedOperation"))
        self.no_match('{ $.errorCode = "*UnauthorizedOperation" }', event(errorCode="UnauthorizedOperationX"))
        self.match("{ $.errorCode = AccessDenied* }", event(errorCode="AccessDeniedException"))
        self.no_match("{ $.errorCode = AccessDenied* }", event(errorCode="Client.AccessDenied"))

    def test_matching_is_case_sensitive(self):
        self.no_match("{ $.eventName = consolelogin }", trail("ConsoleLogin"))
        self.no_match("{ $.eventName = console* }", trail("ConsoleLogin"))


class NotEqualOnMissingOrNull(Case):
    """Undocumented: filter_patterns.NE_MATCHES_MISSING picks the reading."""

    def test_default_does_not_match(self):
        self.assertFalse(fp.NE_MATCHES_MISSING)
        for message in (event(other="x"), event(field=None), event(field={"nested": None})):
            self.no_match('{ $.field != "x" }', message)
            self.no_match("{ $.field != 5 }", message)
            self.no_match("{ $.field != x* }", message)
        self.no_match('{ $.field.deeper != "x" }', event(field="scalar"))
        self.match('{ $.field != "x" }', event(field="y"))

    def test_switched_on_matches(self):
        with mock.patch.object(fp, "NE_MATCHES_MISSING", True):
            for message in (event(other="x"), event(field=None)):
                self.match('{ $.field != "x" }', message)
                self.match("{ $.field != 5 }", message)
                self.match("{ $.field != %x% }", message)
            self.match('{ $.field.deeper != "x" }', event(field="scalar"))
            self.no_match('{ $.field != "x" }', event(field="x"))
            # Only != is affected.
            self.no_match('{ $.field = "x" }', event(other="x"))
            self.no_match("{ $.field < 5 }", event(other="x"))

    def test_cis_mfa_control_depends_on_it(self):
        # A console sign-in record without additionalEventData.MFAUsed (federated sign-in).
        pattern = '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
        record = trail("ConsoleLogin", eventSource="signin.amazonaws.com")
        self.no_match(pattern, record)
        with mock.patch.object(fp, "NE_MATCHES_MISSING", True):
            self.match(pattern, record)
        for switch in (False, True):
            with mock.patch.object(fp, "NE_MATCHES_MISSING", switch):
                self.match(pattern, trail("ConsoleLogin", additionalEventData={"MFAUsed": "No"}))
                self.no_match(pattern, trail("ConsoleLogin", additionalEventData={"MFAUsed": "Yes"}))


class Numbers(Case):
    def test_number_nodes_compare_by_value(self):
        for text in ("1", "1.0", "1e0", "0.1e1", "10E-1"):
            self.match("{ $.x = 1 }", '{"x": %s}' % text)
        self.match("{ $.x = 1.000 }", '{"x": 1}')
        self.match("{ $.x = -0.5 }", '{"x": -5e-1}')
        # Exact decimals, not binary floats.
        self.match("{ $.x = 0.3 }", '{"x": 0.30}')
        self.no_match("{ $.x = 0.3 }", '{"x": 0.30000000000000001}')
        self.match("{ $.x > 9007199254740992 }", '{"x": 9007199254740993}')

    def test_number_against_a_string_is_textual(self):
        # The docs' "recipientAccountId is 123456789012" - a JSON string in CloudTrail.
        self.match("{ $.recipientAccountId = 123456789012 }", trail("X"))
        self.match("{ $.x = 1 }", event(x="1"))
        self.no_match("{ $.x = 1 }", event(x="1.0"))
        self.match("{ $.x != 1 }", event(x="1.0"))
        self.no_match("{ $.x > 0 }", event(x="1"))
        self.no_match("{ $.x >= 1 }", event(x="1"))

    def test_strings_against_numbers_use_the_number_as_written(self):
        self.match('{ $.status = "4*" }', '{"status": 404}')
        self.match('{ $.status = "404" }', '{"status": 404}')
        self.no_match('{ $.status = "404" }', '{"status": 404.0}')

    def test_booleans_are_no_value_node(self):
        for pattern in ("{ $.flag = true }", '{ $.flag = "true" }', "{ $.flag = * }", "{ $.flag != x }",
                        "{ $.flag = 1 }"):
            self.no_match(pattern, event(flag=True))


class Regexes(Case):
    def test_documented_examples(self):
        self.match("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST")
        self.match("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST")
        self.match("%^[hc]at%", "hat trick")
        self.no_match("%^[hc]at%", "that")
        self.match("%[hc]at$%", "that")
        self.no_match("%[hc]at$%", "hats")
        self.match("%colou?r%", "color")
        self.match("%colou?r%", "colour")
        self.match("%a{3,5}%", "baaab")
        self.no_match("%^a{3,5}$%", "aaaaaa")
        self.match("%[abcx-z]%", "y")
        self.match(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "from 10.0.0.1")
        self.no_match(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "from 10.0.0")
        for text in ("Error", "error", "Fail", "fail"):
            self.match("%[Ee]rror|[Ff]ail%", f"an {text} here")

    def test_in_json_patterns(self):
        self.match(r"{ $.sourceIPAddress = %^10\.% }", trail("X", sourceIPAddress="10.1.2.3"))
        self.no_match(r"{ $.sourceIPAddress = %^10\.% }", trail("X", sourceIPAddress="110.1.2.3"))
        self.match(r"{ $.sourceIPAddress != %^10\.% }", trail("X", sourceIPAddress="110.1.2.3"))
        self.match("{ $.message = %bind: address already in use% }",
                   event(message="listen: bind: address already in use"))
        self.match("{ $.status = %^4[0-9]{2}$% }", '{"status": 404}')
        self.match("{ $.a = %x% && $.b = %y% }", event(a="x", b="y"))
        self.no_match("{ $.a = %x% }", event(a=["x"]))

    def test_only_the_documented_subset(self):
        self.invalid("%something!%", "'!'")
        self.invalid("{ $.a = %something!% }", "'!'")
        self.invalid("{ $.a = %(ab)+% }", "( and )")
        self.invalid(r"{ $.a = %a\(b% }", "( and )")
        self.invalid("{ $.a = %café% }", "multi-byte")
        self.invalid("{ $.a = %[a% }")  # not a regex at all
        self.invalid("{ $.a = %% }", "empty")
        self.invalid("{ $.a = %abc }", "unterminated")
        self.invalid("{ $.a > %1% }")

    def test_at_most_two_per_pattern(self):
        fp.compile_pattern("{ $.a = %x% || $.b = %y% }")
        self.invalid("{ $.a = %x% || $.b = %y% || $.c = %z% }", "more than 2")
        self.invalid("%a% %b% %c%", "more than 2")


class CisPatterns(Case):
    UNAUTHORIZED_V12 = '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}'
    UNAUTHORIZED_V14 = ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || '
                        '($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }')
    UNAUTHORIZED_QUOTED = ('{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && '
                           '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }')
    UNAUTHORIZED_V4 = ('{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && '
                       '($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }')
    AUTH_FAILURES = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    ROOT = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType != "AwsServiceEvent" }')
    CMK = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"
    ROUTES_AUDIT = ("{ ($.eventSource = ec2.amazonaws.com) && ($.eventName = CreateRoute) || "
                    "($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) }")

    ALL = [
        UNAUTHORIZED_V12, UNAUTHORIZED_V14, UNAUTHORIZED_QUOTED, UNAUTHORIZED_V4, AUTH_FAILURES, ROOT, CMK,
        ROUTES_AUDIT,
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||"
        "($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||"
        "($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||"
        "($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||"
        "($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||"
        "($.eventName=DetachGroupPolicy)}",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
        "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) "
        "|| ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = "
        "PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || "
        "($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||"
        "($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||"
        "($.eventName=PutConfigurationRecorder)) }",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
        "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
        "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || "
        "($.eventName = ModifySecurityGroupRules) }",
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = "
        "DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || "
        "($.eventName = ReplaceNetworkAclAssociation) }",
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = "
        "AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = "
        "DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || "
        "($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = "
        "DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || "
        "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || "
        "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || "
        "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = "
        "DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || '
        '($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = '
        '"CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || '
        '($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = '
        '"DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || '
        '($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = '
        '"LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = '
        '"RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = '
        '"UpdateOrganizationalUnit")) }',
    ]

    def test_every_cis_pattern_parses(self):
        for pattern in self.ALL:
            self.assertEqual(fp.compile_pattern(pattern).kind, "json", pattern)

    def test_console_authentication_failures(self):
        failed = trail("ConsoleLogin", eventSource="signin.amazonaws.com", errorMessage="Failed authentication",
                       responseElements={"ConsoleLogin": "Failure"})
        self.match(self.AUTH_FAILURES, failed)
        self.no_match(self.AUTH_FAILURES, trail("ConsoleLogin", responseElements={"ConsoleLogin": "Success"}))
        self.no_match(self.AUTH_FAILURES, trail("ConsoleLogin", errorMessage="Failed authentication."))
        self.no_match(self.AUTH_FAILURES, trail("GetUser", errorMessage="Failed authentication"))

    def test_unauthorized_api_calls_precedence(self):
        # () > && > ||: the exclusions bind to the AccessDenied branch only.
        unauthorized_head = trail("HeadBucket", errorCode="Client.UnauthorizedOperation")
        denied_head = trail("HeadBucket", errorCode="AccessDenied")
        denied_delivery = trail("GetObject", errorCode="AccessDenied",
                                sourceIPAddress="delivery.logs.amazonaws.com")
        denied_get = trail("GetObject", errorCode="AccessDeniedException")
        fine = trail("GetObject")
        for pattern in (self.UNAUTHORIZED_QUOTED, self.UNAUTHORIZED_V4):
            self.match(pattern, unauthorized_head)
            self.match(pattern, denied_get)
            self.no_match(pattern, denied_head)
            self.no_match(pattern, denied_delivery)
            self.no_match(pattern, fine)
        # v1.2: no exclusions.
        for message in (unauthorized_head, denied_head, denied_delivery, denied_get):
            self.match(self.UNAUTHORIZED_V12, message)
        self.no_match(self.UNAUTHORIZED_V12, fine)
        # v1.4-v3.0 with || throughout matches almost every event (the known defect).
        self.match(self.UNAUTHORIZED_V14, fine)

    def test_root_account_usage(self):
        root = {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root"}
        self.match(self.ROOT, trail("ListBuckets", userIdentity=root))
        self.no_match(self.ROOT, trail("ListBuckets", userIdentity={**root, "invokedBy": "s3.amazonaws.com"}))
        self.no_match(self.ROOT, trail("ListBuckets", userIdentity=root, eventType="AwsServiceEvent"))
        self.no_match(self.ROOT, trail("ListBuckets"))

    def test_cmk_nested_parentheses(self):
        for name in ("DisableKey", "ScheduleKeyDeletion"):
            self.match(self.CMK, trail(name, eventSource="kms.amazonaws.com"))
            self.no_match(self.CMK, trail(name, eventSource="iam.amazonaws.com"))
        self.no_match(self.CMK, trail("EnableKey", eventSource="kms.amazonaws.com"))

    def test_route_table_audit_text_binds_the_source_to_the_first_name_only(self):
        self.match(self.ROUTES_AUDIT, trail("CreateRoute", eventSource="ec2.amazonaws.com"))
        self.no_match(self.ROUTES_AUDIT, trail("CreateRoute", eventSource="other.amazonaws.com"))
        self.match(self.ROUTES_AUDIT, trail("ReplaceRoute", eventSource="other.amazonaws.com"))


class NonJsonEvents(Case):
    def test_json_patterns_match_json_objects_only(self):
        for message in ("eventName=ConsoleLogin", "ConsoleLogin", '["ConsoleLogin"]', '"ConsoleLogin"',
                        '{"eventName": "ConsoleLogin"', "{eventName: ConsoleLogin}", "", "null", "42",
                        '{"eventName": "ConsoleLogin", "x": NaN}'):
            self.no_match("{ $.eventName = * }", message)
            self.no_match("{ $.x NOT EXISTS }", message)
        self.match("{ $.eventName = * }", '  {"eventName": "ConsoleLogin"}\n')


class Syntax(Case):
    def test_spacing_and_selectors(self):
        message = event(**{"a-b": {"c_d": [[0, "x"]]}})
        for pattern in ('{$.a-b.c_d[0][1]="x"}', '{   $.a-b.c_d[0][1]   =   "x"   }', ' {$.a-b.c_d[0][1] = x} ',
                        '{ (($.a-b.c_d[0][1] = x)) }', '{ $.a-b.c_d[0][1]   IS   NULL || $.a-b.c_d[0][1] = x }'):
            self.match(pattern, message)

    def test_quoted_strings(self):
        self.match('{ $.a = "with space" }', event(a="with space"))
        self.match('{ $.a = "user@example.com" }', event(a="user@example.com"))
        self.match('{ $.a = "say \\"hi\\"" }', event(a='say "hi"'))
        self.match('{ $.a = "back\\\\slash" }', event(a="back\\slash"))
        self.match('{ $.a = "a && b || (c)" }', event(a="a && b || (c)"))
        self.match('{ $.a = "" }', event(a=""))
        self.no_match('{ $.a = "" }', event(a="x"))

    def test_invalid_patterns(self):
        for pattern, fragment in (
                ("{ }", "empty"), ("{", "end with }"), ("{ $.a = 1 } extra", "end with }"),
                ("{ $.a = 1", "end with }"), ("{ a = 1 }", "selector"), ("{ $ = 1 }", "selector"),
                ("{ $[0] = 1 }", "selector"), ("{ $.a[*] = 1 }", "not supported"),
                ("{ $.a[x] = 1 }", "not supported"), ("{ $.a. = 1 }", "not supported"),
                ("{ $.a == 1 }", "value"), ("{ $.a = }", "missing value"), ("{ $.a 1 }", "operator"),
                ("{ $.a = 1 && }", "selector"), ("{ $.a = 1 || || $.b = 2 }", "selector"),
                ("{ ($.a = 1 }", "missing )"), ("{ $.a = 1) }", "unexpected"), ("{ $.a = 1 $.b = 2 }", "unexpected"),
                ("{ $.a = 1 & $.b = 2 }", "unexpected"), ("{ $.a = 1 and $.b = 2 }", "unexpected"),
                ('{ $.a = "open }', "unterminated"), ("{ $.a = x@y }", "double quotes"),
                ("{ $.a = $x }", "double quotes"), ("{ $.a = café }", "double quotes"),
                ("{ $.a < abc }", "needs a number"), ('{ $.a >= "5" }', "needs a number"),
                ("{ $.a IS NOT NULL }", "operator"), ("{ $.a EXISTS }", "operator"),
                ("{ $.a is null }", "operator"), ("{ $.a IS NULLX }", "operator"),
                ("{ !($.a = 1) }", "selector"), ("ERROR: x", "double quotes"), ('"unterminated', "unterminated"),
                ("ERROR -", "missing")):
            self.invalid(pattern, fragment)

    def test_unsupported_is_not_a_silent_non_match(self):
        for pattern in ("[ip, user, status_code = 4*]", "?ERROR WARN", "{" + "(" * 70 + "$.a = 1" + ")" * 70 + "}"):
            with self.assertRaises(fp.UnsupportedPattern, msg=pattern):
                fp.compile_pattern(pattern)

    def test_long_patterns_stay_fast_and_bounded(self):
        pattern = "{" + " || ".join(f"($.eventName = Name{i})" for i in range(35)) + "}"
        self.assertLessEqual(len(pattern), 1024)
        self.match(pattern, trail("Name34"))
        nested = "{" + "(" * 60 + "$.a = 1" + ")" * 60 + "}"
        self.match(nested, event(a=1))


class TermPatterns(Case):
    def test_documented_examples(self):
        self.match('"ERROR"', "[ERROR] A fatal exception has occurred")
        self.match('"ERROR"', "Exiting with ERRORCODE: -1")
        self.match("ERROR", "Exiting with ERRORCODE: -1")
        self.no_match('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1")
        self.match('"ERROR" - "Exiting"', "[ERROR] A fatal exception has occurred")
        for message in ("[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception"):
            self.match("ERROR Exception", message)
        self.no_match("ERROR Exception", "[ERROR] Unhandled")
        self.match('"Failed to process the request"', "[WARN] Failed to process the request")
        messages = ["ERROR WARN message", "ERROR message", "WARN message"]
        self.assertEqual([fp.matches("ERROR", m) for m in messages], [True, True, False])
        self.assertEqual([fp.matches("?ERROR ?WARN", m) for m in messages], [True, True, True])
        self.assertEqual([fp.matches("ERROR WARN", m) for m in messages], [True, False, False])
        self.assertEqual([fp.matches("ERROR -WARN", m) for m in messages], [False, True, False])
        for message in ("anything", "", "{}"):
            self.match("", message)
            self.match('""', message)

    def test_case_sensitive(self):
        self.no_match("ERROR", "error")


class TestMetricFilterResult(unittest.TestCase):
    def test_shape_and_numbering(self):
        messages = [trail("ConsoleLogin", errorMessage="Failed authentication"), "not json",
                    trail("ConsoleLogin"), trail("ConsoleLogin", errorMessage="Failed authentication")]
        self.assertEqual(fp.test_metric_filter(CisPatterns.AUTH_FAILURES, messages), [
            {"eventNumber": 1, "eventMessage": messages[0], "extractedValues": {}},
            {"eventNumber": 4, "eventMessage": messages[3], "extractedValues": {}}])
        self.assertEqual(fp.test_metric_filter("{ $.nothing = 1 }", messages), [])


if __name__ == "__main__":
    unittest.main()

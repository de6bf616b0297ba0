"""CloudWatch Logs filter patterns, as the emulator's TestMetricFilter evaluates them.

Written only from AWS's documentation, independently of the product's own filter-pattern
engine, so that each checks the other.  Sources (CloudWatch Logs User Guide):

* "Filter pattern syntax for metric filters, subscription filters, filter log events, and
  Live Tail" (FilterAndPatternSyntax.html), section "Using filter patterns to match terms in
  JSON log events" (matching-terms-json-log-events.html) - cited below as [JSON];
* its section "Supported regular expressions (regex) syntax" (regex-expressions.html) -
  cited as [REGEX];
* its section on matching terms in unstructured (non-JSON) log events - cited as [TERMS].

The [JSON] and [TERMS] quotations are from the page's text as published in AWS's
awsdocs/amazon-cloudwatch-logs-user-guide (doc_source/FilterAndPatternSyntax.md, "Matching
Terms in JSON Log Events" / "Matching Terms in Log Events"); the current page rearranges the
same examples.  The [REGEX] quotations are from the current regex section.

Where the documentation is silent the choice made here is said so in a comment ("GUESS");
the product must not rely on a guessed behaviour: it has to be right under every reading.

Public surface:
    compile_pattern(text) -> Pattern          (raises InvalidPattern / UnsupportedPattern)
    Pattern.matches(message) -> bool
    test_metric_filter(text, messages) -> [{"eventNumber", "eventMessage", "extractedValues"}]
    NE_MATCHES_MISSING                        (module switch, see below)
"""

import collections
import decimal
import json
import operator
import re
import warnings

# GUESS - the documentation does not say whether `{ $.field != "x" }` matches an event in
# which `field` is missing or null (it has NOT EXISTS and IS NULL for those).  [JSON] does say
# "The SELECTOR must point to a value node (string or number) in the JSON.  If it points to an
# array or object, the filter will not be applied ... both {$.users = 1} and {$.users != 1}
# will fail to match", i.e. a comparison needs a value node to compare with, and CloudWatch
# Logs users report the same of a missing field (DataBiosphere/azul issue #5884: in the
# console's "Test pattern", `($.errorCode = "AccessDenied") && ($.userIdentity.invokedBy !=
# "cloudfront.amazonaws.com")` gave "no match" for an event without userIdentity.invokedBy).
# So by default `!=` does NOT match a missing or null field.  This is a guess the product must
# not rely on; set True to get the other reading (tests exercise both; emulator.py has
# --ne-matches-missing).
NE_MATCHES_MISSING = False

# [REGEX] "There is a limit of 2 regex for each filter pattern when creating a delimited or
# JSON filter pattern for metric filters and subscription filters or when filtering log
# events or Live Tail."
MAX_REGEXES = 2

# Not documented; deeper nesting is refused as "not emulated" rather than guessed at.
MAX_NESTING = 64


class InvalidPattern(ValueError):
    """The pattern breaks a documented rule: CloudWatch Logs answers InvalidParameterException."""


class UnsupportedPattern(Exception):
    """A pattern CloudWatch Logs may accept that this evaluator does not emulate
    (space-delimited patterns, for one).  Never silently treated as a non-match."""


# --------------------------------------------------------------------------- JSON log events

# A JSON number from a log event: its exact value and its text as written.
JsonNumber = collections.namedtuple("JsonNumber", "value text")
MISSING = object()


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def load_event(message):
    """The log event as a JSON object, or None if it is not one.  A JSON pattern can only
    match JSON log events ([JSON] "Use JSON filter patterns when your logs are structured in
    JSON format"); a message that is not a JSON object (plain text, a JSON array or scalar,
    broken JSON) is never matched by one.  Numbers keep their exact decimal value ("The
    metric filter syntax supports precise matching on numeric comparisons") and their text."""
    try:
        doc = json.loads(message, parse_int=lambda s: JsonNumber(decimal.Decimal(s), s),
                         parse_float=lambda s: JsonNumber(decimal.Decimal(s), s),
                         parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _resolve(doc, path):
    """[JSON] "Property selectors always start with dollar sign ($), which signifies the root
    of the JSON ... Array elements are denoted with [NUMBER] syntax"; "If arrayKey is not an
    array this will be false.  ...  If the items in objectList are not objects or do not have
    an id property, this will be false."  -> the value, or MISSING."""
    current = doc
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return MISSING
        elif not isinstance(current, dict) or step not in current:
            return MISSING
        current = current[step]
    return current


# --------------------------------------------------------------------------- values

class _Text:
    """A string value, quoted or not.  [JSON] STRING: "A string with or without quotes.  You
    can use the asterisk '*' wildcard character to match any text at, before, or after a
    search term.  For example, *Event will match PutEvent and GetEvent.  Event* will match
    EventId and EventName.  Ev*ent will only match the actual string Ev*ent."

    So only a leading and/or a trailing '*' is a wildcard; a '*' anywhere else is a literal
    character.  GUESS (undocumented corners): a run of '*' at an edge counts as one wildcard;
    a wildcard also matches no text at all ("*Event" matches "Event"); a value made only of
    '*' matches any value node (the docs' own `{ $.latency = * }`); a quoted value has the
    same wildcards (the CIS patterns quote "*UnauthorizedOperation")."""

    def __init__(self, text):
        self.text = text
        core = text.strip("*")
        self.anything = text != "" and core == ""  # "" matches only an empty string
        self.leading, self.trailing, self.core = text.startswith("*"), text.endswith("*"), core

    def test(self, value):
        if self.anything:
            return True
        if self.leading and self.trailing:
            return self.core in value
        if self.leading:
            return value.endswith(self.core)
        if self.trailing:
            return value.startswith(self.core)
        return value == self.text

    def __repr__(self):
        return f"_Text({self.text!r})"


# [JSON] NUMBER: "An integer with an optional + or - sign, a decimal with an optional + or -
# sign, or a number in scientific notation, which is an integer or a decimal with an optional
# + or - sign, followed by 'e', followed by an integer with an optional + or - sign."
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")


class _Number:
    def __init__(self, text):
        self.text = text
        self.value = decimal.Decimal(text)

    def __repr__(self):
        return f"_Number({self.text!r})"


# [REGEX] "Filter patterns with regex can only include the following:
#  * Alphanumeric characters - ... a letter (from A to Z or a to z) or a digit (from 0 to 9).
#  * Supported symbol characters - These include: ':', '_', '#', '=', '@', '/', ';', ',', and
#    '-'.  For example, %something!% would be rejected since '!' is not supported.
#  * Supported operators - These include: '^', '$', '?', '[', ']', '{', '}', '|', '\', '*',
#    '+', and '.'.
#  The ( and ) operators are not supported.  You cannot use parentheses to define a
#  subpattern.  Multi-byte characters are not supported."
# GUESS: a space is also accepted although not listed: AWS's own CDK builds
# `%bind: address already in use%` (FilterPattern.regexValue, in its integration test).
REGEX_SYMBOLS = set(":_#=@/;,-") | set("^$?[]{}|\\*+.") | {" "}


class _Regex:
    """`%regex%`.  [REGEX] "You can match terms in your log events using a regex pattern
    surrounded with % ... %AUTHORIZED% ... returns log event messages, such as: [ERROR 401]
    UNAUTHORIZED REQUEST" - so a regex matches anywhere in the text (a search), and '^' / '$'
    anchor it: "%^[hc]at% matches "hat" and "cat", but only at the beginning of a string".
    Python's `re` (ASCII classes) stands in for AWS's engine within the documented subset."""

    def __init__(self, source):
        if source == "":
            raise InvalidPattern("empty regular expression %%")
        for ch in source:
            if ch in "()":
                raise InvalidPattern(f"regex %{source}%: the ( and ) operators are not supported")
            if ord(ch) > 127:
                raise InvalidPattern(f"regex %{source}%: multi-byte characters are not supported")
            if not (ch.isalnum() or ch in REGEX_SYMBOLS):
                raise InvalidPattern(f"regex %{source}%: character {ch!r} is not supported")
        try:
            with warnings.catch_warnings():  # e.g. "possible nested set" on `[[`
                warnings.simplefilter("ignore")
                self.regex = re.compile(source, re.ASCII)
        except re.error as exc:
            raise InvalidPattern(f"regex %{source}%: {exc}") from None
        self.source = source

    def test(self, value):
        return self.regex.search(value) is not None

    def __repr__(self):
        return f"_Regex({self.source!r})"


# --------------------------------------------------------------------------- JSON conditions

NUMERIC_OPS = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
               "<=": operator.le, ">=": operator.ge}


class _Compare:
    """{ SELECTOR EQUALITY-OPERATOR STRING } / { SELECTOR NUMERIC-OPERATOR NUMBER }."""

    def __init__(self, selector, path, op, operand):
        self.selector, self.path, self.op, self.operand = selector, path, op, operand

    def holds(self, doc):
        value = _resolve(doc, self.path)
        if not isinstance(value, (str, JsonNumber)):
            # [JSON] "The SELECTOR must point to a value node (string or number) in the JSON.
            # If it points to an array or object, the filter will not be applied".  GUESS:
            # true/false count as no value node either (IS TRUE / IS FALSE test those).
            if self.op == "!=" and (value is MISSING or value is None):
                return NE_MATCHES_MISSING  # GUESS, see its definition
            return False
        operand = self.operand
        if isinstance(operand, _Number):
            if isinstance(value, JsonNumber):
                return NUMERIC_OPS[self.op](value.value, operand.value)
            # GUESS: a number against a JSON string.  [JSON] "The items in the JSON log event
            # data must exactly match the metric filter", and its example of a condition is
            # "the recipientAccountId is 123456789012" - a string in CloudTrail - so `=` and
            # `!=` compare the string with the number as written ("1" matches `= 1`, "1.0"
            # does not); the ordering operators never match a string.
            if self.op == "=":
                return value == operand.text
            if self.op == "!=":
                return value != operand.text
            return False
        hit = operand.test(value if isinstance(value, str) else value.text)
        return hit if self.op == "=" else not hit

    def __repr__(self):
        return f"({self.selector} {self.op} {self.operand!r})"


class _Postfix:
    """[JSON] "{ $.SomeObject IS NULL } ... This will only be true is the specified object is
    set to null."  "{ $.SomeOtherObject NOT EXISTS } ... This will only be true if specified
    object does not exist in log data."  "{ $.ThisFlag IS TRUE } ... This also works for
    boolean filters which check for FALSE value."  (JSON true/false only, not the strings.)"""

    def __init__(self, selector, path, test):
        self.selector, self.path, self.test = selector, path, test

    def holds(self, doc):
        value = _resolve(doc, self.path)
        if self.test == "NOT EXISTS":
            return value is MISSING
        if self.test == "IS NULL":
            return value is None
        return value is (self.test == "IS TRUE")

    def __repr__(self):
        return f"({self.selector} {self.test})"


class _And:
    def __init__(self, parts):
        self.parts = parts

    def holds(self, doc):
        return all(p.holds(doc) for p in self.parts)

    def __repr__(self):
        return "(" + " && ".join(map(repr, self.parts)) + ")"


class _Or(_And):
    def holds(self, doc):
        return any(p.holds(doc) for p in self.parts)

    def __repr__(self):
        return "(" + " || ".join(map(repr, self.parts)) + ")"


# [JSON] SELECTOR: "Property selectors are alphanumeric strings that also support '-' and '_'
# characters.  Array elements are denoted with [NUMBER] syntax, and must follow a property.
# Examples are: $.eventId, $.users[0], $.users[0].id, $.requestParameters.instanceId."
# (and $.coordinates[0][1] in the compound examples).  Nothing else ($[0], $.a[*], a bare $)
# is documented, so nothing else is accepted.
SELECTOR = re.compile(r"\$((?:\.[A-Za-z0-9_-]+(?:\[[0-9]+\])*)+)")
SELECTOR_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[([0-9]+)\]")
OPERATOR = re.compile(r"!=|<=|>=|=|<|>")
POSTFIX = re.compile(r"(IS\s+NULL|IS\s+TRUE|IS\s+FALSE|NOT\s+EXISTS)(?![A-Za-z0-9_])")
# [JSON] "Strings that consist entirely of alphanumeric characters do not need to be quoted.
# Strings that have unicode and other characters such as '@,' '$,' '\,' etc. must be enclosed
# in double quotes to be valid."  Yet its own examples leave `123.123.*` unquoted, and the CIS
# texts `delivery.logs.amazonaws.com` and `*UnauthorizedOperation`.  GUESS: unquoted values
# may hold letters, digits and _ - . * : / + ; anything else must be quoted.
BARE_VALUE = re.compile(r"[^\s()&|]+")
BARE_OK = re.compile(r"[A-Za-z0-9_.*:/+-]+\Z")


class _JsonParser:
    """Recursive descent over the text between the braces.  [JSON] "You can combine multiple
    conditions into a compound expression using OR (||) and AND (&&).  Parenthesis are
    allowed and the syntax follows standard order of operations () > && > ||." - so
    `A || B && C` is `A || (B && C)`, as the docs' example shows:
    `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch &&
    $.actions[2] = nomatch }` "Matches the JSON above"."""

    def __init__(self, text, offset):
        self.text, self.pos, self.offset, self.regexes = text, 0, offset, 0

    def fail(self, what):
        raise InvalidPattern(f"{what} at position {self.pos + self.offset}")

    def skip(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token):
        self.skip()
        return self.text.startswith(token, self.pos)

    def parse(self):
        self.skip()
        if self.pos == len(self.text):
            self.fail("empty JSON filter pattern")
        tree = self.expression(0)
        self.skip()
        if self.pos != len(self.text):
            self.fail(f"unexpected {self.text[self.pos:self.pos + 10]!r}")
        return tree

    def expression(self, depth):
        parts = [self.conjunction(depth)]
        while self.peek("||"):
            self.pos += 2
            parts.append(self.conjunction(depth))
        return parts[0] if len(parts) == 1 else _Or(parts)

    def conjunction(self, depth):
        parts = [self.term(depth)]
        while self.peek("&&"):
            self.pos += 2
            parts.append(self.term(depth))
        return parts[0] if len(parts) == 1 else _And(parts)

    def term(self, depth):
        if self.peek("("):
            if depth >= MAX_NESTING:
                raise UnsupportedPattern(f"parentheses nested deeper than {MAX_NESTING}")
            self.pos += 1
            inner = self.expression(depth + 1)
            if not self.peek(")"):
                self.fail("missing )")
            self.pos += 1
            return inner
        return self.condition()

    def condition(self):
        self.skip()
        m = SELECTOR.match(self.text, self.pos)
        if not m:
            self.fail("expected a selector such as $.eventName")
        selector, self.pos = m.group(0), m.end()
        if self.pos < len(self.text) and (self.text[self.pos] in "$.[@*" or self.text[self.pos].isalnum()):
            self.fail(f"selector {selector} continues with {self.text[self.pos]!r}, which is not supported")
        path = [name if name else int(index) for name, index in SELECTOR_STEP.findall(m.group(1))]
        self.skip()
        post = POSTFIX.match(self.text, self.pos)
        if post:
            self.pos = post.end()
            return _Postfix(selector, path, " ".join(post.group(1).split()))
        op = OPERATOR.match(self.text, self.pos)
        if not op:
            self.fail(f"expected an operator or IS NULL / IS TRUE / IS FALSE / NOT EXISTS after {selector}")
        op, self.pos = op.group(0), op.end()
        return _Compare(selector, path, op, self.value(op))

    def value(self, op):
        self.skip()
        if self.pos == len(self.text):
            self.fail(f"missing value after {op}")
        ch = self.text[self.pos]
        if ch == '"':
            text, self.pos = read_quoted(self.text, self.pos, self.offset)
            if op not in ("=", "!="):
                self.fail(f"{op} needs a number, not a string")
            return _Text(text)
        if ch == "%":
            end = self.text.find("%", self.pos + 1)
            if end < 0:
                self.fail("unterminated %regex%")
            if op not in ("=", "!="):
                self.fail(f"{op} needs a number, not a regex")
            self.regexes += 1
            if self.regexes > MAX_REGEXES:
                self.fail(f"more than {MAX_REGEXES} regular expressions in one filter pattern")
            source, self.pos = self.text[self.pos + 1:end], end + 1
            return _Regex(source)
        m = BARE_VALUE.match(self.text, self.pos)
        if not m:
            self.fail(f"missing value after {op}")
        token = m.group(0)
        if not BARE_OK.match(token):
            self.fail(f"value {token!r} must be enclosed in double quotes")
        self.pos = m.end()
        if NUMBER.match(token):
            return _Number(token)
        if op not in ("=", "!="):
            self.fail(f"{op} needs a number, not {token!r}")
        return _Text(token)


def read_quoted(text, start, offset=0):
    """A double-quoted string starting at text[start] -> (content, position after it).
    GUESS (undocumented): backslash escapes a double quote or a backslash, as AWS's CDK writes
    them (FilterPattern quoteTerm); any other backslash is kept as it is."""
    out, pos = [], start + 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text) and text[pos + 1] in '"\\':
            out.append(text[pos + 1])
            pos += 2
        elif ch == '"':
            return "".join(out), pos + 1
        else:
            out.append(ch)
            pos += 1
    raise InvalidPattern(f"unterminated quoted string at position {start + offset}")


# --------------------------------------------------------------------------- term patterns

class _Terms:
    """[TERMS], for completeness (JSON patterns are what the emulator is for).
    "You can specify multiple terms in a metric filter pattern, but all terms must appear in
    a log event for there to be a match.  Metric filters are case sensitive."  "Metric filter
    terms that include characters other than alphanumeric or underscore must be placed inside
    double quotes."  "To exclude a term, use a minus sign (-) before the term."  "Use a
    question mark for OR, such as ?term ... ?ERROR ?WARN matches ... either the word ERROR or
    the word WARN"; "The filter pattern "ERROR" matches ... Exiting with ERRORCODE: -1"
    (a term matches anywhere in the message); "" matches all log events."""

    def __init__(self, required, excluded, optional):
        self.required, self.excluded, self.optional = required, excluded, optional

    def matches(self, message):
        def found(term):
            return term.test_in(message)
        return (all(found(t) for t in self.required) and not any(found(t) for t in self.excluded)
                and (not self.optional or any(found(t) for t in self.optional)))


class _Phrase:
    def __init__(self, text):
        self.text = text

    def test_in(self, message):
        return self.text in message


def _regex_term(source):
    term = _Regex(source)
    term.test_in = term.test
    return term


BARE_TERM = re.compile(r"\S+")
BARE_TERM_OK = re.compile(r"[A-Za-z0-9_]+\Z")


def _parse_terms(text):
    required, excluded, optional, regexes, pos = [], [], [], 0, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            break
        bucket = required
        if text[pos] == "?":
            bucket, pos = optional, pos + 1
        elif text[pos] == "-":
            bucket, pos = excluded, pos + 1
            while pos < len(text) and text[pos].isspace():  # the docs write `"ERROR" - "Exiting"`
                pos += 1
        if pos == len(text):
            raise InvalidPattern("a term is missing at the end of the pattern")
        if text[pos] == '"':
            term, pos = read_quoted(text, pos)
            bucket.append(_Phrase(term))
        elif text[pos] == "%":
            end = text.find("%", pos + 1)
            if end < 0:
                raise InvalidPattern(f"unterminated %regex% at position {pos}")
            regexes += 1
            if regexes > MAX_REGEXES:
                raise InvalidPattern(f"more than {MAX_REGEXES} regular expressions in one filter pattern")
            bucket.append(_regex_term(text[pos + 1:end]))
            pos = end + 1
        else:
            m = BARE_TERM.match(text, pos)
            if not BARE_TERM_OK.match(m.group(0)):
                raise InvalidPattern(f"term {m.group(0)!r} must be enclosed in double quotes")
            bucket.append(_Phrase(m.group(0)))
            pos = m.end()
        if pos < len(text) and not text[pos].isspace():
            raise InvalidPattern(f"unexpected {text[pos:pos + 10]!r} at position {pos}")
    if optional and (required or excluded):
        # Not documented what ?term means next to plain or -terms: not emulated.
        raise UnsupportedPattern("?term mixed with other terms")
    return _Terms(required, excluded, optional)


# --------------------------------------------------------------------------- entry points

class Pattern:
    """A compiled filter pattern: kind is "json" or "terms"."""

    def __init__(self, text, kind, tree):
        self.text, self.kind, self.tree = text, kind, tree

    def matches(self, message):
        if self.kind == "json":
            doc = load_event(message)
            return doc is not None and self.tree.holds(doc)
        return self.tree.matches(message)

    def __repr__(self):
        return f"Pattern({self.kind}, {self.tree!r})"


def compile_pattern(text):
    """Parse a filter pattern.  Raises InvalidPattern for what CloudWatch Logs rejects and
    UnsupportedPattern for what it accepts but this evaluator does not emulate."""
    stripped = text.strip()
    if stripped.startswith("{"):
        # [JSON] "The metric filter must be enclosed in curly braces { }, to indicate this is
        # a JSON expression."
        if not stripped.endswith("}") or len(stripped) < 2:
            raise InvalidPattern("a JSON filter pattern must end with }")
        offset = len(text) - len(text.lstrip()) + 1
        return Pattern(text, "json", _JsonParser(stripped[1:-1], offset).parse())
    if stripped.startswith("["):
        raise UnsupportedPattern("space-delimited filter patterns are not emulated")
    return Pattern(text, "terms", _parse_terms(stripped))


def matches(pattern, message):
    return compile_pattern(pattern).matches(message)


def test_metric_filter(pattern, messages):
    """TestMetricFilter's `matches`: one entry per matching message, numbered from 1 in the
    order given.  extractedValues is always empty: "If you are not using a space-delimited
    filter, this will be empty" (and space-delimited filters are not emulated)."""
    compiled = compile_pattern(pattern)
    return [{"eventNumber": n, "eventMessage": message, "extractedValues": {}}
            for n, message in enumerate(messages, 1) if compiled.matches(message)]


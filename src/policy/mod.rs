//! Sound evaluation of AWS resource policies for one request by CloudWatch Alarms.
//!
//! An alarm's SNS notification is dropped silently when the topic's access
//! policy does not let CloudWatch publish, or when the topic's KMS key policy
//! does not let CloudWatch use the key. [`evaluate`] judges a policy document
//! for one [`Request`] and answers [`Verdict::Allowed`] only when AWS's policy
//! evaluation logic (an explicit Deny wins; otherwise some Allow must match;
//! otherwise implicit deny) provably allows every requested action. Whatever
//! cannot be decided from the document and the request's known context makes
//! the answer [`Verdict::Unverified`], never `Allowed`.
//!
//! # Semantics
//!
//! Each statement is judged per action as *applies*, *does not apply* or
//! *unknown*: the tri-state AND of its principal, action, resource and
//! condition (any "does not apply" wins, then any "unknown").
//!
//! - **Principal.** The caller has the identity `request.service`; whether it
//!   also has the identity of `request.account` is `request.account_identity`
//!   ([`AccountIdentity`]: carried, not carried, or unknown). `Principal`
//!   applies if it lists one of the caller's identities: `"*"` and
//!   `{"AWS": "*"}` list everyone; `{"Service": s}` lists `s` (exact; a
//!   spelling differing only in case, or a wildcard, is unknown);
//!   `{"AWS": acct}` or `arn:<partition>:iam::<acct>:root` lists the account;
//!   other AWS principals, `Federated` and `CanonicalUser` list neither;
//!   unknown principal types are unknown. A `Principal` that lists the account
//!   but not the service applies when the account identity is carried, does
//!   not when it is not, and is unknown when that is unknown. `NotPrincipal`
//!   applies if it omits the service (and `"*"`); unless the account identity
//!   is surely not carried, if it lists exactly one of the service and the
//!   account the answer is unknown (AWS applies `NotPrincipal` unless it lists
//!   *every* identity of the caller, and whether the account is one of them is
//!   an assumption). A statement with neither element is unknown.
//! - **Action / NotAction.** Case-insensitive IAM wildcards (`*` any run,
//!   `?` one character).
//! - **Resource / NotResource.** Case-sensitive wildcards. `"*"` matches
//!   everything. For other patterns, IAM documents that a wildcard does not
//!   span the colon-separated ARN segments; when the answer depends on that
//!   rule it is unknown. Policy variables (`${...}`) are unknown. A statement
//!   with neither element is unknown: AWS rejects such documents at write
//!   time, so there is no AWS answer to reproduce, and "unknown" is the one
//!   choice that is safe for both Allow and Deny.
//! - **Condition.** Operators AND, keys AND, values OR — except the negated
//!   operators (`StringNotEquals`, `StringNotEqualsIgnoreCase`,
//!   `StringNotLike`, `ArnNotEquals`, `ArnNotLike`), which hold when *no*
//!   value matches (AWS's documented rule). A key is only evaluated when the
//!   request's `context` gives its value (names compared case-insensitively);
//!   any other key is unknown, because we do not know which keys AWS sets for
//!   CloudWatch's request. `Arn*` operators compare the six ARN segments with
//!   per-segment wildcards (`ArnEquals` = `ArnLike`), unknown when that differs
//!   from whole-string matching; `String*Like` use wildcards; an `IfExists`
//!   suffix changes nothing for a known key. `Null` on a known key holds for
//!   `"false"`. `ForAnyValue:`/`ForAllValues:`, `Bool`, `Numeric*`, `Date*`,
//!   `IpAddress`, `Binary*` and unrecognised operators are unknown, as are
//!   values containing policy variables. Booleans and numbers compare by
//!   their JSON text.
//! - **Document.** `Statement` is an object or an array (an empty array
//!   allows nothing); other top-level elements (`Version`, `Id`) are ignored.
//! - **Statement elements** other than the nine IAM ones make the statement
//!   unknown. Element names match case-insensitively; two spellings of one
//!   element, or a duplicated JSON key anywhere, is a [`PolicyError`]
//!   (which copy AWS would read is not known).
//!
//! # Verdict, in order of precedence
//!
//! 1. [`Verdict::Denied`]: some Deny statement applies to some action (the
//!    first such statement in document order, with the first such action).
//! 2. [`Verdict::NotAllowed`]: for some action (the first in request order)
//!    every Allow statement provably does not apply.
//! 3. [`Verdict::Unverified`]: some Deny statement is unknown for some action
//!    (the first in document order); otherwise, for the first action with no
//!    applying Allow, its first unknown Allow.
//! 4. [`Verdict::Allowed`]: every action has an applying Allow and no Deny
//!    applies or is unknown for any action.
//!
//! `Denied` and `NotAllowed` come before `Unverified` because each is a proof
//! that the notification is not delivered, whatever the unknowns turn out to
//! be; a proof is more useful to report than "cannot tell".

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

/// Who is asking: a service (CloudWatch Alarms) acting for the alarm's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The service principal, e.g. `cloudwatch.amazonaws.com`.
    pub service: &'a str,
    /// The alarm's (and the resource owner's) 12-digit account id.
    pub account: &'a str,
    /// The ARN partition, e.g. `aws`.
    pub partition: &'a str,
    /// Every action must be allowed, e.g. `["SNS:Publish"]` or
    /// `["kms:Decrypt", "kms:GenerateDataKey"]`.
    pub actions: &'a [&'a str],
    /// The topic ARN or key ARN.
    pub resource: &'a str,
    /// Condition keys whose value is *known* for this request, e.g.
    /// `("aws:SourceArn", alarm_arn)`. Pass only keys AWS is sure to set to
    /// that value: every other key is treated as unknown.
    pub context: &'a [(&'a str, &'a str)],
    /// Whether the request also carries the identity of `account`, so that a
    /// principal naming only the account covers it.
    pub account_identity: AccountIdentity,
}

/// Whether a request by a service principal also carries its account's identity, which a
/// principal naming the account (`{"AWS": "<acct>"}` or `arn:<partition>:iam::<acct>:root`)
/// lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountIdentity {
    /// It does: a statement naming the account covers the request.
    Carried,
    /// It does not: a statement naming only the account never covers it. Key policies,
    /// where the account principal only delegates to IAM, and IAM cannot grant anything to
    /// a service principal.
    NotCarried,
    /// Not known: a statement that covers the request only through the account is unknown,
    /// Allow or Deny. Topic policies: AWS documents CloudWatch Alarms publishing as
    /// `cloudwatch.amazonaws.com` (with `aws:SourceArn` / `aws:SourceAccount`), not whether
    /// an Allow for the account's root lets it publish.
    Unknown,
}

/// What a policy provably says about a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Every action is provably allowed.
    Allowed,
    /// An explicit Deny provably applies to `action`.
    Denied { statement: String, action: String },
    /// Provably no Allow matches `action` (implicit deny).
    NotAllowed { action: String },
    /// Cannot be proven either way; `reason` says what is unknown and what
    /// would prove it.
    Unverified { statement: String, reason: String },
}

impl Verdict {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Allowed => f.write_str("allowed"),
            Verdict::Denied { statement, action } => {
                write!(f, "denied: {statement} explicitly denies {action}")
            }
            Verdict::NotAllowed { action } => {
                write!(f, "not allowed: no statement allows {action}")
            }
            Verdict::Unverified { statement, reason } => {
                write!(f, "unverified: {statement}: {reason}")
            }
        }
    }
}

/// Why a document could not be judged at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy is not valid JSON: {0}")]
    NotJson(String),
    #[error("policy is not a JSON object")]
    NotAnObject,
    #[error("policy has no Statement element")]
    NoStatement,
    #[error("policy {at}: {problem}")]
    Malformed { at: String, problem: String },
    #[error("the request names no action to check")]
    NoAction,
}

fn malformed(at: &str, problem: impl Into<String>) -> PolicyError {
    PolicyError::Malformed {
        at: at.to_string(),
        problem: problem.into(),
    }
}

/// Judges `policy_json` (an SNS topic policy or a KMS key policy) for `request`.
pub fn evaluate(policy_json: &str, request: &Request) -> Result<Verdict, PolicyError> {
    if request.actions.is_empty() {
        return Err(PolicyError::NoAction);
    }
    let Strict(document) =
        serde_json::from_str(policy_json).map_err(|e| PolicyError::NotJson(e.to_string()))?;
    let top = document.as_object().ok_or(PolicyError::NotAnObject)?;
    let statements = match element(top, "Statement", "document")? {
        None => return Err(PolicyError::NoStatement),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(other) => {
            return Err(malformed(
                "Statement",
                format!("expected an object or an array, found {}", kind(other)),
            ))
        }
    };
    let judged = statements
        .iter()
        .enumerate()
        .map(|(index, statement)| judge(index, statement, request))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(verdict(&judged, request))
}

/// Combines per-statement judgments as documented in the module header.
fn verdict(judged: &[Judged], request: &Request) -> Verdict {
    let denies = || judged.iter().filter(|j| !j.allow);
    let allows = || judged.iter().filter(|j| j.allow);
    let actions = || request.actions.iter().enumerate();

    for deny in denies() {
        for (i, action) in actions() {
            if matches!(deny.for_action.get(i), Some(Tri::Yes)) {
                return Verdict::Denied {
                    statement: deny.label.clone(),
                    action: (*action).to_string(),
                };
            }
        }
    }
    for (i, action) in actions() {
        if allows().all(|a| matches!(a.for_action.get(i), Some(Tri::No))) {
            return Verdict::NotAllowed {
                action: (*action).to_string(),
            };
        }
    }
    for deny in denies() {
        for (i, action) in actions() {
            if let Some(Tri::Unknown(why)) = deny.for_action.get(i) {
                return Verdict::Unverified {
                    statement: deny.label.clone(),
                    reason: format!(
                        "{why}; so this Deny may forbid {action}, and only a Deny that provably \
                         excludes the request would prove delivery"
                    ),
                };
            }
        }
    }
    for (i, action) in actions() {
        if allows().any(|a| matches!(a.for_action.get(i), Some(Tri::Yes))) {
            continue;
        }
        if let Some((allow, why)) = allows().find_map(|a| match a.for_action.get(i) {
            Some(Tri::Unknown(why)) => Some((a, why)),
            _ => None,
        }) {
            return Verdict::Unverified {
                statement: allow.label.clone(),
                reason: format!(
                    "{why}; so this Allow may not grant {action}, and no other statement does \
                     (an Allow for {} without this uncertainty would prove it)",
                    request.service
                ),
            };
        }
        // Unreachable in practice: every Allow is then `No`, caught above. Be
        // conservative anyway.
        return Verdict::NotAllowed {
            action: (*action).to_string(),
        };
    }
    Verdict::Allowed
}

/// Tri-state applicability.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    /// Cannot be decided; says what is unknown.
    Unknown(String),
}

impl Tri {
    fn from_bool(b: bool) -> Tri {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    fn not(self) -> Tri {
        match self {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            unknown @ Tri::Unknown(_) => unknown,
        }
    }
}

/// Tri-state OR: any Yes wins, then the first Unknown, else No.
fn any(items: impl IntoIterator<Item = Tri>) -> Tri {
    let mut unknown = None;
    for item in items {
        match item {
            Tri::Yes => return Tri::Yes,
            Tri::No => {}
            Tri::Unknown(why) => {
                unknown.get_or_insert(why);
            }
        }
    }
    unknown.map_or(Tri::No, Tri::Unknown)
}

/// Tri-state AND: any No wins, then the first Unknown, else Yes.
fn all(items: impl IntoIterator<Item = Tri>) -> Tri {
    any(items.into_iter().map(Tri::not)).not()
}

/// One statement, judged for each of the request's actions (same order).
struct Judged {
    label: String,
    allow: bool,
    for_action: Vec<Tri>,
}

const ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn judge(index: usize, value: &Value, request: &Request) -> Result<Judged, PolicyError> {
    let numbered = format!("statement {}", index.saturating_add(1));
    let obj = value.as_object().ok_or_else(|| {
        malformed(
            &numbered,
            format!("expected an object, found {}", kind(value)),
        )
    })?;
    let label = match element(obj, "Sid", &numbered)? {
        None => numbered,
        Some(Value::String(sid)) if sid.is_empty() => numbered,
        Some(Value::String(sid)) => sid.clone(),
        Some(other) => {
            return Err(malformed(
                &format!("{numbered} Sid"),
                format!("expected a string, found {}", kind(other)),
            ))
        }
    };
    let at = |name: &str| format!("{label} {name}");

    let allow = match element(obj, "Effect", &label)? {
        Some(Value::String(s)) if s == "Allow" => true,
        Some(Value::String(s)) if s == "Deny" => false,
        Some(other) => {
            return Err(malformed(
                &at("Effect"),
                format!("expected \"Allow\" or \"Deny\", found {other}"),
            ))
        }
        None => return Err(malformed(&label, "no Effect")),
    };

    let principal = match pair(obj, "Principal", "NotPrincipal", &label)? {
        None => Tri::Unknown(format!(
            "{label} has no Principal (a resource policy statement needs one), so whom it \
             covers is unknown"
        )),
        Some((false, v)) => principal(v, request, &at("Principal"))?,
        Some((true, v)) => not_principal(v, request, &at("NotPrincipal"))?,
    };

    let (negated_action, patterns) = match pair(obj, "Action", "NotAction", &label)? {
        None => return Err(malformed(&label, "no Action or NotAction")),
        Some((negated, v)) => {
            let name = if negated { "NotAction" } else { "Action" };
            (negated, strings(v, &at(name))?)
        }
    };

    let resource = match pair(obj, "Resource", "NotResource", &label)? {
        None => Tri::Unknown(format!(
            "{label} has no Resource or NotResource (AWS requires one), so what it covers is \
             unknown"
        )),
        Some((negated, v)) => {
            let name = if negated { "NotResource" } else { "Resource" };
            let listed = any(strings(v, &at(name))?
                .into_iter()
                .map(|p| resource_matches(p, request.resource)));
            if negated {
                listed.not()
            } else {
                listed
            }
        }
    };

    let condition = match element(obj, "Condition", &label)? {
        None => Tri::Yes,
        Some(v) => condition(v, request, &at("Condition"))?,
    };

    let extra = any(obj
        .keys()
        .filter(|k| !ELEMENTS.iter().any(|e| e.eq_ignore_ascii_case(k)))
        .map(|k| {
            Tri::Unknown(format!(
                "{label} has element {k:?}, which is not an IAM policy element"
            ))
        }));
    let extra = match extra {
        Tri::Unknown(why) => Tri::Unknown(why),
        _ => Tri::Yes,
    };

    let common = all([principal, resource, condition, extra]);
    let for_action = request
        .actions
        .iter()
        .map(|action| {
            let listed = patterns.iter().any(|p| action_matches(p, action));
            let action = Tri::from_bool(listed != negated_action);
            all([action, common.clone()])
        })
        .collect();
    Ok(Judged {
        label,
        allow,
        for_action,
    })
}

/// The value of element `name`, matched case-insensitively. Two spellings of
/// one element are an error: which one AWS would read is unknown.
fn element<'v>(
    obj: &'v Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<&'v Value>, PolicyError> {
    let mut found = obj.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
    let first = found.next();
    if let Some((other, _)) = found.next() {
        return Err(malformed(
            at,
            format!("element {name} is given twice (as {other:?} and another spelling)"),
        ));
    }
    Ok(first.map(|(_, v)| v))
}

/// The element `positive` or `negative` (with `true` for the latter), never both.
fn pair<'v>(
    obj: &'v Map<String, Value>,
    positive: &str,
    negative: &str,
    at: &str,
) -> Result<Option<(bool, &'v Value)>, PolicyError> {
    match (element(obj, positive, at)?, element(obj, negative, at)?) {
        (Some(_), Some(_)) => Err(malformed(at, format!("has both {positive} and {negative}"))),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

/// A string, or a non-empty array of strings.
fn strings<'v>(value: &'v Value, at: &str) -> Result<Vec<&'v str>, PolicyError> {
    let out = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| malformed(at, format!("expected strings, found {}", kind(item))))
            })
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(malformed(
                at,
                format!(
                    "expected a string or an array of strings, found {}",
                    kind(other)
                ),
            ))
        }
    };
    if out.is_empty() {
        return Err(malformed(at, "is an empty array"));
    }
    Ok(out)
}

/// "a string", "an array", …: what a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------- principals

/// Whether a principal element lists each identity of the caller: the service,
/// and the account (meaningful unless the account identity is not carried).
struct Listing {
    service: Tri,
    account: Tri,
}

fn listing(value: &Value, request: &Request, at: &str) -> Result<Listing, PolicyError> {
    let map = match value {
        Value::String(s) if s == "*" => {
            return Ok(Listing {
                service: Tri::Yes,
                account: Tri::Yes,
            })
        }
        Value::String(s) => {
            let why = format!("{at} is the string {s:?}; only \"*\" is meaningful there");
            return Ok(Listing {
                service: Tri::Unknown(why.clone()),
                account: Tri::Unknown(why),
            });
        }
        Value::Object(map) => map,
        other => {
            return Err(malformed(
                at,
                format!("expected \"*\" or an object, found {}", kind(other)),
            ))
        }
    };
    if map.is_empty() {
        let why = format!("{at} is an empty object, so whom it names is unknown");
        return Ok(Listing {
            service: Tri::Unknown(why.clone()),
            account: Tri::Unknown(why),
        });
    }
    let (mut service, mut account) = (Vec::new(), Vec::new());
    for (kind_name, names) in map {
        let names = strings(names, &format!("{at} {kind_name}"))?;
        for name in names {
            let (s, a) = if kind_name == "AWS" {
                if name == "*" {
                    (Tri::Yes, Tri::Yes)
                } else {
                    (Tri::No, aws_names_account(name, request, at))
                }
            } else if kind_name == "Service" {
                (service_matches(name, request.service, at), Tri::No)
            } else if kind_name == "Federated" || kind_name == "CanonicalUser" {
                (Tri::No, Tri::No)
            } else {
                let why = format!("{at} has principal type {kind_name:?}, which is not understood");
                (Tri::Unknown(why.clone()), Tri::Unknown(why))
            };
            service.push(s);
            account.push(a);
        }
    }
    Ok(Listing {
        service: any(service),
        account: any(account),
    })
}

fn principal(value: &Value, request: &Request, at: &str) -> Result<Tri, PolicyError> {
    let listing = listing(value, request, at)?;
    Ok(match request.account_identity {
        AccountIdentity::Carried => any([listing.service, listing.account]),
        AccountIdentity::NotCarried => listing.service,
        AccountIdentity::Unknown => {
            let account = match listing.account {
                Tri::Yes => Tri::Unknown(format!(
                    "{at} names account {} but not {}, and whether {}'s request carries the \
                     account's identity is not documented",
                    request.account, request.service, request.service
                )),
                other => other,
            };
            any([listing.service, account])
        }
    })
}

/// AWS applies `NotPrincipal` unless it lists every identity of the caller. The
/// service is surely one; the account is one only by assumption, so when the
/// answer depends on it, it is unknown.
fn not_principal(value: &Value, request: &Request, at: &str) -> Result<Tri, PolicyError> {
    let listing = listing(value, request, at)?;
    let service_omitted = listing.service.not();
    if request.account_identity == AccountIdentity::NotCarried || service_omitted == Tri::Yes {
        return Ok(service_omitted);
    }
    Ok(match (service_omitted, listing.account.not()) {
        (Tri::No, Tri::No) => Tri::No,
        (Tri::Unknown(why), _) | (_, Tri::Unknown(why)) => Tri::Unknown(why),
        _ => Tri::Unknown(format!(
            "{at} exempts only one of {} and account {}; whether it exempts the request \
             depends on whether the request also carries the account's identity",
            request.service, request.account
        )),
    })
}

fn service_matches(name: &str, service: &str, at: &str) -> Tri {
    if name == service {
        Tri::Yes
    } else if name.eq_ignore_ascii_case(service) {
        Tri::Unknown(format!(
            "{at} names {name:?}, which differs from {service:?} only in case"
        ))
    } else if has_wildcard(name) {
        Tri::Unknown(format!(
            "{at} names {name:?}; AWS principals do not support wildcards"
        ))
    } else {
        Tri::No
    }
}

fn aws_names_account(name: &str, request: &Request, at: &str) -> Tri {
    let root = format!("arn:{}:iam::{}:root", request.partition, request.account);
    if name == request.account || name == root {
        Tri::Yes
    } else if name.eq_ignore_ascii_case(request.account) || name.eq_ignore_ascii_case(&root) {
        Tri::Unknown(format!(
            "{at} names {name:?}, which differs from {root:?} only in case"
        ))
    } else if has_wildcard(name) {
        Tri::Unknown(format!(
            "{at} names {name:?}; AWS principals do not support wildcards"
        ))
    } else {
        Tri::No
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn has_variable(s: &str) -> bool {
    s.contains("${")
}

// ------------------------------------------------------ actions and resources

fn action_matches(pattern: &str, action: &str) -> bool {
    glob(&pattern.to_lowercase(), &action.to_lowercase())
}

fn resource_matches(pattern: &str, resource: &str) -> Tri {
    if pattern == "*" {
        Tri::Yes
    } else if has_variable(pattern) {
        Tri::Unknown(format!("Resource {pattern:?} contains a policy variable"))
    } else {
        arn_matches(pattern, resource, "Resource")
    }
}

/// IAM matches ARNs segment by segment (a wildcard does not span a colon
/// among the first five); when that differs from matching the whole string,
/// the answer is unknown, so neither reading can make a proof wrong.
fn arn_matches(pattern: &str, arn: &str, what: &str) -> Tri {
    let whole = glob(pattern, arn);
    let by_segment = match (arn_segments(pattern), arn_segments(arn)) {
        (Some(p), Some(a)) => p.iter().zip(a.iter()).all(|(p, a)| glob(p, a)),
        _ => false,
    };
    if whole == by_segment {
        Tri::from_bool(whole)
    } else {
        Tri::Unknown(format!(
            "{what} {pattern:?} matches {arn:?} only if a wildcard may span ARN segments"
        ))
    }
}

/// The six colon-separated parts of an ARN (the last keeps its colons).
fn arn_segments(arn: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6).then_some(parts)
}

/// IAM wildcard matching: `*` is any run of characters (possibly empty), `?`
/// exactly one, everything else literal. One backtrack point suffices: on a
/// mismatch, the latest `*` absorbs one more character.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some('*') => {
                p += 1;
                backtrack = Some((p, t));
            }
            Some(&q) if q == '?' || q == c => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((bp, bt)) => {
                    p = bp;
                    t = bt + 1;
                    backtrack = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

// ---------------------------------------------------------------- conditions

/// The string operators this module evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equals,
    EqualsIgnoreCase,
    Like,
    Arn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// Holds if some value matches; if `negated`, if none does.
    Match {
        compare: Compare,
        negated: bool,
    },
    Null,
}

/// The operator named `name` (an `IfExists` suffix changes nothing for a key
/// whose value is known, and every other key is unknown anyway).
fn operator(name: &str) -> Option<Operator> {
    let base = name.strip_suffix("IfExists").unwrap_or(name);
    let (compare, negated) = match base {
        "StringEquals" => (Compare::Equals, false),
        "StringNotEquals" => (Compare::Equals, true),
        "StringEqualsIgnoreCase" => (Compare::EqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Compare::EqualsIgnoreCase, true),
        "StringLike" => (Compare::Like, false),
        "StringNotLike" => (Compare::Like, true),
        "ArnEquals" | "ArnLike" => (Compare::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Compare::Arn, true),
        "Null" if base == name => return Some(Operator::Null),
        _ => return None,
    };
    Some(Operator::Match { compare, negated })
}

fn condition(value: &Value, request: &Request, at: &str) -> Result<Tri, PolicyError> {
    let operators = value
        .as_object()
        .ok_or_else(|| malformed(at, format!("expected an object, found {}", kind(value))))?;
    let mut results = Vec::new();
    for (name, block) in operators {
        let here = format!("{at} {name}");
        let keys = block.as_object().ok_or_else(|| {
            malformed(&here, format!("expected an object, found {}", kind(block)))
        })?;
        for (key, values) in keys {
            let values = condition_values(values, &format!("{here} {key}"))?;
            results.push(clause(name, key, &values, request));
        }
    }
    Ok(all(results))
}

/// One `operator: {key: values}` entry.
fn clause(name: &str, key: &str, values: &[String], request: &Request) -> Tri {
    let Some(op) = operator(name) else {
        return Tri::Unknown(format!(
            "condition {name} on {key} is not supported, so it cannot be evaluated from the \
             policy alone"
        ));
    };
    let known = request
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v);
    let Some(actual) = known else {
        return Tri::Unknown(format!(
            "condition {name} on {key} cannot be evaluated from the policy alone: the value of \
             {key} for the request is not known"
        ));
    };
    if values.is_empty() {
        return Tri::Unknown(format!("condition {name} on {key} lists no values"));
    }
    match op {
        Operator::Null => any(values.iter().map(|v| match v.as_str() {
            // The key is present, so `Null: false` holds and `Null: true` does not.
            "false" => Tri::Yes,
            "true" => Tri::No,
            other => Tri::Unknown(format!(
                "condition Null on {key} has value {other:?}, not \"true\" or \"false\""
            )),
        })),
        Operator::Match { compare, negated } => {
            let matched = any(values.iter().map(|v| {
                if has_variable(v) {
                    return Tri::Unknown(format!(
                        "condition {name} on {key} has value {v:?}, which contains a policy \
                         variable"
                    ));
                }
                match compare {
                    Compare::Equals => Tri::from_bool(v == actual),
                    Compare::EqualsIgnoreCase => {
                        Tri::from_bool(v.to_lowercase() == actual.to_lowercase())
                    }
                    Compare::Like => Tri::from_bool(glob(v, actual)),
                    Compare::Arn => arn_matches(v, actual, &format!("condition {name} {key}")),
                }
            }));
            if negated {
                matched.not()
            } else {
                matched
            }
        }
    }
}

/// A condition value: a string, boolean or number (by its JSON text), or an
/// array of them.
fn condition_values(value: &Value, at: &str) -> Result<Vec<String>, PolicyError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(malformed(
            at,
            format!(
                "expected a string, boolean or number, found {}",
                kind(other)
            ),
        )),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

// ------------------------------------------------------------- strict parsing

/// A JSON value parsed with duplicate object keys rejected: serde_json keeps
/// the last copy, AWS may read another, so a duplicate could flip a verdict.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Strict(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Strict, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let Strict(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Strict(Value::Object(map)))
    }
}

//! Property tests: verdicts are sound against an independent concrete
//! evaluator over sampled worlds, and no input makes `evaluate` panic.
//!
//! A *world* fixes everything [`evaluate`] does not know: a value (or
//! absence) for every condition key outside the request's context, and an
//! answer for each rule whose AWS reading is uncertain (wildcards spanning
//! ARN segments, principals differing in case, wildcard principals, unknown
//! principal types and operators, policy variables, whether a `NotPrincipal`
//! sees the account identity). The reference evaluator below decides a
//! request concretely in one world, with code that shares nothing with the
//! module under test; a proven verdict must agree with it in every world.

use std::collections::{BTreeMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};

use super::{evaluate, AccountIdentity, Request, Verdict};

const SERVICE: &str = "cloudwatch.amazonaws.com";
const ACCOUNT: &str = "111122223333";
const ROOT: &str = "arn:aws:iam::111122223333:root";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:alarms";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/k1";
const ALARM: &str = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu";
const ALARM_EU: &str = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cpu";

/// (principal type, name) pairs a `Principal` map is built from.
const PRINCIPALS: &[(&str, &str)] = &[
    ("AWS", "*"),
    ("AWS", ACCOUNT),
    ("AWS", ROOT),
    ("AWS", "arn:aws:iam::111122223333:role/x"),
    ("AWS", "444455556666"),
    ("AWS", "arn:aws-cn:iam::111122223333:root"),
    ("AWS", "ARN:AWS:IAM::111122223333:ROOT"),
    ("AWS", "arn:aws:iam::*:root"),
    ("Service", SERVICE),
    ("Service", SERVICE),
    ("Service", "events.amazonaws.com"),
    ("Service", "CloudWatch.amazonaws.com"),
    ("Service", "*"),
    ("Federated", "cognito-identity.amazonaws.com"),
    ("Mystery", SERVICE),
];

const ACTIONS: &[&str] = &[
    "SNS:Publish",
    "sns:publish",
    "sns:*",
    "SNS:Pub*",
    "SNS:Pu?lish",
    "*",
    "SNS:Subscribe",
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:*",
    "KMS:DECRYPT",
    "s*:p*",
    "kms:Generate?ataKey",
    "SNS:P?blish?",
    "SNS:P?lish",
    "kms:Decrypt?",
];

const RESOURCES: &[&str] = &[
    "*",
    TOPIC,
    KEY,
    "arn:aws:sns:us-east-1:111122223333:*",
    "arn:aws:sns:*:111122223333:alarms",
    "arn:aws:sns:us-east-1:444455556666:alarms",
    "arn:*:alarms",
    "arn:aws:sns:us-east-1:111122223333:alarm?",
    "arn:aws:sns:us-east-1:111122223333:alarms?",
    "arn:aws:sns:us-east-1:111122223333:al?s",
    "arn:aws:kms:us-east-1:111122223333:key/*",
    "arn:aws:sns:us-east-1:${aws:PrincipalAccount}:alarms",
    "ARN:aws:sns:us-east-1:111122223333:alarms",
];

const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "StringLikeIfExists",
    "ArnLikeIfExists",
    "ArnNotLikeIfExists",
    "Null",
    "NullIfExists",
    "Bool",
    "NumericEquals",
    "ForAnyValue:StringEquals",
    "stringequals",
];

const CONDITION_KEYS: &[&str] = &[
    "aws:SourceArn",
    "AWS:SOURCEARN",
    "aws:SourceAccount",
    "aws:sourceowner",
    "aws:PrincipalOrgID",
    "kms:ViaService",
];

fn condition_values() -> Vec<Value> {
    let strings = [
        ALARM,
        ALARM_EU,
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:other",
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:*",
        "arn:aws:cloudwatch:*:111122223333:alarm:c?u",
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:cpu?",
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:?u",
        "arn:*:cpu",
        "arn:aws:cloudwatch:us-east-1:444455556666:alarm:cpu",
        "ARN:AWS:CLOUDWATCH:US-EAST-1:111122223333:ALARM:CPU",
        "*",
        ACCOUNT,
        "444455556666",
        "1111*",
        "o-abc",
        "sns.us-east-1.amazonaws.com",
        "${aws:SourceAccount}",
        "true",
        "false",
    ];
    let mut out: Vec<Value> = strings.iter().map(|s| json!(s)).collect();
    out.extend([json!(true), json!(false), json!(111122223333u64)]);
    out
}

/// Concrete values a hidden condition key may take in a world.
const HIDDEN_VALUES: &[&str] = &[
    ALARM,
    ALARM_EU,
    "arn:aws:cloudwatch:us-east-1:111122223333:alarm:other",
    "arn:x:cpu",
    ACCOUNT,
    "444455556666",
    "o-abc",
    "sns.us-east-1.amazonaws.com",
    "true",
    "false",
];

#[derive(Debug, Clone)]
enum Who {
    Star,
    Text(&'static str),
    Map(Vec<(&'static str, Vec<&'static str>)>),
}

#[derive(Debug, Clone)]
struct Cond {
    op: &'static str,
    key: &'static str,
    values: Vec<Value>,
}

#[derive(Debug, Clone)]
struct Stmt {
    sid: Option<&'static str>,
    allow: bool,
    /// `(is NotPrincipal, who)`.
    principal: Option<(bool, Who)>,
    /// `(is NotAction, patterns)`.
    action: (bool, Vec<&'static str>),
    /// `(is NotResource, patterns)`.
    resource: Option<(bool, Vec<&'static str>)>,
    conditions: Vec<Cond>,
}

#[derive(Debug, Clone)]
struct Req {
    actions: &'static [&'static str],
    resource: &'static str,
    context: Vec<(&'static str, &'static str)>,
    counts: AccountIdentity,
}

impl Req {
    fn request(&self) -> Request<'_> {
        Request {
            service: SERVICE,
            account: ACCOUNT,
            partition: "aws",
            actions: self.actions,
            resource: self.resource,
            context: &self.context,
            account_identity: self.counts,
        }
    }
}

fn weighted_bool(true_weight: u32, false_weight: u32) -> impl Strategy<Value = bool> + Clone {
    prop_oneof![true_weight => Just(true), false_weight => Just(false)]
}

fn who() -> impl Strategy<Value = Who> {
    let map = prop::collection::vec(select(PRINCIPALS), 1..=3).prop_map(|pairs| {
        let mut grouped: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
        for (kind, name) in pairs {
            match grouped.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, names)) => names.push(name),
                None => grouped.push((kind, vec![name])),
            }
        }
        Who::Map(grouped)
    });
    prop_oneof![
        2 => Just(Who::Star),
        1 => Just(Who::Text(ROOT)),
        10 => map,
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    (
        select(OPERATORS),
        select(CONDITION_KEYS),
        prop::collection::vec(select(condition_values()), 1..=3),
    )
        .prop_map(|(op, key, values)| Cond { op, key, values })
}

fn stmt() -> impl Strategy<Value = Stmt> {
    (
        prop::option::of(select(&["A", "B", "Publish", ""][..])),
        weighted_bool(3, 2),
        prop_oneof![
            1 => Just(None),
            12 => (weighted_bool(1, 3), who()).prop_map(Some),
        ],
        (
            weighted_bool(1, 4),
            prop::collection::vec(select(ACTIONS), 1..=3),
        ),
        prop_oneof![
            1 => Just(None),
            10 => (weighted_bool(1, 4), prop::collection::vec(select(RESOURCES), 1..=2)).prop_map(Some),
        ],
        prop::collection::vec(cond(), 0..=3),
    )
        .prop_map(|(sid, allow, principal, action, resource, mut conditions)| {
            // One JSON object cannot hold the same operator/key pair twice.
            let mut seen = HashSet::new();
            conditions.retain(|c| seen.insert((c.op, c.key)));
            Stmt {
                sid,
                allow,
                principal,
                action,
                resource,
                conditions,
            }
        })
}

/// Random statements, half the time with an Allow of everything inserted
/// somewhere: then the verdict hinges on the Deny statements (the case that
/// matters most) and on conditions, rather than mostly being `NotAllowed`.
fn policy() -> impl Strategy<Value = Vec<Stmt>> {
    (
        prop::collection::vec(stmt(), 1..=4),
        any::<bool>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut statements, baseline, at)| {
            if baseline {
                let everything = Stmt {
                    sid: Some("Everything"),
                    allow: true,
                    principal: Some((false, Who::Star)),
                    action: (false, vec!["*"]),
                    resource: Some((false, vec!["*"])),
                    conditions: Vec::new(),
                };
                statements.insert(at.index(statements.len() + 1), everything);
            }
            statements
        })
}

fn req() -> impl Strategy<Value = Req> {
    let actions: &[&'static [&'static str]] = &[
        &["SNS:Publish"],
        &["sns:publish"],
        &["kms:Decrypt", "kms:GenerateDataKey"],
        &["SNS:Publish", "kms:Decrypt"],
    ];
    (
        select(actions),
        select(&[TOPIC, KEY][..]),
        select(&[ALARM, ALARM_EU][..]),
        prop::collection::vec(any::<bool>(), 3),
        select(
            &[
                AccountIdentity::Carried,
                AccountIdentity::NotCarried,
                AccountIdentity::Unknown,
            ][..],
        ),
    )
        .prop_map(|(actions, resource, alarm, keep, counts)| {
            let all = [
                ("aws:SourceArn", alarm),
                ("aws:SourceAccount", ACCOUNT),
                ("AWS:SourceOwner", ACCOUNT),
            ];
            let context = all
                .into_iter()
                .zip(keep)
                .filter_map(|(entry, keep)| keep.then_some(entry))
                .collect();
            Req {
                actions,
                resource,
                context,
                counts,
            }
        })
}

/// Tiny deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
}

// ------------------------------------------------------------------ rendering

fn list(items: &[&str], rng: &mut Rng) -> Value {
    match items {
        [one] if rng.coin() => json!(one),
        _ => json!(items),
    }
}

fn render_stmt(s: &Stmt, rng: &mut Rng) -> Value {
    let lower = rng.below(4) == 0;
    let name = |n: &str| {
        if lower {
            n.to_lowercase()
        } else {
            n.to_string()
        }
    };
    let mut out = Map::new();
    if let Some(sid) = s.sid {
        out.insert(name("Sid"), json!(sid));
    }
    out.insert(
        name("Effect"),
        json!(if s.allow { "Allow" } else { "Deny" }),
    );
    if let Some((negated, who)) = &s.principal {
        let value = match who {
            Who::Star => json!("*"),
            Who::Text(t) => json!(t),
            Who::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(kind, names)| (kind.to_string(), list(names, rng)))
                    .collect(),
            ),
        };
        let element = if *negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        out.insert(name(element), value);
    }
    let (negated, actions) = &s.action;
    let element = if *negated { "NotAction" } else { "Action" };
    out.insert(name(element), list(actions, rng));
    if let Some((negated, resources)) = &s.resource {
        let element = if *negated { "NotResource" } else { "Resource" };
        out.insert(name(element), list(resources, rng));
    }
    if !s.conditions.is_empty() || rng.below(8) == 0 {
        let mut blocks: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        for c in &s.conditions {
            let values = match c.values.as_slice() {
                [one] if rng.coin() => one.clone(),
                many => Value::Array(many.to_vec()),
            };
            blocks
                .entry(c.op)
                .or_default()
                .insert(c.key.to_string(), values);
        }
        let blocks = blocks
            .into_iter()
            .map(|(op, keys)| (op.to_string(), Value::Object(keys)))
            .collect();
        out.insert(name("Condition"), Value::Object(blocks));
    }
    Value::Object(out)
}

fn render(policy: &[Stmt], shape: u64) -> String {
    let mut rng = Rng(shape | 1);
    let mut statements: Vec<Value> = policy.iter().map(|s| render_stmt(s, &mut rng)).collect();
    let statement = if statements.len() == 1 && rng.coin() {
        statements.remove(0)
    } else {
        Value::Array(statements)
    };
    let mut doc = Map::new();
    if rng.coin() {
        doc.insert("Version".into(), json!("2012-10-17"));
    }
    doc.insert("Statement".into(), statement);
    Value::Object(doc).to_string()
}

// ----------------------------------------------------------------- reference

/// Everything `evaluate` does not know, fixed.
struct World {
    seed: u64,
    /// Lower-cased key → value, for condition keys outside the context.
    hidden: BTreeMap<String, Option<String>>,
    /// ARN wildcards may span segments.
    arn_whole: bool,
    /// Principal names compare case-insensitively.
    principal_ignore_case: bool,
    /// Wildcards in principal names act as wildcards.
    principal_wildcards: bool,
    /// A `NotPrincipal` sees the account identity (when it counts).
    not_principal_sees_account: bool,
}

impl World {
    fn new(policy: &[Stmt], req: &Req, seed: u64) -> World {
        let mut rng = Rng(seed | 1);
        let mut hidden = BTreeMap::new();
        for c in policy.iter().flat_map(|s| &s.conditions) {
            let key = c.key.to_lowercase();
            let known = req.context.iter().any(|(k, _)| k.to_lowercase() == key);
            if known || hidden.contains_key(&key) {
                continue;
            }
            // Directed values: instances of this key's policy values.
            let mut pool: Vec<String> = HIDDEN_VALUES.iter().map(|s| s.to_string()).collect();
            for s in policy.iter().flat_map(|s| &s.conditions) {
                if s.key.to_lowercase() != key {
                    continue;
                }
                for v in &s.values {
                    let text = text_of(v);
                    pool.push(text.replace(['*', '?'], "x"));
                    pool.push(text.replace('*', ""));
                }
            }
            let value = (rng.below(4) > 0).then(|| pool[rng.below(pool.len())].clone());
            hidden.insert(key, value);
        }
        World {
            seed: rng.next(),
            hidden,
            arn_whole: rng.coin(),
            principal_ignore_case: rng.coin(),
            principal_wildcards: rng.coin(),
            not_principal_sees_account: rng.coin(),
        }
    }

    /// An arbitrary but fixed answer for the thing named `tag`.
    fn bit(&self, tag: &str) -> bool {
        let mut h = DefaultHasher::new();
        (self.seed, tag).hash(&mut h);
        h.finish() & 1 == 1
    }

    fn value(&self, req: &Req, key: &str) -> Option<String> {
        let key = key.to_lowercase();
        if let Some((_, v)) = req.context.iter().find(|(k, _)| k.to_lowercase() == key) {
            return Some(v.to_string());
        }
        self.hidden.get(&key).cloned().flatten()
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Plain recursive wildcard matching: `*` any run, `?` one character.
fn wild(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| wild(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && wild(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && wild(rest, &t[1..]),
    }
}

fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    wild(&p, &t)
}

fn arn_like(world: &World, pattern: &str, arn: &str) -> bool {
    if world.arn_whole {
        return like(pattern, arn);
    }
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && (0..6).all(|i| like(p[i], a[i]))
}

/// Whether a principal name of `kind` names the caller's service identity
/// (`service`) or its account identity (`!service`).
fn names(world: &World, tag: &str, kind: &str, name: &str, service: bool) -> bool {
    let same = |a: &str, b: &str| {
        if world.principal_ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let pattern =
        |p: &str, b: &str| world.principal_wildcards && (p.contains(['*', '?'])) && like(p, b);
    match (kind, service) {
        ("AWS", _) if name == "*" => true,
        ("AWS", false) => {
            same(name, ACCOUNT) || same(name, ROOT) || pattern(name, ACCOUNT) || pattern(name, ROOT)
        }
        ("Service", true) => same(name, SERVICE) || pattern(name, SERVICE),
        ("AWS" | "Service" | "Federated", _) => false,
        _ => world.bit(&format!("{tag} principal type {kind} {service}")),
    }
}

fn listed(world: &World, tag: &str, who: &Who, service: bool) -> bool {
    match who {
        Who::Star => true,
        Who::Text(_) => world.bit(&format!("{tag} principal text {service}")),
        Who::Map(entries) => entries.iter().any(|(kind, list)| {
            list.iter()
                .any(|name| names(world, tag, kind, name, service))
        }),
    }
}

/// Whether the request carries the account's identity: in an unknown case, the world decides.
fn carries_account(world: &World, req: &Req) -> bool {
    match req.counts {
        AccountIdentity::Carried => true,
        AccountIdentity::NotCarried => false,
        AccountIdentity::Unknown => world.bit("request carries the account identity"),
    }
}

fn principal_applies(world: &World, req: &Req, tag: &str, s: &Stmt) -> bool {
    let carried = carries_account(world, req);
    match &s.principal {
        None => world.bit(&format!("{tag} no principal")),
        Some((false, who)) => {
            listed(world, tag, who, true) || (carried && listed(world, tag, who, false))
        }
        Some((true, who)) => {
            !listed(world, tag, who, true)
                || (carried && world.not_principal_sees_account && !listed(world, tag, who, false))
        }
    }
}

fn resource_applies(world: &World, req: &Req, tag: &str, s: &Stmt) -> bool {
    let Some((negated, patterns)) = &s.resource else {
        return world.bit(&format!("{tag} no resource"));
    };
    let any = patterns.iter().enumerate().any(|(i, p)| {
        if *p == "*" {
            true
        } else if p.contains("${") {
            world.bit(&format!("{tag} resource variable {i}"))
        } else {
            arn_like(world, p, req.resource)
        }
    });
    any != *negated
}

fn condition_holds(world: &World, req: &Req, tag: &str, c: &Cond) -> bool {
    let tag = format!("{tag} {} {}", c.op, c.key);
    let actual = world.value(req, c.key);
    let values: Vec<String> = c.values.iter().map(text_of).collect();
    if c.op == "Null" {
        return values.iter().enumerate().any(|(i, v)| match v.as_str() {
            "true" => actual.is_none(),
            "false" => actual.is_some(),
            _ => world.bit(&format!("{tag} null value {i}")),
        });
    }
    let (base, if_exists) = match c.op.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (c.op, false),
    };
    let negated = base.contains("Not");
    type Cmp = fn(&World, &str, &str) -> bool;
    let compare: Cmp = match base {
        "StringEquals" | "StringNotEquals" => |_, v, a| v == a,
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            |_, v, a| v.to_lowercase() == a.to_lowercase()
        }
        "StringLike" | "StringNotLike" => |_, v, a| like(v, a),
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => arn_like,
        _ => return world.bit(&format!("{tag} operator")),
    };
    let Some(actual) = actual else {
        // AWS: a missing key fails a positive operator, satisfies a negated
        // one, and satisfies anything with `IfExists`.
        return if_exists || negated;
    };
    let matched = values.iter().enumerate().any(|(i, v)| {
        if v.contains("${") {
            world.bit(&format!("{tag} variable {i}"))
        } else {
            compare(world, v, &actual)
        }
    });
    matched != negated
}

/// Whether statement `index` applies to each of the request's actions.
fn applies(world: &World, req: &Req, index: usize, s: &Stmt) -> Vec<bool> {
    let tag = format!("statement {index}");
    let rest = principal_applies(world, req, &tag, s)
        && resource_applies(world, req, &tag, s)
        && s.conditions
            .iter()
            .all(|c| condition_holds(world, req, &tag, c));
    req.actions
        .iter()
        .map(|action| {
            let (negated, patterns) = &s.action;
            let listed = patterns
                .iter()
                .any(|p| like(&p.to_lowercase(), &action.to_lowercase()));
            rest && listed != *negated
        })
        .collect()
}

/// AWS's answer in one world: per statement, per action, whether it applies.
fn reference(world: &World, req: &Req, policy: &[Stmt]) -> Vec<Vec<bool>> {
    policy
        .iter()
        .enumerate()
        .map(|(i, s)| applies(world, req, i, s))
        .collect()
}

fn label(policy: &[Stmt], index: usize) -> String {
    match policy[index].sid {
        Some(sid) if !sid.is_empty() => sid.to_string(),
        _ => format!("statement {}", index + 1),
    }
}

/// Checks `verdict` against the reference in `worlds` sampled worlds.
fn check(
    policy: &[Stmt],
    req: &Req,
    verdict: &Verdict,
    seed: u64,
    worlds: u64,
) -> Result<(), TestCaseError> {
    for w in 0..worlds {
        let world = World::new(
            policy,
            req,
            seed.wrapping_add(w.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        let table = reference(&world, req, policy);
        let deny_applies = |a: usize| policy.iter().zip(&table).any(|(s, row)| !s.allow && row[a]);
        let allow_applies = |a: usize| policy.iter().zip(&table).any(|(s, row)| s.allow && row[a]);
        let allowed = (0..req.actions.len()).all(|a| !deny_applies(a) && allow_applies(a));
        match verdict {
            Verdict::Allowed => {
                prop_assert!(allowed, "Allowed, but AWS refuses in world {w}: {table:?}");
            }
            Verdict::Denied { statement, action } => {
                let a = req.actions.iter().position(|x| x == action).unwrap();
                // Some Deny with that label applies (labels may repeat).
                let applied = (0..policy.len())
                    .any(|i| !policy[i].allow && label(policy, i) == *statement && table[i][a]);
                prop_assert!(
                    applied,
                    "Denied by {statement}, which does not apply in world {w}"
                );
                prop_assert!(!allowed);
            }
            Verdict::NotAllowed { action } => {
                let a = req.actions.iter().position(|x| x == action).unwrap();
                prop_assert!(
                    !allow_applies(a),
                    "NotAllowed, but an Allow applies in world {w}"
                );
                prop_assert!(!allowed);
            }
            Verdict::Unverified { .. } => {}
        }
    }
    Ok(())
}

/// JSON resembling policies: element names, operators and words of the
/// vocabulary, plus arbitrary strings and numbers.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let mut words: Vec<&'static str> = vec![
        "*",
        "Allow",
        "Deny",
        "",
        "${x}",
        "true",
        "false",
        "2012-10-17",
    ];
    words.extend(ACTIONS);
    words.extend(RESOURCES);
    words.extend(CONDITION_KEYS);
    words.extend(PRINCIPALS.iter().map(|(_, n)| *n));
    let mut keys: Vec<&'static str> = vec![
        "Version",
        "Statement",
        "statement",
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
        "AWS",
        "Service",
        "Federated",
        "CanonicalUser",
        "Id",
    ];
    keys.extend(OPERATORS);
    keys.extend(CONDITION_KEYS);
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        4 => select(words).prop_map(Value::from),
        1 => any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((select(keys.clone()), inner), 0..7).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                )
            }),
        ]
    })
}

proptest! {
    #[test]
    fn verdicts_are_sound(
        policy in policy(),
        req in req(),
        shape in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let text = render(&policy, shape);
        let verdict = evaluate(&text, &req.request())
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        check(&policy, &req, &verdict, seed, 48)
            .map_err(|e| TestCaseError::fail(format!("{e}\npolicy {text}\nrequest {req:?}\nverdict {verdict:?}")))?;
    }

    #[test]
    fn rendering_does_not_change_the_verdict(
        policy in policy(),
        req in req(),
        shapes in (any::<u64>(), any::<u64>()),
    ) {
        let a = evaluate(&render(&policy, shapes.0), &req.request());
        let b = evaluate(&render(&policy, shapes.1), &req.request());
        prop_assert_eq!(a, b);
    }

    #[test]
    fn never_panics_on_arbitrary_json(value in arbitrary_json(), req in req()) {
        let request = req.request();
        let _ = evaluate(&value.to_string(), &request);
        let _ = evaluate(&json!({"Statement": value.clone()}).to_string(), &request);
        let _ = evaluate(&json!({"Statement": [value]}).to_string(), &request);
    }

    #[test]
    fn never_panics_on_arbitrary_text(text in any::<String>(), req in req()) {
        let _ = evaluate(&text, &req.request());
    }

    #[test]
    fn never_panics_on_mutated_policies(
        policy in policy(),
        req in req(),
        shape in any::<u64>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = render(&policy, shape).chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        let _ = evaluate(&chars.into_iter().collect::<String>(), &req.request());
    }
}

/// The soundness test is not vacuous: the generator reaches every verdict
/// often, so proofs are actually made and checked.
#[test]
fn generator_reaches_every_verdict() {
    let mut runner = TestRunner::deterministic();
    let strategy = (policy(), req(), any::<u64>());
    let mut counts = [0usize; 4];
    let total = 4000;
    for _ in 0..total {
        let (policy, req, shape) = strategy.new_tree(&mut runner).unwrap().current();
        let verdict = evaluate(&render(&policy, shape), &req.request()).unwrap();
        let slot = match verdict {
            Verdict::Allowed => 0,
            Verdict::Denied { .. } => 1,
            Verdict::NotAllowed { .. } => 2,
            Verdict::Unverified { .. } => 3,
        };
        counts[slot] += 1;
        check(&policy, &req, &verdict, shape, 8).unwrap();
    }
    for (count, name) in counts
        .iter()
        .zip(["Allowed", "Denied", "NotAllowed", "Unverified"])
    {
        assert!(
            *count * 50 >= total,
            "{name}: only {count} of {total} ({counts:?})"
        );
    }
}

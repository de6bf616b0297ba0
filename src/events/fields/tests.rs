use proptest::prelude::*;
use serde::de::DeserializeSeed;
use serde_json::{json, Value};

use super::*;

/// One step of a path into a value.
#[derive(Debug, Clone)]
enum Step {
    Member(String),
    Item(usize),
}

fn resolve<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |value, step| match (step, value) {
            (Step::Member(name), Value::Object(map)) => map.get(name),
            (Step::Item(i), Value::Array(items)) => items.get(*i),
            _ => None,
        })
}

fn keep(paths: &[Vec<Step>]) -> Fields {
    let mut fields = Fields::default();
    for path in paths {
        let mut kept = &mut fields;
        for step in path {
            kept = match step {
                Step::Member(name) => kept.member(name),
                Step::Item(i) => kept.item(*i),
            };
        }
        kept.keep_whole();
    }
    fields
}

fn read_kept(text: &str, fields: &Fields) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = fields
        .seed()
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

#[test]
fn keeps_the_named_values_whole_and_drops_the_rest() {
    let event = json!({
        "eventName": "PutBucketPolicy",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root", "sessionContext": {"x": 1}},
        "resources": [{"ARN": "a"}, {"ARN": "b", "type": "t"}, {"ARN": "c"}],
        "requestParameters": {"bucketName": "b", "policy": {"Statement": []}},
    });
    let fields = keep(&[
        vec![
            Step::Member("userIdentity".into()),
            Step::Member("type".into()),
        ],
        vec![
            Step::Member("resources".into()),
            Step::Item(1),
            Step::Member("ARN".into()),
        ],
        vec![Step::Member("requestParameters".into())],
    ]);
    let kept = read_kept(&event.to_string(), &fields).unwrap();
    assert_eq!(
        kept,
        json!({
            "userIdentity": {"type": "Root"},
            "resources": [null, {"ARN": "b"}],
            "requestParameters": {"bucketName": "b", "policy": {"Statement": []}},
        })
    );
    assert_eq!(
        read_kept(&event.to_string(), &Fields::all()).unwrap(),
        event
    );
    // A repeated member: the last one counts, kept or whole.
    let text = r#"{"userIdentity": {"type": "Root"}, "userIdentity": "x"}"#;
    let whole: Value = serde_json::from_str(text).unwrap();
    assert_eq!(read_kept(text, &fields).unwrap(), whole);
}

#[test]
fn a_value_is_refused_kept_or_whole_with_the_same_error() {
    let broken = [
        r#"{"a": 1, "b": 1e400}"#,
        r#"{"a": 1, "b": "\ud800"}"#,
        r#"{"a": 1, "b": "\x"}"#,
        r#"{"a": 1, "b": [1, 2,]}"#,
        r#"{"a": 1, "b": {"c": tru}}"#,
        r#"{"a": 1, "b": 2} x"#,
        r#"{"a": 1, "b": 2"#,
    ];
    let nested = format!("{{\"b\": {}{}}}", "[".repeat(200), "]".repeat(200));
    let fields = keep(&[vec![Step::Member("a".into())]]);
    for text in broken.iter().copied().chain([nested.as_str()]) {
        let whole = serde_json::from_str::<Value>(text).map_err(|e| e.to_string());
        assert!(whole.is_err(), "{text}");
        assert_eq!(read_kept(text, &fields), whole, "{text}");
    }
    // Invalid UTF-8 in a value that is not kept.
    let bytes = b"{\"a\": 1, \"b\": \"\xff\"}";
    let whole = serde_json::from_slice::<Value>(bytes).map_err(|e| e.to_string());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let kept = fields
        .seed()
        .deserialize(&mut de)
        .map_err(|e| e.to_string());
    assert!(whole.is_err());
    assert_eq!(kept, whole);
}

/// Every control's pattern of every built-in catalog, on the real records of the repository:
/// the kept events match exactly when the whole ones do.
#[test]
fn real_records_match_the_same_kept_or_whole() {
    let records: Vec<Value> = [
        include_str!("../../../plans/techniques/panther-benign.jsonl"),
        include_str!("../../catalog/testdata/hardened-records.jsonl"),
    ]
    .iter()
    .flat_map(|text| text.lines())
    .filter(|line| !line.trim().is_empty())
    .flat_map(|line| {
        let value: Value = serde_json::from_str(line).unwrap();
        let inner = value.get("record").cloned();
        [Some(value), inner].into_iter().flatten()
    })
    .collect();
    let mut matched = 0;
    for name in crate::catalog::builtin_names() {
        let catalog = crate::catalog::load_builtin(name).unwrap();
        for control in &catalog.controls {
            let mut fields = Fields::default();
            control.pattern.keep(&mut fields);
            for record in &records {
                let kept = read_kept(&record.to_string(), &fields).unwrap();
                let whole = control.pattern.matches(record);
                assert_eq!(
                    control.pattern.matches(&kept),
                    whole,
                    "{name} {}",
                    control.id
                );
                matched += usize::from(whole);
            }
        }
    }
    assert!(
        matched > 50,
        "only {matched} matches: the records do not exercise the patterns"
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (-5i64..5).prop_map(Value::from),
        prop::sample::select(vec!["a", "b", "", "x*"]).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c"]), inner, 0..4)
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
        ]
    })
}

fn path() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|n| Step::Member(n.to_string())),
        (0usize..4).prop_map(Step::Item),
    ];
    prop::collection::vec(step, 1..4)
}

proptest! {
    /// Whatever the value and the paths kept, each path resolves in the kept value to what
    /// it resolves to in the whole one (missing included).
    #[test]
    fn every_kept_path_resolves_as_in_the_whole_value(
        value in json_value(),
        paths in prop::collection::vec(path(), 1..4),
    ) {
        let kept = read_kept(&value.to_string(), &keep(&paths)).unwrap();
        for path in &paths {
            prop_assert_eq!(resolve(&kept, path), resolve(&value, path), "{:?}", path);
        }
    }
}

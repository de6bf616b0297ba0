use serde_json::json;

use super::*;
use crate::pattern::parse;

fn sql(pattern: &str, dialect: Dialect) -> Result<Query, SqlError> {
    query(&parse(pattern).unwrap(), dialect, &TableName::default())
}

/// The WHERE clause alone.
fn condition(pattern: &str, dialect: Dialect) -> String {
    let text = sql(pattern, dialect).unwrap().text;
    let start = text.find("WHERE ").unwrap() + "WHERE ".len();
    text[start..].trim_end_matches(";\n").to_string()
}

#[test]
fn a_cis_pattern_reads_as_its_query() {
    let root = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
    let query = sql(root, Dialect::DuckDb).unwrap();
    assert_eq!(
        query.text,
        r#"-- cis-fix pattern sql --dialect duckdb
-- Pattern: { ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && ($.eventType != "AwsServiceEvent") }
-- Selects the events it matches when a `*` inside a value is a literal character; `!=` does not match a missing or null field (documented).
-- It may select more events than the pattern matches, never fewer:
--   $.userIdentity.invokedBy NOT EXISTS: the column is NULL for a missing field and a null alike, so both are selected
--   $.eventType != "AwsServiceEvent": the column holds any value as text, so a value that is not a string but reads the same is selected too
SELECT *
FROM "cloudtrail_logs"
WHERE useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND eventtype <> 'AwsServiceEvent';
"#
    );
    let leanings: Vec<Leaning> = query.caveats.iter().map(|c| c.leaning).collect();
    assert_eq!(
        leanings,
        [Leaning::MissingOrNull, Leaning::TypeLost(JsonType::String)]
    );
}

#[test]
fn or_and_parentheses_keep_their_grouping() {
    let kms = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";
    assert_eq!(
        condition(kms, Dialect::Athena),
        "eventsource = 'kms.amazonaws.com'\n  AND (eventname = 'DisableKey' OR eventname = 'ScheduleKeyDeletion')"
    );
    let either = "{ $.errorCode = 1 || ($.errorCode = x && $.eventName = y) }";
    assert_eq!(
        condition(either, Dialect::DuckDb),
        "(TRY_CAST(errorcode AS DOUBLE) = 1e0\n   OR (errorcode = 'x' AND eventname = 'y'))"
    );
}

#[test]
fn wildcards_become_like_with_its_characters_escaped() {
    assert_eq!(
        condition(r#"{ $.errorCode = "*50%_a\\b'c*" }"#, Dialect::DuckDb),
        r"errorcode LIKE '%50\%\_a\\b''c%' ESCAPE '\'"
    );
    assert_eq!(
        condition("{ $.errorCode = AccessDenied** }", Dialect::Athena),
        r"errorcode LIKE 'AccessDenied%' ESCAPE '\'"
    );
    // A middle star is the character `*` in the documented reading: no wildcard, no LIKE.
    assert_eq!(
        condition(
            r#"{ $.errorCode = "*Unauthorized*Operation" }"#,
            Dialect::Athena
        ),
        r"errorcode LIKE '%Unauthorized*Operation' ESCAPE '\'"
    );
    assert_eq!(
        condition("{ $.eventName = Ev*ent }", Dialect::Athena),
        "eventname = 'Ev*ent'"
    );
    assert_eq!(
        condition("{ $.eventName != *Get* }", Dialect::Athena),
        r"eventname NOT LIKE '%Get%' ESCAPE '\'"
    );
}

#[test]
fn json_text_columns_are_tested_with_their_json_types() {
    let p = r#"{ $.additionalEventData.MFAUsed != "Yes" }"#;
    assert_eq!(
        condition(p, Dialect::DuckDb),
        "(json_type(additionaleventdata, '$.MFAUsed') = 'VARCHAR' AND json_extract_string(additionaleventdata, '$.MFAUsed') <> 'Yes')"
    );
    assert_eq!(
        condition(p, Dialect::Athena),
        "(json_format(json_extract(additionaleventdata, '$.MFAUsed')) LIKE '\"%' AND json_extract_scalar(additionaleventdata, '$.MFAUsed') <> 'Yes')"
    );
    let q = sql(p, Dialect::DuckDb).unwrap();
    assert!(q.caveats.is_empty(), "{:?}", q.caveats);
    assert_eq!(
        condition(
            "{ $.requestParameters.x-amz-acl[2].n >= 3 }",
            Dialect::DuckDb
        ),
        r#"(CASE WHEN json_type(requestparameters, '$."x-amz-acl"[2].n') IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(json_extract_string(requestparameters, '$."x-amz-acl"[2].n') AS DOUBLE) END) >= 3e0"#
    );
    assert_eq!(
        condition(
            "{ $.requestParameters.x-amz-acl NOT EXISTS }",
            Dialect::Athena
        ),
        r#"json_extract(requestparameters, '$["x-amz-acl"]') IS NULL"#
    );
    assert_eq!(
        condition(
            "{ $.responseElements.a IS NULL || $.responseElements.b IS TRUE }",
            Dialect::Athena
        ),
        "(json_format(json_extract(responseelements, '$.a')) = 'null'\n   OR json_format(json_extract(responseelements, '$.b')) = 'true')"
    );
}

#[test]
fn numbers_regexes_and_keywords_on_text_columns_lean_to_more() {
    let q = sql(
        r"{ $.errorCode = 5 && $.readOnly IS TRUE && $.sourceIPAddress = %^10\.% && $.errorMessage IS NULL }",
        Dialect::Athena,
    )
    .unwrap();
    assert!(q.text.contains(
        r"TRY_CAST(errorcode AS DOUBLE) = 5e0
  AND readonly = 'true'
  AND regexp_like(sourceipaddress, '\A10\.')
  AND errormessage IS NULL;"
    ));
    let leanings: Vec<Leaning> = q.caveats.iter().map(|c| c.leaning).collect();
    assert_eq!(
        leanings,
        [
            Leaning::TypeLost(JsonType::Number),
            Leaning::TypeLost(JsonType::Boolean),
            Leaning::TypeLost(JsonType::String),
            Leaning::MissingOrNull
        ]
    );
    assert_eq!(
        condition("{ $.errorCode != %x% }", Dialect::DuckDb),
        "NOT regexp_matches(errorcode, 'x')"
    );
}

#[test]
fn a_string_no_other_type_can_read_as_has_no_caveat() {
    for (pattern, caveat) in [
        ("{ $.eventName = ConsoleLogin }", false),
        ("{ $.errorCode = *UnauthorizedOperation }", false),
        ("{ $.errorCode = AccessDenied* }", false),
        ("{ $.errorCode = * }", true),
        ("{ $.errorCode = 12 }", true),
        (r#"{ $.errorCode = "12" }"#, true),
        (r#"{ $.errorCode = "1*" }"#, true),
        ("{ $.errorCode = tru* }", true),
        (r#"{ $.errorCode = "{*" }"#, true),
        (r#"{ $.errorCode = "*]" }"#, true),
        ("{ $.errorCode != * }", false),
        ("{ $.errorCode != x }", true),
    ] {
        let q = sql(pattern, Dialect::DuckDb).unwrap();
        assert_eq!(!q.caveats.is_empty(), caveat, "{pattern}");
    }
}

#[test]
fn structs_and_arrays_follow_the_ddl() {
    assert_eq!(
        condition("{ $.resources[0].ARN = x }", Dialect::Athena),
        "element_at(resources, 1).arn = 'x'"
    );
    assert_eq!(
        condition("{ $.resources[1].type = x }", Dialect::DuckDb),
        "resources[2].type = 'x'"
    );
    assert_eq!(
        condition(
            "{ $.userIdentity.sessionContext.sessionIssuer.userName = x }",
            Dialect::DuckDb
        ),
        "useridentity.sessioncontext.sessionissuer.username = 'x'"
    );
    let q = sql("{ $.userIdentity NOT EXISTS }", Dialect::DuckDb).unwrap();
    assert!(q.text.contains("WHERE useridentity IS NULL;"));
    assert_eq!(q.caveats[0].leaning, Leaning::MissingOrNull);
}

#[test]
fn what_the_table_cannot_hold_is_refused_in_one_line() {
    for (pattern, says) in [
        ("{ $.managementEvent IS TRUE }", "has no column"),
        ("{ $.eventname = x }", "spells this field `eventName`"),
        ("{ $.resources[0].arn = x }", "spells this field `ARN`"),
        (
            "{ $.userIdentity.sessionContext.sourceIdentity = x }",
            "has no column",
        ),
        ("{ $.userIdentity[0] NOT EXISTS }", "an index on a struct"),
        ("{ $.resources.ARN = x }", "a field of an array"),
        ("{ $.eventName.x NOT EXISTS }", "a step into a string"),
        (
            "{ $.userIdentity.sessionContext.webIdFederationData.attributes.k = x }",
            "map",
        ),
        ("{ $.userIdentity = x }", "is a struct"),
        ("{ $.resources != x }", "is an array"),
        (r"{ $.eventName = %\d% }", "`\\d`"),
        (r"{ $.requestParameters.a = %(?i)x% }", "flag"),
        ("{$[0] NOT EXISTS}", "an index on a struct"),
    ] {
        let err = sql(pattern, Dialect::DuckDb).unwrap_err().to_string();
        assert!(err.contains(says), "{pattern}: {err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

#[test]
fn table_names_are_checked_and_quoted() {
    assert_eq!(
        TableName::parse("db.cloudtrail_logs").unwrap().to_string(),
        r#""db"."cloudtrail_logs""#
    );
    assert_eq!(TableName::default().to_string(), r#""cloudtrail_logs""#);
    for bad in [
        "",
        "a;DROP TABLE b",
        "a.b.c.d",
        "a..b",
        "a\"b",
        "a b",
        "t--",
        "é",
    ] {
        let err = TableName::parse(bad).unwrap_err().to_string();
        assert!(err.starts_with("--table `"), "{err}");
    }
}

#[test]
fn nothing_a_pattern_holds_leaves_a_comment_or_a_literal() {
    let p = "{ $.eventName = \"x\\\"\nSELECT 1; -- '\u{2028}\u{202E}\" }";
    let text = sql(p, Dialect::Athena).unwrap().text;
    let lines: Vec<&str> = text.lines().collect();
    let select = lines.iter().position(|l| *l == "SELECT *").unwrap();
    assert!(
        lines[..select].iter().all(|l| l.starts_with("-- ")),
        "{text}"
    );
    assert!(
        text.contains("\\u{a}SELECT 1; -- '\\u{2028}\\u{202e}"),
        "{text}"
    );
    // In the literal, the quote is doubled and the rest kept as it is.
    assert!(
        text.contains("WHERE eventname = 'x\"\nSELECT 1; -- ''\u{2028}\u{202E}';"),
        "{text}"
    );
}

#[test]
fn caveats_say_which_events_they_are_about() {
    let q = sql(
        "{ $.userIdentity.invokedBy NOT EXISTS && $.errorCode != x }",
        Dialect::DuckDb,
    )
    .unwrap();
    let (missing, typed) = (&q.caveats[0], &q.caveats[1]);
    assert!(missing.explains(&json!({"userIdentity": {"invokedBy": null}})));
    assert!(missing.explains(&json!({})));
    assert!(!missing.explains(&json!({"userIdentity": {"invokedBy": "x"}})));
    assert!(typed.explains(&json!({"errorCode": 5})));
    assert!(typed.explains(&json!({"errorCode": {"a": 1}})));
    assert!(!typed.explains(&json!({"errorCode": "y"})));
    assert!(!typed.explains(&json!({})));
}

#[test]
fn numbers_are_written_exactly() {
    for (pattern, literal) in [
        ("{ $.errorCode = 0.1 }", "1e-1"),
        ("{ $.errorCode = 1e+3 }", "1e3"),
        ("{ $.errorCode = -2.5 }", "-2.5e0"),
        ("{ $.errorCode = 123456789012 }", "1.23456789012e11"),
    ] {
        let c = condition(pattern, Dialect::DuckDb);
        assert!(c.ends_with(&format!("= {literal}")), "{c}");
    }
}

#[test]
fn every_builtin_control_translates_for_both_engines() {
    for name in crate::catalog::builtin_names() {
        for control in crate::catalog::load_builtin(name).unwrap().controls {
            for dialect in [Dialect::Athena, Dialect::DuckDb] {
                let q = query(&control.pattern, dialect, &TableName::default());
                assert!(q.is_ok(), "{name} {}: {:?}", control.id, q.err());
            }
        }
    }
}

#[test]
fn duckdb_columns_are_the_ddl_under_cloudtrails_names() {
    let columns = duckdb_columns();
    assert!(
        columns.starts_with("{'eventVersion': 'VARCHAR', 'userIdentity': 'STRUCT(\"type\" VARCHAR")
    );
    assert!(columns.contains(
        "'resources': 'STRUCT(\"ARN\" VARCHAR, \"accountId\" VARCHAR, \"type\" VARCHAR)[]'"
    ));
    assert!(columns.contains("'requestParameters': 'VARCHAR'"));
}

#[test]
fn the_table_holds_records_of_cloudtrails_shapes() {
    assert!(table_holds(
        &json!({"userIdentity": {"type": "Root"}, "resources": [{"ARN": "a"}],
        "errorCode": {"a": 1}, "requestParameters": {"x": 1}, "responseElements": null})
    ));
    assert!(table_holds(
        &json!({"userIdentity": null, "requestParameters": [1]})
    ));
    for bad in [
        json!({"userIdentity": "Root"}),
        json!({"resources": [{"ARN": "a"}, "arn"]}),
        json!({"resources": {"ARN": "a"}}),
        json!({"requestParameters": "x=1"}),
        json!({"userIdentity": {"sessionContext": {"attributes": 5}}}),
    ] {
        assert!(!table_holds(&bad), "{bad}");
    }
}

#[test]
fn the_docs_show_the_tables_the_code_writes_for() {
    let docs = include_str!("../../../docs/sql.md");
    assert!(
        docs.contains(&athena_columns()),
        "docs/sql.md: the Athena columns"
    );
    assert!(
        docs.contains(&duckdb_record()),
        "docs/sql.md: the DuckDB record type"
    );
    assert!(athena_columns().starts_with(
        "  eventversion STRING,\n  useridentity STRUCT<type:STRING, principalid:STRING"
    ));
    assert!(athena_columns()
        .contains("  resources ARRAY<STRUCT<arn:STRING, accountid:STRING, type:STRING>>,\n"));
}

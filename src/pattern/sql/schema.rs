//! The CloudTrail table as AWS's Athena DDL for CloudTrail defines it ("Create the table for
//! CloudTrail logs in Athena using partition projection", Amazon Athena User Guide): each
//! field a column can hold, under the name CloudTrail spells it with. The column's SQL name is
//! that name in lower case (Athena's names are lower-case; DuckDB's are case-insensitive).

/// What a column (or a field of a struct column) holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// `STRING`: a scalar's text (a number's or boolean's too), NULL for missing and null.
    Text,
    /// `STRING` holding a JSON object's text (`requestparameters` and the like).
    Json,
    Struct(&'static [(&'static str, Shape)]),
    /// `ARRAY<…>` of the shape.
    Array(&'static Shape),
    /// `MAP<STRING,STRING>`: not translated.
    Map,
}

use Shape::{Json, Text};

const ON_BEHALF_OF: &[(&str, Shape)] = &[("userId", Text), ("identityStoreArn", Text)];

const SESSION_ATTRIBUTES: &[(&str, Shape)] = &[("mfaAuthenticated", Text), ("creationDate", Text)];

const SESSION_ISSUER: &[(&str, Shape)] = &[
    ("type", Text),
    ("principalId", Text),
    ("arn", Text),
    ("accountId", Text),
    ("userName", Text),
];

const WEB_ID_FEDERATION: &[(&str, Shape)] =
    &[("federatedProvider", Text), ("attributes", Shape::Map)];

const SESSION_CONTEXT: &[(&str, Shape)] = &[
    ("attributes", Shape::Struct(SESSION_ATTRIBUTES)),
    ("sessionIssuer", Shape::Struct(SESSION_ISSUER)),
    ("ec2RoleDelivery", Text),
    ("webIdFederationData", Shape::Struct(WEB_ID_FEDERATION)),
];

const USER_IDENTITY: &[(&str, Shape)] = &[
    ("type", Text),
    ("principalId", Text),
    ("arn", Text),
    ("accountId", Text),
    ("invokedBy", Text),
    ("accessKeyId", Text),
    ("userName", Text),
    ("onBehalfOf", Shape::Struct(ON_BEHALF_OF)),
    ("sessionContext", Shape::Struct(SESSION_CONTEXT)),
];

/// CloudTrail writes `ARN` in upper case in `resources`; the DDL's `arn` reads it.
const RESOURCE: &[(&str, Shape)] = &[("ARN", Text), ("accountId", Text), ("type", Text)];

const ADDENDUM: &[(&str, Shape)] = &[
    ("reason", Text),
    ("updatedFields", Text),
    ("originalRequestID", Text),
    ("originalEventID", Text),
];

const TLS_DETAILS: &[(&str, Shape)] = &[
    ("tlsVersion", Text),
    ("cipherSuite", Text),
    ("clientProvidedHostHeader", Text),
];

/// The columns, in the DDL's order.
pub(super) const COLUMNS: &[(&str, Shape)] = &[
    ("eventVersion", Text),
    ("userIdentity", Shape::Struct(USER_IDENTITY)),
    ("eventTime", Text),
    ("eventSource", Text),
    ("eventName", Text),
    ("awsRegion", Text),
    ("sourceIPAddress", Text),
    ("userAgent", Text),
    ("errorCode", Text),
    ("errorMessage", Text),
    ("requestParameters", Json),
    ("responseElements", Json),
    ("additionalEventData", Json),
    ("requestID", Text),
    ("eventID", Text),
    ("readOnly", Text),
    ("resources", Shape::Array(&Shape::Struct(RESOURCE))),
    ("eventType", Text),
    ("apiVersion", Text),
    ("recipientAccountId", Text),
    ("serviceEventDetails", Json),
    ("sharedEventID", Text),
    ("vpcEndpointId", Text),
    ("vpcEndpointAccountId", Text),
    ("eventCategory", Text),
    ("addendum", Shape::Struct(ADDENDUM)),
    ("sessionCredentialFromConsole", Text),
    ("edgeDeviceDetails", Json),
    ("tlsDetails", Shape::Struct(TLS_DETAILS)),
];

/// The table's columns as DuckDB's `read_json` takes them (`columns = {…}`), under the names
/// CloudTrail spells its fields with: DuckDB reads a record's keys as written (Athena's SerDe
/// in any case), and its SQL names are case-insensitive, so the query's lower-case names find
/// them.
pub fn duckdb_columns() -> String {
    let fields: Vec<String> = COLUMNS
        .iter()
        .map(|(name, shape)| format!("'{name}': '{}'", duckdb_type(*shape)))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

/// One CloudTrail record as a DuckDB type: a log file's `Records` is a list of these.
pub fn duckdb_record() -> String {
    duckdb_type(Shape::Struct(COLUMNS))
}

/// The columns of the Athena table, one a line, as in `CREATE EXTERNAL TABLE … ( … )`.
pub fn athena_columns() -> String {
    let lines: Vec<String> = COLUMNS
        .iter()
        .map(|(name, shape)| format!("  {} {}", name.to_ascii_lowercase(), athena_type(*shape)))
        .collect();
    lines.join(",\n")
}

fn athena_type(shape: Shape) -> String {
    match shape {
        Text | Json => "STRING".into(),
        Shape::Map => "MAP<STRING,STRING>".into(),
        Shape::Array(inner) => format!("ARRAY<{}>", athena_type(*inner)),
        Shape::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, shape)| {
                    format!("{}:{}", name.to_ascii_lowercase(), athena_type(*shape))
                })
                .collect();
            format!("STRUCT<{}>", fields.join(", "))
        }
    }
}

fn duckdb_type(shape: Shape) -> String {
    match shape {
        Text | Json => "VARCHAR".into(),
        Shape::Map => "MAP(VARCHAR, VARCHAR)".into(),
        Shape::Array(inner) => format!("{}[]", duckdb_type(*inner)),
        Shape::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|(name, shape)| format!("\"{name}\" {}", duckdb_type(*shape)))
                .collect();
            format!("STRUCT({})", fields.join(", "))
        }
    }
}

/// Whether the table can hold the record: each struct column (or field) an object or null,
/// each array an array, each JSON-text column no string (its text would not be JSON). Athena
/// and DuckDB refuse a record that does not fit; CloudTrail writes none.
pub fn table_holds(record: &serde_json::Value) -> bool {
    fits(Shape::Struct(COLUMNS), record)
}

fn fits(shape: Shape, value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (shape, value) {
        (_, Value::Null) | (Text, _) => true,
        (Json, value) => !value.is_string(),
        (Shape::Struct(fields), Value::Object(map)) => fields
            .iter()
            .all(|(name, shape)| map.get(*name).is_none_or(|v| fits(*shape, v))),
        (Shape::Array(inner), Value::Array(items)) => items.iter().all(|v| fits(*inner, v)),
        (Shape::Map, Value::Object(map)) => map.values().all(|v| v.is_string() || v.is_null()),
        _ => false,
    }
}

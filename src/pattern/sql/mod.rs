//! A filter pattern as a SQL query over the CloudTrail table of AWS's Athena DDL
//! (`cis-fix pattern sql`; docs/sql.md).
//!
//! The query selects the events the pattern matches under [`Reading::DOCUMENTED`], the
//! reading `pattern test` uses. Most conditions translate exactly. The table cannot hold two
//! things the evaluator tells apart: a `STRING` column (or struct field) is NULL for a missing
//! field and a null alike, and holds a number's or boolean's text as it holds a string. Where
//! that can change a condition's result, the condition is written to select *more* events,
//! never fewer, and the query says why in a comment ([`Caveat`]). The JSON-text columns
//! (`requestparameters`, …) lose nothing: their conditions test the JSON type. A condition
//! that cannot be written so ([`SqlError`]) fails the whole translation.

mod regex;
mod schema;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::Value;

use super::ast::{Atom, Expr, NumOp, Pattern, Pred, Selector, Step};
use super::eval::resolve;
use super::glob::Glob;
use super::reading::{stars, Reading};
use schema::{Shape, COLUMNS};

pub use schema::{athena_columns, duckdb_columns, duckdb_record, table_holds};

/// The SQL engine a query is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Amazon Athena (engine version 3, Trino's SQL).
    Athena,
    /// DuckDB, over a table read with `read_json` ([`duckdb_columns`]).
    DuckDb,
}

/// A table name checked to be one to three identifiers joined by `.` (`cloudtrail_logs`,
/// `db.cloudtrail_logs`, `awsdatacatalog.db.cloudtrail_logs`): nothing else reaches the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName(Vec<String>);

impl TableName {
    pub fn parse(text: &str) -> Result<TableName, SqlError> {
        let parts: Vec<&str> = text.split('.').collect();
        let identifier = |p: &&str| {
            !p.is_empty()
                && p.len() <= 255
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if parts.len() > 3 || !parts.iter().all(identifier) {
            return Err(SqlError::Table(text.escape_debug().to_string()));
        }
        Ok(TableName(parts.into_iter().map(String::from).collect()))
    }
}

impl Default for TableName {
    fn default() -> Self {
        TableName(vec!["cloudtrail_logs".into()])
    }
}

/// Each part double-quoted: a checked name that happens to be a keyword still reads as a name.
impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted: Vec<String> = self.0.iter().map(|p| format!("\"{p}\"")).collect();
        f.write_str(&quoted.join("."))
    }
}

/// Why a pattern cannot be translated without selecting fewer events than it matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    #[error("`{0}` has no column in the CloudTrail table (AWS's Athena DDL), so no query can test it; docs/sql.md lists the fields it holds")]
    NoColumn(String),
    #[error("`{selector}`: CloudTrail spells this field `{spelled}`; a pattern's field names are case-sensitive and the table's columns are not, so no query selects what this pattern does: write `{spelled}`")]
    Spelling { selector: String, spelled: String },
    #[error("`{selector}`: {why}, so no query can test it")]
    Step { selector: String, why: String },
    #[error("`{condition}`: `{selector}` is {what} in the CloudTrail table and cannot hold the value this condition tests")]
    Container {
        condition: String,
        selector: String,
        what: &'static str,
    },
    #[error("`{condition}`: {why}")]
    Regex { condition: String, why: String },
    #[error("`{0}`: the number is out of the range SQL's DOUBLE holds")]
    Number(String),
    #[error("--table `{0}`: a table name is one to three names of letters, digits and `_`, joined by `.` (such as `cloudtrail_logs` or `mydb.cloudtrail_logs`)")]
    Table(String),
}

/// The JSON type a condition needs: where the table loses it, a value of another type can be
/// selected too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JsonType {
    String,
    Number,
    Boolean,
}

/// Why a condition may select events the pattern does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Leaning {
    /// The column is NULL for a missing field and for a null alike.
    MissingOrNull,
    /// The column holds a value of any other type as text, as it holds this type.
    TypeLost(JsonType),
}

/// A condition of the pattern that the query may satisfy for more events than the pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Caveat {
    /// The condition, as the pattern's canonical text writes it.
    pub condition: String,
    pub leaning: Leaning,
    selector: Selector,
}

impl Caveat {
    /// Whether `event` is one this caveat is about: its value at the condition's field is
    /// missing or null ([`Leaning::MissingOrNull`]), or present and of another JSON type
    /// ([`Leaning::TypeLost`]).
    pub fn explains(&self, event: &Value) -> bool {
        let value = resolve(&self.selector, event);
        match self.leaning {
            Leaning::MissingOrNull => matches!(value, None | Some(Value::Null)),
            Leaning::TypeLost(wanted) => match value {
                None | Some(Value::Null) => false,
                Some(Value::String(_)) => wanted != JsonType::String,
                Some(Value::Number(_)) => wanted != JsonType::Number,
                Some(Value::Bool(_)) => wanted != JsonType::Boolean,
                Some(_) => true,
            },
        }
    }

    fn why(&self) -> String {
        match self.leaning {
            Leaning::MissingOrNull => {
                "the column is NULL for a missing field and a null alike, so both are selected"
                    .into()
            }
            Leaning::TypeLost(wanted) => format!(
                "the column holds any value as text, so a value that is not a {} but reads the same is selected too",
                match wanted {
                    JsonType::String => "string",
                    JsonType::Number => "number",
                    JsonType::Boolean => "boolean",
                }
            ),
        }
    }
}

/// A query and the conditions it may satisfy for more events than the pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub text: String,
    pub caveats: Vec<Caveat>,
}

/// The query selecting, from `table`, the events `pattern` matches under
/// [`Reading::DOCUMENTED`] (and, where [`Query::caveats`] say, more).
pub fn query(pattern: &Pattern, dialect: Dialect, table: &TableName) -> Result<Query, SqlError> {
    let mut writer = Writer {
        dialect,
        caveats: Vec::new(),
    };
    let condition = writer.top(&pattern.expr)?;
    let mut text = String::new();
    text.push_str(&format!(
        "-- cis-fix pattern sql --dialect {}\n",
        match dialect {
            Dialect::Athena => "athena",
            Dialect::DuckDb => "duckdb",
        }
    ));
    text.push_str(&format!(
        "-- Pattern: {}\n",
        comment_safe(&pattern.canonical())
    ));
    text.push_str(&format!(
        "-- Selects the events it matches when {}.\n",
        Reading::DOCUMENTED
    ));
    if dialect == Dialect::Athena {
        text.push_str("-- Athena reads a record's field names in any case (CloudTrail spells each one way).\n");
    }
    if !writer.caveats.is_empty() {
        text.push_str("-- It may select more events than the pattern matches, never fewer:\n");
        for caveat in &writer.caveats {
            let line = format!("{}: {}", caveat.condition, caveat.why());
            text.push_str(&format!("--   {}\n", comment_safe(&line)));
        }
    }
    text.push_str(&format!("SELECT *\nFROM {table}\nWHERE {condition};\n"));
    Ok(Query {
        text,
        caveats: writer.caveats,
    })
}

/// A comment's text on one line: control, line-breaking and reordering characters escaped,
/// so that nothing a pattern holds can end the comment and become SQL.
fn comment_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}') =>
            {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

/// Where a selector's value lives in the table.
enum Place {
    /// A `STRING` column or struct field (a JSON-text column itself too): text or NULL.
    Text(String),
    /// A path inside a JSON-text column: the JSON value itself, type and all.
    Json { column: String, path: String },
    /// A struct or array: NULL or not, nothing more.
    Container(String, &'static str),
}

struct Writer {
    dialect: Dialect,
    caveats: Vec<Caveat>,
}

impl Writer {
    /// The top level laid out one operand a line; an `OR` in parentheses, so that a condition
    /// added with `AND` (a partition's date) applies to all of it.
    fn top(&mut self, expr: &Expr) -> Result<String, SqlError> {
        let (children, joiner, wrap) = match expr {
            Expr::And(children) => (children, "\n  AND ", false),
            Expr::Or(children) => (children, "\n   OR ", true),
            Expr::Cmp(_) => return self.expr(expr),
        };
        let parts: Result<Vec<String>, SqlError> = children.iter().map(|c| self.expr(c)).collect();
        let joined = parts?.join(joiner);
        Ok(if wrap { format!("({joined})") } else { joined })
    }

    fn expr(&mut self, expr: &Expr) -> Result<String, SqlError> {
        let (children, joiner) = match expr {
            Expr::And(children) => (children, " AND "),
            Expr::Or(children) => (children, " OR "),
            Expr::Cmp(atom) => return self.atom(atom),
        };
        let parts: Result<Vec<String>, SqlError> = children.iter().map(|c| self.expr(c)).collect();
        Ok(format!("({})", parts?.join(joiner)))
    }

    fn atom(&mut self, atom: &Atom) -> Result<String, SqlError> {
        let condition = atom.to_string();
        let sql = match place(&atom.selector, self.dialect)? {
            Place::Text(column) => {
                let (sql, leaning) = text_condition(&column, &atom.pred, self.dialect, &condition)?;
                if let Some(leaning) = leaning {
                    self.caveats.push(Caveat {
                        condition,
                        leaning,
                        selector: atom.selector.clone(),
                    });
                }
                sql
            }
            Place::Json { column, path } => {
                json_condition(&column, &path, &atom.pred, self.dialect, &condition)?
            }
            Place::Container(column, what) => match atom.pred {
                Pred::IsNull | Pred::NotExists => {
                    self.caveats.push(Caveat {
                        condition,
                        leaning: Leaning::MissingOrNull,
                        selector: atom.selector.clone(),
                    });
                    format!("{column} IS NULL")
                }
                _ => {
                    return Err(SqlError::Container {
                        condition,
                        selector: atom.selector.to_string(),
                        what,
                    })
                }
            },
        };
        Ok(sql)
    }
}

/// Follows the selector through the table's columns.
fn place(selector: &Selector, dialect: Dialect) -> Result<Place, SqlError> {
    let shown = || selector.to_string();
    let mut shape = Shape::Struct(COLUMNS);
    let mut sql = String::new();
    for (i, step) in selector.0.iter().enumerate() {
        match (shape, step) {
            (Shape::Json, _) => {
                return Ok(Place::Json {
                    column: sql,
                    path: json_path(selector.0.get(i..).unwrap_or_default(), dialect),
                })
            }
            (Shape::Struct(fields), Step::Field(name)) => {
                let (spelled, inner) = field(fields, name, selector)?;
                let lower = spelled.to_ascii_lowercase();
                sql = if sql.is_empty() {
                    lower
                } else {
                    format!("{sql}.{lower}")
                };
                shape = inner;
            }
            (Shape::Array(inner), Step::Index(n)) => {
                sql = match dialect {
                    Dialect::Athena => format!("element_at({sql}, {})", n + 1),
                    Dialect::DuckDb => format!("{sql}[{}]", n + 1),
                };
                shape = *inner;
            }
            (Shape::Map, _) => {
                let why =
                    "the CloudTrail table holds this field in a map (MAP<STRING,STRING>), which cis-fix does not translate";
                return Err(SqlError::Step {
                    selector: shown(),
                    why: why.into(),
                });
            }
            (shape, _) => {
                let why = match shape {
                    Shape::Struct(_) => "an index on a struct",
                    Shape::Array(_) => "a field of an array",
                    _ => "a step into a string",
                };
                return Err(SqlError::Step {
                    selector: shown(),
                    why: format!("{why} has no value in the CloudTrail table"),
                });
            }
        }
    }
    Ok(match shape {
        Shape::Text | Shape::Json => Place::Text(sql),
        Shape::Struct(_) => Place::Container(sql, "a struct"),
        Shape::Array(_) => Place::Container(sql, "an array"),
        Shape::Map => Place::Container(sql, "a map"),
    })
}

/// The field of a struct a name selects; a name CloudTrail spells in another case is refused,
/// since the table would read both spellings and the pattern only one.
fn field(
    fields: &'static [(&'static str, Shape)],
    name: &str,
    selector: &Selector,
) -> Result<(&'static str, Shape), SqlError> {
    if let Some((spelled, shape)) = fields.iter().find(|(spelled, _)| *spelled == name) {
        return Ok((spelled, *shape));
    }
    match fields.iter().find(|(s, _)| s.eq_ignore_ascii_case(name)) {
        Some((spelled, _)) => Err(SqlError::Spelling {
            selector: selector.to_string(),
            spelled: (*spelled).into(),
        }),
        None => Err(SqlError::NoColumn(selector.to_string())),
    }
}

/// The JSON path of the steps left inside a JSON-text column, as a SQL string literal. A name
/// other than `[A-Za-z_][A-Za-z0-9_]*` is quoted as each engine's JSON path quotes it (a
/// pattern's names hold letters, digits, `_` and `-` only).
fn json_path(steps: &[Step], dialect: Dialect) -> String {
    let mut path = String::from("$");
    for step in steps {
        match step {
            Step::Field(name) if is_plain(name) => path.push_str(&format!(".{name}")),
            Step::Field(name) => match dialect {
                Dialect::Athena => path.push_str(&format!("[\"{name}\"]")),
                Dialect::DuckDb => path.push_str(&format!(".\"{name}\"")),
            },
            Step::Index(n) => path.push_str(&format!("[{n}]")),
        }
    }
    literal(&path)
}

fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A SQL string literal: `'` doubled, nothing else special (both engines take backslashes as
/// they are).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `= glob` as SQL on a text expression: `=` when the glob has no wildcard, else `LIKE` with
/// `%`, `_` and the escape character `\` escaped. The reading is the documented one: a `*`
/// inside the value is the character `*`.
fn string_match(expr: &str, glob: &str, negated: bool) -> String {
    let (mut pattern, mut wild, mut last_wild) = (String::new(), false, false);
    for (c, star) in stars(glob) {
        match (c, star) {
            // A run of stars is one wildcard.
            (_, Some(false)) if last_wild => {}
            (_, Some(false)) => {
                pattern.push('%');
                wild = true;
            }
            ('%' | '_' | '\\', _) => {
                pattern.push('\\');
                pattern.push(c);
            }
            (c, _) => pattern.push(c),
        }
        last_wild = star == Some(false);
    }
    match (wild, negated) {
        (false, false) => format!("{expr} = {}", literal(glob)),
        (false, true) => format!("{expr} <> {}", literal(glob)),
        (true, false) => format!("{expr} LIKE {} ESCAPE '\\'", literal(&pattern)),
        (true, true) => format!("{expr} NOT LIKE {} ESCAPE '\\'", literal(&pattern)),
    }
}

fn regex_match(expr: &str, regex: &str, negated: bool, dialect: Dialect) -> String {
    let call = match dialect {
        Dialect::Athena => format!("regexp_like({expr}, {})", literal(regex)),
        Dialect::DuckDb => format!("regexp_matches({expr}, {})", literal(regex)),
    };
    match negated {
        true => format!("NOT {call}"),
        false => call,
    }
}

/// The number as a DOUBLE literal both engines read exactly: the shortest digits that give
/// the same `f64`, in exponent form (`1.5e0`; a plain `1.5` is a DECIMAL in Trino).
fn number(value: f64, condition: &str) -> Result<String, SqlError> {
    match value.is_finite() {
        true => Ok(format!("{value:e}")),
        false => Err(SqlError::Number(condition.into())),
    }
}

fn rewritten_regex(source: &str, condition: &str) -> Result<String, SqlError> {
    regex::rewrite(source).map_err(|why| SqlError::Regex {
        condition: condition.into(),
        why,
    })
}

/// A condition on a text column, and why it may select more events, if it may.
fn text_condition(
    column: &str,
    pred: &Pred,
    dialect: Dialect,
    condition: &str,
) -> Result<(String, Option<Leaning>), SqlError> {
    use JsonType::{Boolean, Number, String as Str};
    let lost = |t| Some(Leaning::TypeLost(t));
    Ok(match pred {
        Pred::Str { negated, glob } => {
            let leaning = match negated {
                false => other_type_can_match(glob),
                // `!=` holds for any other type whose text differs, unless nothing can differ.
                true => !matches_any_string(glob),
            };
            (
                string_match(column, glob, *negated),
                leaning.then_some(Leaning::TypeLost(Str)),
            )
        }
        Pred::Num { op, value } => (
            format!(
                "TRY_CAST({column} AS DOUBLE) {} {}",
                sql_op(*op),
                number(value.value, condition)?
            ),
            lost(Number),
        ),
        Pred::Regex { negated, regex } => {
            let rewritten = rewritten_regex(&regex.source, condition)?;
            (
                regex_match(column, &rewritten, *negated, dialect),
                lost(Str),
            )
        }
        Pred::IsNull | Pred::NotExists => {
            (format!("{column} IS NULL"), Some(Leaning::MissingOrNull))
        }
        Pred::IsTrue => (format!("{column} = 'true'"), lost(Boolean)),
        Pred::IsFalse => (format!("{column} = 'false'"), lost(Boolean)),
    })
}

/// A condition on a value inside a JSON-text column: exact, the JSON type tested.
fn json_condition(
    column: &str,
    path: &str,
    pred: &Pred,
    dialect: Dialect,
    condition: &str,
) -> Result<String, SqlError> {
    let json = JsonAt {
        column,
        path,
        dialect,
    };
    Ok(match pred {
        Pred::Str { negated, glob } => format!(
            "({} AND {})",
            json.is_string(),
            string_match(&json.text(), glob, *negated)
        ),
        Pred::Num { op, value } => format!(
            "{} {} {}",
            json.number(),
            sql_op(*op),
            number(value.value, condition)?
        ),
        Pred::Regex { negated, regex } => {
            let rewritten = rewritten_regex(&regex.source, condition)?;
            format!(
                "({} AND {})",
                json.is_string(),
                regex_match(&json.text(), &rewritten, *negated, dialect)
            )
        }
        Pred::IsNull => json.kind_is("null", "NULL"),
        Pred::IsTrue => json.kind_is("true", "true"),
        Pred::IsFalse => json.kind_is("false", "false"),
        Pred::NotExists => json.missing(),
    })
}

/// A value at a path of a JSON-text column, per engine. Athena: `json_extract` gives the JSON
/// value (SQL NULL when missing), `json_format` its text, so a string's starts with `"`.
/// DuckDB: `json_type` names the type (SQL NULL when missing).
struct JsonAt<'a> {
    column: &'a str,
    path: &'a str,
    dialect: Dialect,
}

impl JsonAt<'_> {
    fn format(&self) -> String {
        format!("json_format(json_extract({}, {}))", self.column, self.path)
    }

    fn json_type(&self) -> String {
        format!("json_type({}, {})", self.column, self.path)
    }

    fn is_string(&self) -> String {
        match self.dialect {
            Dialect::Athena => format!("{} LIKE '\"%'", self.format()),
            Dialect::DuckDb => format!("{} = 'VARCHAR'", self.json_type()),
        }
    }

    /// A string's value, unquoted.
    fn text(&self) -> String {
        match self.dialect {
            Dialect::Athena => format!("json_extract_scalar({}, {})", self.column, self.path),
            Dialect::DuckDb => format!("json_extract_string({}, {})", self.column, self.path),
        }
    }

    /// A number's value; NULL for any other type.
    fn number(&self) -> String {
        match self.dialect {
            // A string's JSON text is quoted, a boolean's is `true`: neither casts.
            Dialect::Athena => format!("TRY_CAST({} AS DOUBLE)", self.format()),
            Dialect::DuckDb => format!(
                "(CASE WHEN {} IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST({} AS DOUBLE) END)",
                self.json_type(),
                self.text()
            ),
        }
    }

    /// The value is the JSON literal `athena` (`null`, `true`, `false`).
    fn kind_is(&self, athena: &str, duckdb: &str) -> String {
        match (self.dialect, duckdb) {
            (Dialect::Athena, _) => format!("{} = {}", self.format(), literal(athena)),
            (Dialect::DuckDb, "NULL") => format!("{} = 'NULL'", self.json_type()),
            (Dialect::DuckDb, value) => format!(
                "({} = 'BOOLEAN' AND {} = {})",
                self.json_type(),
                self.text(),
                literal(value)
            ),
        }
    }

    fn missing(&self) -> String {
        match self.dialect {
            Dialect::Athena => format!("json_extract({}, {}) IS NULL", self.column, self.path),
            Dialect::DuckDb => format!("{} IS NULL", self.json_type()),
        }
    }
}

fn sql_op(op: NumOp) -> &'static str {
    match op {
        NumOp::Ne => "<>",
        other => other.symbol(),
    }
}

/// Whether the glob matches every string (it is made of stars): `!=` then holds for no string.
fn matches_any_string(glob: &str) -> bool {
    !glob.is_empty() && glob.chars().all(|c| c == '*')
}

/// Whether the text a column holds for a number, a boolean, an object or an array could match
/// the glob: a sound over-approximation (`true` when unsure), so that a caveat is never
/// missing where the query can select more.
fn other_type_can_match(glob: &str) -> bool {
    let documented = Glob::new(glob, Reading::DOCUMENTED);
    if documented.matches("true") || documented.matches("false") {
        return true;
    }
    let literals: Vec<char> = stars(glob)
        .into_iter()
        .filter(|(_, star)| *star != Some(false))
        .map(|(c, _)| c)
        .collect();
    // A number's text has digits, a sign, a point and an exponent only.
    let number_like = literals
        .iter()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    // An object's or array's text starts with `{` or `[` and ends with `}` or `]`.
    let first = glob.trim_start_matches('*').chars().next();
    let last = glob.trim_end_matches('*').chars().last();
    let leading = glob.starts_with('*');
    let trailing = glob.ends_with('*');
    let container_like = (leading || matches!(first, Some('{' | '[')))
        && (trailing || matches!(last, Some('}' | ']')));
    number_like || container_like
}

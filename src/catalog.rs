//! The desired-state catalog: `plans/*.toml` loaded into typed controls.
//!
//! The files in `plans/` are compiled into the binary (so `--benchmark` works from any
//! directory), and users can pass `--catalog FILE` with the same schema. Every error names
//! the file, the line and the field.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::limits;
use crate::pattern::{self, Pattern};

mod check;
mod extends;
mod watch;

pub use watch::WatchRule;

/// The catalogs shipped with cis-fix: (benchmark name, file name, TOML source).
const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "cis-1.2",
        "plans/cis-1.2.toml",
        include_str!("../plans/cis-1.2.toml"),
    ),
    (
        "cis-1.4",
        "plans/cis-1.4.toml",
        include_str!("../plans/cis-1.4.toml"),
    ),
    (
        "cis-3.0",
        "plans/cis-3.0.toml",
        include_str!("../plans/cis-3.0.toml"),
    ),
    (
        "cis-5.0",
        "plans/cis-5.0.toml",
        include_str!("../plans/cis-5.0.toml"),
    ),
    (
        "cis-6.0",
        "plans/cis-6.0.toml",
        include_str!("../plans/cis-6.0.toml"),
    ),
    (
        "cis-7.0",
        "plans/cis-7.0.toml",
        include_str!("../plans/cis-7.0.toml"),
    ),
    // Not a CIS version: cis-7.0's controls and cis-fix's own beyond them (`extends`).
    (
        "hardened",
        "plans/hardened.toml",
        include_str!("../plans/hardened.toml"),
    ),
];

/// The newest built-in benchmark.
pub const DEFAULT_BENCHMARK: &str = "cis-7.0";
/// The newest catalog format this cis-fix reads; version 1 files are read as they always were.
/// Version 2 adds `extends` and each control's threat fields ([`Threat`]).
const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone)]
pub struct Catalog {
    /// The benchmark name, e.g. `cis-5.0`.
    pub benchmark: String,
    pub title: String,
    /// Whether, and in which standard, AWS Security Hub evaluates these controls: its ids
    /// (`security_hub`) are shown with it, so nobody expects Security Hub to agree where it
    /// does not check.
    pub security_hub_note: Option<String>,
    /// The built-in benchmark whose controls this catalog takes first, unchanged (`extends`).
    pub extends: Option<String>,
    /// The selected controls: all of them, unless narrowed by [`Catalog::select`].
    pub controls: Vec<Control>,
    /// Every control of the benchmark, whatever [`Catalog::select`] kept: the audit looks at
    /// them all to decide what a control may reuse (a topic that already delivers for
    /// another), so that a control's plan does not depend on the selection.
    all: Vec<Control>,
}

#[derive(Debug, Clone)]
pub struct Control {
    /// The id as this benchmark version numbers it: `4.1`, or `3.1` in v1.2.
    pub id: String,
    /// Stable across versions: `unauthorized-api-calls`.
    pub slug: String,
    pub title: String,
    pub level: u8,
    pub security_hub: Option<String>,
    pub pattern: Pattern,
    /// The pattern as written in the catalog, which is what cis-fix creates.
    pub pattern_text: String,
    /// Other patterns the benchmark text itself accepts for this control.
    pub also_accept: Vec<Alternative>,
    /// Patterns others check for (Security Hub, for one) that this benchmark's text does not
    /// offer: never accepted, but a filter written to one is told why it does not count.
    pub not_accepted: Vec<Alternative>,
    pub metric: MetricSpec,
    pub alarm: AlarmSpec,
    /// What the control is for, as attacks go (format version 2); empty for CIS's controls.
    pub threat: Threat,
    /// A second notification path beside the metric chain (format version 2): an EventBridge
    /// rule that does not depend on what the chain is made of. H13's only, of the built-ins.
    pub watch_rule: Option<WatchRule>,
}

/// What a control catches and misses, as catalog data (format version 2): shown by
/// `cis-fix controls`, and the reason a control beyond the benchmark exists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threat {
    /// What the pattern catches, in a sentence or two.
    pub catches: Option<String>,
    /// Why the CIS controls do not catch it.
    pub cis_gap: Option<String>,
    /// MITRE ATT&CK technique ids (`T1562.008`).
    pub attack: Vec<String>,
    /// Stratus Red Team technique ids (`aws.defense-evasion.cloudtrail-event-selectors`).
    pub stratus: Vec<String>,
    /// What it cannot catch.
    pub limits: Option<String>,
}

impl Threat {
    pub fn is_empty(&self) -> bool {
        *self == Threat::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub namespace: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub statistic: String,
    pub period: i32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub evaluation_periods: i32,
}

/// A pattern beside a control's own, from `also_accept` or `not_accepted`.
#[derive(Debug, Clone)]
pub struct Alternative {
    pub pattern: Pattern,
    /// The pattern as written in the catalog: a filter carrying an `also_accept` text is as
    /// verbatim as one carrying the control's `pattern_text`.
    pub text: String,
    /// What the catalog calls it (`SSO-aware alternative`); `None` for a plain string entry.
    pub name: Option<String>,
    /// What it leaves out, or why it is not accepted, in a few words from the catalog.
    pub note: Option<String>,
}

impl Control {
    /// All patterns that satisfy this control: the catalog's own and the accepted alternatives.
    pub fn accepted_patterns(&self) -> impl Iterator<Item = &Pattern> {
        std::iter::once(&self.pattern).chain(self.also_accept.iter().map(|a| &a.pattern))
    }

    /// The texts of [`Control::accepted_patterns`], in the same order.
    pub fn accepted_texts(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.pattern_text.as_str())
            .chain(self.also_accept.iter().map(|a| a.text.as_str()))
    }
}

impl Alternative {
    /// How views name the `index`-th (0-based) entry of its list: its `name`, else
    /// `alternative N` (1-based), as a plain string entry has no name.
    pub fn label(&self, index: usize) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("alternative {}", index + 1))
    }
}

/// `--version`: the version, and the benchmark versions built in.
pub fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let names: Vec<String> = builtin_names()
            .into_iter()
            .map(|name| {
                if name == DEFAULT_BENCHMARK {
                    format!("{name} (default)")
                } else {
                    name.to_string()
                }
            })
            .collect();
        format!(
            "{}\nbenchmarks: {}",
            env!("CARGO_PKG_VERSION"),
            names.join(", ")
        )
    })
}

/// Names of the built-in benchmarks, in catalog order.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(name, _, _)| *name).collect()
}

/// Loads a built-in benchmark by name.
pub fn load_builtin(name: &str) -> Result<Catalog> {
    let (_, file, source) = BUILTIN
        .iter()
        .find(|(builtin, _, _)| *builtin == name)
        .ok_or_else(|| Error::UnknownBenchmark {
            name: name.to_string(),
            available: match suggest_benchmark(name) {
                Some(meant) => format!("{} (did you mean {meant}?)", builtin_names().join(", ")),
                None => builtin_names().join(", "),
            },
        })?;
    parse(source, file)
}

/// Loads a user's catalog file.
pub fn load_file(path: &Path) -> Result<Catalog> {
    let source = std::fs::read_to_string(path).map_err(|source| Error::CatalogRead {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&source, &path.display().to_string())
}

// ---- the file schema -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSchema {
    format_version: Spanned<u32>,
    /// Version 2: a built-in benchmark whose controls and defaults come first.
    #[serde(default)]
    extends: Option<Spanned<String>>,
    benchmark: String,
    title: String,
    #[serde(default)]
    security_hub_note: Option<String>,
    /// Required in version 1; with `extends`, the base's defaults apply where it is silent.
    #[serde(default)]
    defaults: Option<Settings>,
    #[serde(rename = "control", default)]
    controls: Vec<Spanned<ControlSchema>>,
}

/// Keys that `[defaults]` sets and a control may override.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct Settings {
    namespace: Option<Spanned<String>>,
    metric_value: Option<Spanned<String>>,
    statistic: Option<Spanned<String>>,
    period: Option<Spanned<i32>>,
    threshold: Option<Spanned<f64>>,
    comparison_operator: Option<Spanned<String>>,
    evaluation_periods: Option<Spanned<i32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ControlSchema {
    id: Spanned<String>,
    slug: Spanned<String>,
    title: String,
    level: u8,
    security_hub: Option<String>,
    metric_name: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default)]
    also_accept: Vec<Spanned<AlternativeSchema>>,
    #[serde(default)]
    not_accepted: Vec<Spanned<AlternativeSchema>>,
    // Any [defaults] key may be overridden per control. (Listed out rather than
    // `#[serde(flatten)]`, which would lose both `deny_unknown_fields` and the spans.)
    namespace: Option<Spanned<String>>,
    metric_value: Option<Spanned<String>>,
    statistic: Option<Spanned<String>>,
    period: Option<Spanned<i32>>,
    threshold: Option<Spanned<f64>>,
    comparison_operator: Option<Spanned<String>>,
    evaluation_periods: Option<Spanned<i32>>,
    // Version 2: what the control is for (`Threat`).
    catches: Option<Spanned<String>>,
    cis_gap: Option<Spanned<String>>,
    attack: Option<Spanned<Vec<String>>>,
    stratus: Option<Spanned<Vec<String>>>,
    limits: Option<Spanned<String>>,
    // Version 2: `[control.watch_rule]` (`WatchRule`).
    watch_rule: Option<Spanned<watch::WatchRuleSchema>>,
}

/// An `also_accept` or `not_accepted` entry: a plain pattern string (the form every catalog
/// had at first, still read), or a table that names the pattern and says what it leaves out.
enum AlternativeSchema {
    Text(String),
    Table(AlternativeTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlternativeTable {
    pattern: Spanned<String>,
    name: Option<String>,
    note: Option<String>,
}

impl<'de> Deserialize<'de> for AlternativeSchema {
    // By hand rather than `#[serde(untagged)]`, which buffers the value and so loses the
    // spans that point an error at the line of the pattern.
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = AlternativeSchema;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a pattern string, or a table with `pattern` and optional `name` and `note`",
                )
            }
            fn visit_str<E: serde::de::Error>(
                self,
                text: &str,
            ) -> std::result::Result<Self::Value, E> {
                Ok(AlternativeSchema::Text(text.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                AlternativeTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(AlternativeSchema::Table)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl AlternativeSchema {
    /// The pattern text and where it starts in the file (its opening quote).
    fn pattern_at(entry: &Spanned<AlternativeSchema>) -> (&str, usize) {
        match entry.get_ref() {
            AlternativeSchema::Text(text) => (text, entry.span().start),
            AlternativeSchema::Table(table) => {
                (table.pattern.get_ref(), table.pattern.span().start)
            }
        }
    }
}

impl ControlSchema {
    fn overrides(&self) -> Settings {
        Settings {
            namespace: self.namespace.clone(),
            metric_value: self.metric_value.clone(),
            statistic: self.statistic.clone(),
            period: self.period.clone(),
            threshold: self.threshold.clone(),
            comparison_operator: self.comparison_operator.clone(),
            evaluation_periods: self.evaluation_periods.clone(),
        }
    }
}

/// Parses catalog text; `origin` names the file in errors. Each step reads and checks one
/// part; every value cis-fix would send to AWS is also held to AWS's limits (`check.rs`), so
/// that a catalog AWS would refuse stops here, before any call.
pub fn parse(source: &str, origin: &str) -> Result<Catalog> {
    let src = Source {
        text: source,
        origin,
    };
    let file = read_schema(&src)?;
    let version = check_header(&src, &file)?;
    let (base, defaults) = extends::base(&src, &file)?;
    let mut controls: Vec<Control> = base.map(|b| b.all).unwrap_or_default();
    for spanned in &file.controls {
        let control = read_control(&src, version, &defaults, spanned, &controls)?;
        controls.push(control);
    }
    Ok(Catalog {
        benchmark: file.benchmark,
        title: file.title,
        security_hub_note: file.security_hub_note,
        extends: file.extends.map(|e| e.into_inner()),
        all: controls.clone(),
        controls,
    })
}

/// The catalog's text and name, for errors that point into it.
struct Source<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Source<'_> {
    /// An error at byte `offset` of the text, named `FILE:line L, column C`.
    fn err(&self, offset: usize, message: String) -> Error {
        Error::Catalog {
            origin: format!("{}:{}", self.origin, line_col(self.text, offset)),
            message,
        }
    }
}

fn read_schema(src: &Source) -> Result<FileSchema> {
    toml::from_str(src.text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let message = e.message().trim();
        // Type errors do not name the key; the line they point at does.
        match key_at(src.text, offset) {
            Some(key) if !message.contains(&format!("`{key}`")) => {
                src.err(offset, format!("field `{key}`: {message}"))
            }
            _ => src.err(offset, message.to_string()),
        }
    })
}

/// The format version, one this cis-fix reads; a version 1 file as version 1 always was.
fn check_header(src: &Source, file: &FileSchema) -> Result<u32> {
    let version = *file.format_version.get_ref();
    if !(1..=FORMAT_VERSION).contains(&version) {
        return Err(src.err(
            file.format_version.span().start,
            format!(
                "field `format_version`: this cis-fix reads versions 1 and {FORMAT_VERSION}, the file says {version}"
            ),
        ));
    }
    if version == 1 {
        if let Some(extends) = &file.extends {
            return Err(extends::needs_version_2(
                src,
                "extends",
                extends.span().start,
            ));
        }
        if file.defaults.is_none() {
            return Err(src.err(0, "missing field `defaults`".into()));
        }
    }
    if file.controls.is_empty() && file.extends.is_none() {
        return Err(src.err(
            0,
            "the file has no [[control]] tables; add at least one".into(),
        ));
    }
    Ok(version)
}

/// A control being read: where its errors point, and its settings beside `[defaults]`.
struct ControlCtx<'a> {
    src: &'a Source<'a>,
    id: String,
    /// The start of its `[[control]]` table, where an error about a missing key points.
    start: usize,
    own: Settings,
    defaults: &'a Settings,
}

impl ControlCtx<'_> {
    /// `control ID, field `FIELD`: PROBLEM`, at byte `offset`.
    fn err(&self, offset: usize, field: &str, problem: impl std::fmt::Display) -> Error {
        self.src.err(
            offset,
            format!("control {}, field `{field}`: {problem}", self.id),
        )
    }

    /// The control's own setting, else `[defaults]`'s.
    fn setting<T>(
        &self,
        field: &str,
        pick: fn(&Settings) -> &Option<Spanned<T>>,
    ) -> Result<&Spanned<T>> {
        pick(&self.own)
            .as_ref()
            .or(pick(self.defaults).as_ref())
            .ok_or_else(|| {
                self.src.err(
                    self.start,
                    format!(
                        "control {}: field `{field}` is set neither on the control nor in [defaults]",
                        self.id
                    ),
                )
            })
    }
}

/// One `[[control]]` table, read and checked, its settings resolved against `[defaults]`.
fn read_control(
    src: &Source,
    version: u32,
    defaults: &Settings,
    spanned: &Spanned<ControlSchema>,
    earlier: &[Control],
) -> Result<Control> {
    let c = spanned.get_ref();
    let (id, slug) = identity(src, spanned, earlier)?;
    let ctx = ControlCtx {
        src,
        id,
        start: spanned.span().start,
        own: c.overrides(),
        defaults,
    };
    if !(1..=2).contains(&c.level) {
        return Err(ctx.err(ctx.start, "level", "must be 1 or 2"));
    }
    let (pattern, also_accept, not_accepted) = patterns(&ctx, c)?;
    let metric = metric(&ctx, &c.metric_name)?;
    let alarm = alarm(&ctx)?;
    let threat = extends::threat(&ctx, version, c)?;
    let watch_rule = watch::read(&ctx, version, &slug, &c.watch_rule)?;
    check::derived(&ctx, c.id.span().start, &slug, c.slug.span().start)?;
    Ok(Control {
        id: ctx.id,
        slug,
        title: c.title.clone(),
        level: c.level,
        security_hub: c.security_hub.clone(),
        pattern,
        pattern_text: c.pattern.get_ref().clone(),
        also_accept,
        not_accepted,
        metric,
        alarm,
        threat,
        watch_rule,
    })
}

/// A control's id and slug: present, the slug one cis-fix can build names from, and neither
/// taken by an earlier control.
fn identity(
    src: &Source,
    spanned: &Spanned<ControlSchema>,
    earlier: &[Control],
) -> Result<(String, String)> {
    let c = spanned.get_ref();
    let id = c.id.get_ref().trim().to_string();
    let slug = c.slug.get_ref().trim().to_string();
    if id.is_empty() {
        return Err(src.err(c.id.span().start, "field `id` must not be empty".into()));
    }
    if slug.is_empty()
        || !slug
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
    {
        return Err(src.err(
            c.slug.span().start,
            format!("field `slug`: `{slug}` must be lowercase letters, digits and `-`"),
        ));
    }
    if let Some(dup) = earlier.iter().find(|o| o.id == id || o.slug == slug) {
        return Err(src.err(
            spanned.span().start,
            format!(
                "control {id} ({slug}) repeats the id or slug of control {} ({})",
                dup.id, dup.slug
            ),
        ));
    }
    Ok((id, slug))
}

/// The pattern cis-fix creates, within what AWS takes; the alternatives it accepts; and the
/// variants others check for that the benchmark does not offer.
fn patterns(
    ctx: &ControlCtx,
    c: &ControlSchema,
) -> Result<(Pattern, Vec<Alternative>, Vec<Alternative>)> {
    let parse = |text: &str, start: usize, name: &str| {
        pattern::parse(text).map_err(|e| {
            // Point at the line inside the string where the pattern went wrong.
            let at = start + string_body_offset(ctx.src.text, start) + e.position;
            ctx.err(at, name, format!("invalid filter pattern {e}"))
        })
    };
    check::text(ctx, "pattern", &c.pattern, check::PATTERN)?;
    let pattern = parse(c.pattern.get_ref(), c.pattern.span().start, "pattern")?;
    let alternatives = |entries: &[Spanned<AlternativeSchema>], name: &str| {
        entries
            .iter()
            .map(|entry| {
                let (text, start) = AlternativeSchema::pattern_at(entry);
                let (label, note) = match entry.get_ref() {
                    AlternativeSchema::Text(_) => (None, None),
                    AlternativeSchema::Table(t) => (t.name.clone(), t.note.clone()),
                };
                Ok(Alternative {
                    pattern: parse(text, start, name)?,
                    text: text.to_string(),
                    name: label,
                    note,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let also_accept = alternatives(&c.also_accept, "also_accept")?;
    let not_accepted = alternatives(&c.not_accepted, "not_accepted")?;
    Ok((pattern, also_accept, not_accepted))
}

/// The metric the filter publishes and the alarm watches.
fn metric(ctx: &ControlCtx, name: &Spanned<String>) -> Result<MetricSpec> {
    // Trimmed: the name is what both calls are sent, and what existing metrics are matched by.
    let trimmed = Spanned::new(name.span(), name.get_ref().trim().to_string());
    check::text(ctx, "metric_name", &trimmed, check::METRIC_NAME)?;
    let namespace = ctx.setting("namespace", |s| &s.namespace)?;
    check::namespace(ctx, namespace)?;
    let value = ctx.setting("metric_value", |s| &s.metric_value)?;
    check::text(ctx, "metric_value", value, check::METRIC_VALUE)?;
    Ok(MetricSpec {
        name: trimmed.into_inner(),
        namespace: namespace.get_ref().clone(),
        value: value.get_ref().clone(),
    })
}

/// The alarm's settings.
fn alarm(ctx: &ControlCtx) -> Result<AlarmSpec> {
    let statistic = ctx.setting("statistic", |s| &s.statistic)?;
    check::one_of(ctx, "statistic", statistic, limits::STATISTICS)?;
    let operator = ctx.setting("comparison_operator", |s| &s.comparison_operator)?;
    check::one_of(
        ctx,
        "comparison_operator",
        operator,
        limits::COMPARISON_OPERATORS,
    )?;
    let period = ctx.setting("period", |s| &s.period)?;
    let evaluation_periods = ctx.setting("evaluation_periods", |s| &s.evaluation_periods)?;
    check::evaluation(ctx, period, evaluation_periods)?;
    let threshold = ctx.setting("threshold", |s| &s.threshold)?;
    if !threshold.get_ref().is_finite() {
        return Err(ctx.err(
            threshold.span().start,
            "threshold",
            "must be a finite number",
        ));
    }
    Ok(AlarmSpec {
        statistic: statistic.get_ref().clone(),
        period: *period.get_ref(),
        threshold: *threshold.get_ref(),
        comparison_operator: operator.get_ref().clone(),
        evaluation_periods: *evaluation_periods.get_ref(),
    })
}

impl Catalog {
    /// Every control of the benchmark or catalog file, in catalog order, whatever
    /// [`Catalog::select`] kept.
    pub fn benchmark_controls(&self) -> &[Control] {
        &self.all
    }

    /// Narrows the catalog to the controls named by id or slug, in catalog order. An unknown
    /// name is refused with the closest ids or slugs, and an empty one (`--controls 4.1,`)
    /// is named as such.
    pub fn select(mut self, wanted: &[String]) -> Result<Catalog> {
        if wanted.is_empty() {
            return Ok(self);
        }
        let missing: Vec<&str> = wanted
            .iter()
            .map(|w| w.trim())
            .filter(|w| !self.controls.iter().any(|c| c.id == *w || c.slug == *w))
            .collect();
        // Another version's numbering (`4.1` under cis-7.0): say which control it is here.
        let renumbered: Option<Vec<String>> =
            missing.iter().map(|w| self.other_numbering(w)).collect();
        if let Some(said) = renumbered.filter(|s| !s.is_empty()) {
            return Err(Error::OtherNumbering {
                said: said.join("; "),
                benchmark: self.benchmark.clone(),
            });
        }
        let unknown: Vec<String> = missing
            .into_iter()
            .map(|w| {
                if w.is_empty() {
                    return "\"\" (an empty control id: a stray comma?)".to_string();
                }
                match suggest_control(&self.controls, w).as_slice() {
                    [] => w.to_string(),
                    [one] => format!("{w} (did you mean {one}?)"),
                    [first, second] => format!("{w} (did you mean {first} or {second}?)"),
                    _ => w.to_string(),
                }
            })
            .collect();
        if !unknown.is_empty() {
            let ids: Vec<&str> = self.controls.iter().map(|c| c.id.as_str()).collect();
            return Err(Error::UnknownControls {
                unknown: unknown.join(", "),
                benchmark: self.benchmark.clone(),
                valid: id_ranges(&ids),
                lister: if self.benchmark == DEFAULT_BENCHMARK {
                    "`cis-fix controls` lists them".into()
                } else {
                    "`cis-fix controls` with the same --benchmark or --catalog lists them".into()
                },
            });
        }
        self.controls.retain(|c| {
            wanted
                .iter()
                .any(|w| c.id == w.trim() || c.slug == w.trim())
        });
        Ok(self)
    }
}

impl Catalog {
    /// `4.1 is cis-5.0's numbering; in cis-7.0 it is 5.1 (unauthorized-api-calls)`, when `id`
    /// is no control of this catalog but one of another built-in benchmark (the newest such).
    fn other_numbering(&self, id: &str) -> Option<String> {
        // The benchmarks' own numbering first, newest first; then catalogs that extend one
        // (whose CIS ids are their base's, and whose own ids, `H1`, no benchmark has).
        let builtins = BUILTIN
            .iter()
            .rev()
            .filter(|(name, _, _)| *name != self.benchmark)
            .filter_map(|(name, file, source)| Some((*name, parse(source, file).ok()?)));
        let (plain, extending): (Vec<_>, Vec<_>) = builtins.partition(|(_, c)| c.extends.is_none());
        plain
            .into_iter()
            .chain(extending)
            .find_map(|(name, other)| {
                let control = other.all.iter().find(|c| c.id == id)?;
                Some(match self.all.iter().find(|c| c.slug == control.slug) {
                    Some(here) => format!(
                        "{id} is {name}'s numbering; in {} it is {} ({})",
                        self.benchmark, here.id, here.slug
                    ),
                    None => format!(
                        "{id} is {name}'s numbering ({}), a control {} does not have",
                        control.slug, self.benchmark
                    ),
                })
            })
    }
}

/// Control ids said compactly, in catalog order: a run of three or more consecutive ids in one
/// section as a range (`5.1–5.15`), others one by one (`3.1, 3.3, x`). A list of every id and
/// slug of a benchmark is a line of 600 characters, which `cis-fix controls` shows better.
pub fn id_ranges(ids: &[&str]) -> String {
    // (section, number) of an id written `SECTION.NUMBER`, or `LETTERS NUMBER` (`H3`).
    let split = |id: &str| {
        let (section, number) = match id.rsplit_once('.') {
            Some(split) => split,
            None => id.split_at(id.find(|c: char| c.is_ascii_digit()).filter(|at| *at > 0)?),
        };
        Some((section.to_string(), number.parse::<u32>().ok()?))
    };
    let mut runs: Vec<(&str, &str, usize)> = Vec::new();
    let mut previous: Option<(String, u32)> = None;
    for id in ids {
        let this = split(id);
        let follows = matches!((&previous, &this), (Some((s, n)), Some((t, m))) if s == t && n.checked_add(1) == Some(*m));
        match runs.last_mut() {
            Some((_, last, length)) if follows => {
                *last = id;
                *length += 1;
            }
            _ => runs.push((id, id, 1)),
        }
        previous = this;
    }
    let said: Vec<String> = runs
        .into_iter()
        .map(|(first, last, length)| match length {
            1 => first.to_string(),
            2 => format!("{first}, {last}"),
            _ => format!("{first}–{last}"),
        })
        .collect();
    said.join(", ")
}

/// The ids or slugs of `controls` that an unknown name most likely meant: at most two, none
/// when the name is too far from all of them (or close to too many).
fn suggest_control(controls: &[Control], name: &str) -> Vec<String> {
    let lowered = name.to_ascii_lowercase();
    // Written another way: `CIS-4.1`, `cis4.1`, `Unauthorized_API_Calls`.
    let normalised = lowered.replace(['_', ' '], "-");
    let bare = strip_cis(&normalised);
    if let Some(c) = controls
        .iter()
        .find(|c| c.slug == normalised || c.id == bare)
    {
        return vec![if c.id == bare {
            c.id.clone()
        } else {
            c.slug.clone()
        }];
    }
    // Ids are numbers: one digit off is as close to the neighbours as to the one meant.
    if !normalised.chars().any(|ch| ch.is_ascii_alphabetic()) {
        return vec![];
    }
    // A typo: a few characters off a slug.
    let budget = (normalised.chars().count() / 5).clamp(1, 3);
    let mut scored: Vec<(usize, &Control)> = controls
        .iter()
        .map(|c| (levenshtein(&normalised, &c.slug), c))
        .filter(|(d, _)| *d <= budget)
        .collect();
    scored.sort_by_key(|(d, _)| *d);
    if let Some((best, _)) = scored.first().copied() {
        let closest: Vec<String> = scored
            .iter()
            .filter(|(d, _)| *d == best)
            .map(|(_, c)| c.slug.clone())
            .collect();
        if closest.len() <= 2 {
            return closest;
        }
    }
    // Shortened or partial: every word a prefix of the slug's words, in order
    // (`console-auth-failures`, `root-usage`).
    let words: Vec<&str> = normalised.split('-').filter(|w| !w.is_empty()).collect();
    let abbreviates = |slug: &str| {
        let mut slug_words = slug.split('-');
        !words.is_empty() && words.iter().all(|w| slug_words.any(|s| s.starts_with(w)))
    };
    let matches: Vec<String> = controls
        .iter()
        .filter(|c| abbreviates(&c.slug))
        .map(|c| c.slug.clone())
        .collect();
    if matches.len() <= 2 {
        matches
    } else {
        vec![]
    }
}

/// `cis-5.0`, `cis5.0`, `cis 5.0` → `5.0`; anything else as it is.
fn strip_cis(name: &str) -> &str {
    match name.strip_prefix("cis") {
        Some(rest) => rest.trim_start_matches(['-', '_', ' ']),
        None => name,
    }
}

/// The built-in benchmark that `name`, which is not one, most likely means: `5.0`, `cis5.0`,
/// `CIS-5`, `v5.0` → `cis-5.0`. `None` when none is close, or several are.
pub fn suggest_benchmark(name: &str) -> Option<&'static str> {
    let lowered = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    let version = strip_cis(&lowered).trim_start_matches('v');
    let names = builtin_names();
    let by_version: Vec<&'static str> = names
        .iter()
        .copied()
        .filter(|b| {
            let own = strip_cis(b);
            !version.is_empty() && (own == version || own == format!("{version}.0"))
        })
        .collect();
    if let [one] = by_version.as_slice() {
        return Some(one);
    }
    // A typo: one or two characters off (`cis-50`, `cis-5.O`), and closer than the others.
    let distances: Vec<(usize, &'static str)> = names
        .iter()
        .map(|b| (levenshtein(&lowered, b), *b))
        .collect();
    let best = distances
        .iter()
        .map(|(d, _)| *d)
        .min()
        .filter(|d| *d <= 2)?;
    match distances
        .iter()
        .filter(|(d, _)| *d == best)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [(_, one)] => Some(one),
        _ => None,
    }
}

/// `--benchmark NAME`: a built-in benchmark, or an error that names the closest one and
/// lists them all (for clap's `value_parser`).
pub fn parse_benchmark(name: &str) -> std::result::Result<String, String> {
    if builtin_names().contains(&name) {
        return Ok(name.to_string());
    }
    let hint = suggest_benchmark(name)
        .map(|b| format!("did you mean {b}? "))
        .unwrap_or_default();
    Err(format!(
        "unknown benchmark `{name}`; {hint}available: {}",
        builtin_names().join(", ")
    ))
}

/// Edit distance (insertions, deletions, substitutions) between two short names.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = i;
        let mut previous = i + 1;
        let mut next = Vec::with_capacity(row.len());
        next.push(previous);
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX - 1);
            let cost = diagonal + usize::from(ca != *cb);
            let value = cost.min(above + 1).min(previous + 1);
            next.push(value);
            diagonal = above;
            previous = value;
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

/// `line L, column C` (1-based) of a byte offset.
fn line_col(source: &str, offset: usize) -> String {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("line {line}, column {column}")
}

/// The key of a `key = value` line containing `offset`.
fn key_at(source: &str, offset: usize) -> Option<&str> {
    let start = source.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line = source.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    .then_some(key)
}

/// A TOML string's span starts at its opening quote(s); the pattern text starts after them.
fn string_body_offset(source: &str, start: usize) -> usize {
    let rest = source.get(start..).unwrap_or("");
    if rest.starts_with("'''") || rest.starts_with("\"\"\"") {
        // A newline right after a multi-line opener is not part of the string.
        let after = rest.get(3..).unwrap_or("");
        3 + usize::from(after.starts_with('\n')) + usize::from(after.starts_with("\r\n")) * 2
    } else {
        usize::from(rest.starts_with('\'') || rest.starts_with('"'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_catalog_loads_and_every_pattern_parses() {
        for name in builtin_names() {
            let catalog = load_builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(catalog.benchmark, name);
            let expected = match name {
                "cis-1.2" => 14,
                "hardened" => 28,
                _ => 15,
            };
            assert_eq!(catalog.controls.len(), expected, "{name}");
            for c in &catalog.controls {
                assert_eq!(c.metric.namespace, "CISBenchmark");
                assert_eq!(c.alarm.statistic, "Sum");
                assert_eq!(c.alarm.period, 300);
                assert_eq!(c.alarm.threshold, 1.0);
                assert_eq!(c.alarm.comparison_operator, "GreaterThanOrEqualToThreshold");
                assert_eq!(c.alarm.evaluation_periods, 1);
                // The stored text is what cis-fix creates; it must round-trip through our parser.
                assert_eq!(pattern::parse(&c.pattern_text).unwrap(), c.pattern);
            }
        }
    }

    /// Every built-in catalog, including any added later, within AWS's limits: loading runs
    /// the same checks as a user's catalog, which the inflated pattern shows.
    #[test]
    fn every_builtin_catalog_is_within_aws_limits() {
        for name in builtin_names() {
            let catalog = load_builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            for c in catalog.benchmark_controls() {
                assert!(limits::length(&c.pattern_text) <= limits::FILTER_PATTERN.max);
            }
            let (_, file, source) = BUILTIN.iter().find(|(n, _, _)| *n == name).unwrap();
            // The first pattern the file itself writes (one that extends writes its base's
            // nowhere).
            let first = &catalog
                .controls
                .iter()
                .find(|c| source.contains(c.pattern_text.as_str()))
                .unwrap()
                .pattern_text;
            let inflated = format!(
                "{} && ($.x = \"{}\") }}",
                first.trim_end().trim_end_matches('}'),
                "x".repeat(1024)
            );
            let err = parse(&source.replacen(first.as_str(), &inflated, 1), file)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("{file}:line "))
                    && err.contains("filterPattern takes at most 1024"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn ids_follow_each_versions_numbering() {
        let v12 = load_builtin("cis-1.2").unwrap();
        assert_eq!(v12.controls[0].id, "3.1");
        assert_eq!(v12.controls[0].slug, "unauthorized-api-calls");
        let v5 = load_builtin("cis-5.0").unwrap();
        assert_eq!(v5.controls[5].id, "4.6");
        assert_eq!(v5.controls[5].slug, "console-authentication-failures");
        assert_eq!(v5.controls[14].slug, "organizations-changes");
        for name in builtin_names() {
            let slugs: Vec<String> = load_builtin(name)
                .unwrap()
                .controls
                .into_iter()
                .map(|c| c.slug)
                .collect();
            assert_eq!(
                slugs[..14],
                v5.controls[..14]
                    .iter()
                    .map(|c| c.slug.clone())
                    .collect::<Vec<_>>()[..]
            );
        }
    }

    #[test]
    fn select_by_id_or_slug_and_reject_unknown() {
        let catalog = load_builtin("cis-5.0").unwrap();
        let picked = catalog
            .clone()
            .select(&["console-authentication-failures".into(), "4.1".into()])
            .unwrap();
        let ids: Vec<&str> = picked.controls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["4.1", "4.6"]);

        let err = catalog
            .select(&["4.1".into(), "9.9".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("9.9"), "{err}");
        assert!(err.contains("valid for cis-5.0: 4.1–4.15"), "{err}");
    }

    #[test]
    fn unknown_benchmark_lists_the_available_ones() {
        let err = load_builtin("cis-9").unwrap_err().to_string();
        assert!(err.contains("cis-1.2, cis-1.4, cis-3.0, cis-5.0"), "{err}");
        assert!(!err.contains("did you mean"), "{err}");
        let err = load_builtin("5.0").unwrap_err().to_string();
        assert!(err.contains("(did you mean cis-5.0?)"), "{err}");
    }

    #[test]
    fn a_selection_keeps_the_whole_benchmark_beside_it() {
        let catalog = load_builtin("cis-5.0").unwrap();
        let picked = catalog.clone().select(&["4.2".into()]).unwrap();
        assert_eq!(picked.controls.len(), 1);
        let all: Vec<&str> = picked
            .benchmark_controls()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        let expected: Vec<&str> = catalog.controls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(all, expected);
        // Narrowing again narrows the selection, not the benchmark.
        let again = catalog
            .select(&["4.1".into(), "4.2".into()])
            .unwrap()
            .select(&["4.2".into()])
            .unwrap();
        assert_eq!(again.controls.len(), 1);
        assert_eq!(again.benchmark_controls().len(), 15);
    }

    #[test]
    fn control_ids_are_said_as_ranges() {
        assert_eq!(id_ranges(&["5.1", "5.2", "5.3", "5.4"]), "5.1–5.4");
        assert_eq!(id_ranges(&["3.1", "3.2", "3.4"]), "3.1, 3.2, 3.4");
        assert_eq!(
            id_ranges(&["4.1", "4.2", "4.3", "4.5", "x", "5.1", "5.2", "5.3"]),
            "4.1–4.3, 4.5, x, 5.1–5.3"
        );
        // A run does not cross sections, nor ids that are not numbers.
        assert_eq!(id_ranges(&["4.9", "5.10", "5.11"]), "4.9, 5.10, 5.11");
        assert_eq!(id_ranges(&["a.1", "a.x", "a.2"]), "a.1, a.x, a.2");
        assert_eq!(id_ranges(&[]), "");
        // Every built-in benchmark: one range, a line anyone can read.
        for name in builtin_names() {
            let catalog = load_builtin(name).unwrap();
            let ids: Vec<&str> = catalog.controls.iter().map(|c| c.id.as_str()).collect();
            let said = id_ranges(&ids);
            assert!(
                said.chars().count() < 20 && said.contains('–'),
                "{name}: {said}"
            );
        }
    }

    #[test]
    fn an_empty_control_id_is_named_as_such() {
        let catalog = load_builtin("cis-5.0").unwrap();
        // `--controls 4.1,`
        let err = catalog
            .clone()
            .select(&["4.1".into(), "".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown control \"\" (an empty control id: a stray comma?); valid for cis-5.0: 4.1–4.15, or their slugs; `cis-fix controls` with the same --benchmark or --catalog lists them"),
            "{err}"
        );
        let err = catalog
            .select(&[" ".into(), "9.9".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown controls \"\" (an empty control id: a stray comma?), 9.9;"),
            "{err}"
        );
    }

    #[test]
    fn unknown_controls_come_with_the_closest_ids_or_slugs() {
        let catalog = load_builtin("cis-5.0").unwrap();
        let suggested = |name: &str| suggest_control(&catalog.controls, name);
        for (typed, meant) in [
            // Shortened words.
            ("console-auth-failures", "console-authentication-failures"),
            ("root-usage", "root-account-usage"),
            ("cmk-disable", "cmk-disable-or-deletion"),
            // Typos.
            ("unauthorised-api-calls", "unauthorized-api-calls"),
            ("vpc-change", "vpc-changes"),
            ("nacl_changes", "nacl-changes"),
            // Written another way.
            ("Unauthorized-API-Calls", "unauthorized-api-calls"),
            ("CIS-4.1", "4.1"),
            ("cis4.10", "4.10"),
        ] {
            assert_eq!(suggested(typed), [meant], "{typed}");
        }
        // Two equally close: both.
        assert_eq!(
            suggested("console"),
            [
                "console-signin-without-mfa",
                "console-authentication-failures"
            ]
        );
        // Nothing close, too many, or a number off by a digit: nothing.
        for typed in ["kubernetes", "changes", "9.9", "4.16", "x"] {
            assert!(
                suggested(typed).is_empty(),
                "{typed}: {:?}",
                suggested(typed)
            );
        }
        // In the error.
        let err = catalog
            .clone()
            .select(&["console-auth-failures".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("unknown control console-auth-failures (did you mean console-authentication-failures?); valid for cis-5.0:"),
            "{err}"
        );
        let err = catalog.select(&["console".into()]).unwrap_err().to_string();
        assert!(
            err.starts_with("unknown control console (did you mean console-signin-without-mfa or console-authentication-failures?);"),
            "{err}"
        );
    }

    #[test]
    fn benchmark_names_get_a_suggestion() {
        for (typed, meant) in [
            ("5.0", "cis-5.0"),
            ("5", "cis-5.0"),
            ("v5.0", "cis-5.0"),
            ("CIS-5.0", "cis-5.0"),
            ("cis5.0", "cis-5.0"),
            ("cis_1.4", "cis-1.4"),
            ("cis-3", "cis-3.0"),
            ("1.2", "cis-1.2"),
            ("cis-50", "cis-5.0"),
            ("cis-5.O", "cis-5.0"),
            ("7", "cis-7.0"),
            ("v6.0", "cis-6.0"),
        ] {
            assert_eq!(suggest_benchmark(typed), Some(meant), "{typed}");
        }
        // Ambiguous (1.2 or 1.4?) or far from all.
        for typed in ["1", "cis-1", "cis-9.9", "nist", ""] {
            assert_eq!(suggest_benchmark(typed), None, "{typed}");
        }
        assert_eq!(parse_benchmark("cis-1.4"), Ok("cis-1.4".into()));
        assert_eq!(
            parse_benchmark("5.0"),
            Err("unknown benchmark `5.0`; did you mean cis-5.0? available: cis-1.2, cis-1.4, cis-3.0, cis-5.0, cis-6.0, cis-7.0, hardened".into())
        );
        assert_eq!(
            parse_benchmark("nist"),
            Err("unknown benchmark `nist`; available: cis-1.2, cis-1.4, cis-3.0, cis-5.0, cis-6.0, cis-7.0, hardened".into())
        );
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("", ""), 0);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("cis-50", "cis-5.0"), 1);
    }

    pub(super) const GOOD: &str = r#"format_version = 1
benchmark = "mine"
title = "My controls"

[defaults]
namespace = "CISBenchmark"
metric_value = "1"
statistic = "Sum"
period = 300
threshold = 1.0
comparison_operator = "GreaterThanOrEqualToThreshold"
evaluation_periods = 1

[[control]]
id = "1"
slug = "console-authentication-failures"
title = "t"
level = 2
metric_name = "ConsoleAuthenticationFailures"
pattern = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
"#;

    #[test]
    fn a_user_catalog_with_overrides_loads() {
        let text = GOOD.replace(
            "level = 2",
            "level = 2\nnamespace = \"Security\"\nperiod = 60",
        );
        let catalog = parse(&text, "mine.toml").unwrap();
        assert_eq!(catalog.controls[0].metric.namespace, "Security");
        assert_eq!(catalog.controls[0].alarm.period, 60);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            // missing field
            (
                GOOD.replace("metric_name = \"ConsoleAuthenticationFailures\"\n", ""),
                "line 14",
                "metric_name",
            ),
            // misspelled field
            (
                GOOD.replace("metric_name", "metric_nam"),
                "line 19",
                "metric_nam",
            ),
            // wrong type
            (
                GOOD.replace("period = 300", "period = \"300\""),
                "line 9",
                "period",
            ),
            // bad statistic
            (GOOD.replace("\"Sum\"", "\"Total\""), "line 8", "statistic"),
            // bad pattern: the error points at the line of the pattern
            (
                GOOD.replace("&& ($.errorMessage", "&& ($.errorMessage ="),
                "line 20, column 64",
                "pattern",
            ),
            // bad version
            (
                GOOD.replace("format_version = 1", "format_version = 7"),
                "line 1",
                "format_version",
            ),
        ];
        for (text, line, field) in cases {
            let err = parse(&text, "mine.toml").unwrap_err().to_string();
            assert!(err.contains("mine.toml:"), "{err}");
            assert!(err.contains(line), "expected {line} in: {err}");
            assert!(err.contains(field), "expected {field} in: {err}");
        }
    }

    #[test]
    fn alternatives_are_plain_strings_or_tables_with_a_name_and_a_note() {
        let plain = format!(
            "{GOOD}also_accept = ['{{ $.eventName = ConsoleLogin }}']\nnot_accepted = ['{{ $.a = b }}']\n"
        );
        let c = &parse(&plain, "mine.toml").unwrap().controls[0];
        assert_eq!(c.also_accept.len(), 1);
        assert_eq!(c.also_accept[0].text, "{ $.eventName = ConsoleLogin }");
        assert_eq!(c.also_accept[0].name, None);
        assert_eq!(c.also_accept[0].label(0), "alternative 1");
        assert_eq!(c.not_accepted[0].text, "{ $.a = b }");
        assert_eq!(
            c.accepted_texts().collect::<Vec<_>>(),
            [c.pattern_text.as_str(), "{ $.eventName = ConsoleLogin }"]
        );

        let table = format!(
            "{GOOD}\n[[control.also_accept]]\nname = \"any sign-in\"\nnote = \"counts successes too\"\npattern = '{{ $.eventName = ConsoleLogin }}'\n"
        );
        let c = &parse(&table, "mine.toml").unwrap().controls[0];
        let a = &c.also_accept[0];
        assert_eq!(
            (a.label(0).as_str(), a.note.as_deref()),
            ("any sign-in", Some("counts successes too"))
        );
        assert_eq!(a.pattern, pattern::parse(&a.text).unwrap());
        assert!(c.not_accepted.is_empty());

        // A bad pattern in a table points at its own line; an unknown key is named.
        let bad = table.replace("ConsoleLogin }'", "}'");
        let err = parse(&bad, "mine.toml").unwrap_err().to_string();
        assert!(
            err.contains("mine.toml:line 25") && err.contains("also_accept"),
            "{err}"
        );
        let unknown = table.replace("note =", "notes =");
        let err = parse(&unknown, "mine.toml").unwrap_err().to_string();
        assert!(err.contains("line 24") && err.contains("notes"), "{err}");
    }

    #[test]
    fn a_pattern_error_on_a_later_line_of_a_multiline_string_points_there() {
        let text = GOOD.replace(
            "pattern = '{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }'",
            "pattern = '''\n{ ($.eventName = ConsoleLogin)\n  && ($.errorMessage = ) }'''",
        );
        let err = parse(&text, "mine.toml").unwrap_err().to_string();
        // The `)` where a value should be, on the third line of the string.
        assert!(err.contains("line 22, column 24"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// No input may panic the loader: arbitrary text, and real catalogs with an edit.
        #[test]
        fn the_loader_never_panics(
            text in proptest::prelude::any::<String>(),
            at in 0usize..20_000,
            insert in "[\\[\\]{}()'\"=$.&|\n a-z0-9]{0,6}",
            delete in 0usize..40,
        ) {
            let _ = parse(&text, "fuzz.toml");
            for (_, _, source) in BUILTIN {
                let mut chars: Vec<char> = source.chars().collect();
                let at = at % chars.len().max(1);
                let end = (at + delete).min(chars.len());
                chars.splice(at..end, insert.chars());
                let mutated: String = chars.into_iter().collect();
                let _ = parse(&mutated, "fuzz.toml");
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for text in [
            "",
            "\u{0}",
            "[[control]]",
            "format_version = 1",
            "control = 5",
        ] {
            assert!(parse(text, "x.toml").is_err());
        }
    }

    #[test]
    fn v6_and_v7_are_v5_renumbered_to_section_5() {
        let v5 = load_builtin("cis-5.0").unwrap();
        for name in ["cis-6.0", "cis-7.0"] {
            let newer = load_builtin(name).unwrap();
            assert_eq!(newer.controls.len(), 15, "{name}");
            for (old, new) in v5.controls.iter().zip(&newer.controls) {
                assert_eq!(new.id, old.id.replacen("4.", "5.", 1), "{name}");
                assert_eq!(
                    (&new.slug, &new.title, new.level, &new.security_hub),
                    (&old.slug, &old.title, old.level, &old.security_hub),
                    "{name} {}",
                    new.id
                );
                assert_eq!(new.pattern_text, old.pattern_text, "{name} {}", new.id);
                let texts = |c: &Control| -> Vec<(String, Option<String>, Option<String>)> {
                    c.also_accept
                        .iter()
                        .chain(&c.not_accepted)
                        .map(|a| (a.text.clone(), a.name.clone(), a.note.clone()))
                        .collect()
                };
                assert_eq!(texts(new), texts(old), "{name} {}", new.id);
                assert_eq!(
                    (&new.metric, &new.alarm),
                    (&old.metric, &old.alarm),
                    "{name} {}",
                    new.id
                );
            }
        }
        // The default is the newest CIS version, the last before catalogs that extend one.
        let newest_cis = builtin_names().into_iter().rfind(|n| n.starts_with("cis-"));
        assert_eq!(Some(DEFAULT_BENCHMARK), newest_cis);
    }

    #[test]
    fn another_versions_ids_point_to_this_ones() {
        let v7 = load_builtin("cis-7.0").unwrap();
        let err = v7.clone().select(&["4.1".into()]).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "4.1 is cis-5.0's numbering; in cis-7.0 it is 5.1 (unauthorized-api-calls): "
            ),
            "{err}"
        );
        // Slugs work under every version; v1.2's numbering is recognised too.
        let by_slug = v7.clone().select(&["root-account-usage".into()]).unwrap();
        assert_eq!(by_slug.controls[0].id, "5.3");
        let err = v7.clone().select(&["3.3".into()]).unwrap_err().to_string();
        assert!(
            err.starts_with("3.3 is cis-1.2's numbering; in cis-7.0 it is 5.3"),
            "{err}"
        );
        let v12 = load_builtin("cis-1.2").unwrap();
        let err = v12.select(&["5.15".into()]).unwrap_err().to_string();
        assert!(
            err.starts_with("5.15 is cis-7.0's numbering (organizations-changes), a control cis-1.2 does not have"),
            "{err}"
        );
        // A typo is still a typo.
        let err = v7.select(&["9.9".into()]).unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown control 9.9; valid for cis-7.0: 5.1–5.15, or their slugs; `cis-fix controls` lists them"
        );
    }
}

#[cfg(test)]
mod hardened_tests;

/// Where a built-in catalog defines control `id`: the file (relative to the repository) and
/// the line of its `id = "…"`. Looked for in `benchmark`'s own file, then in the one it
/// extends; `None` for a catalog that is not built in (cis-fix does not keep its path).
pub fn source_line(benchmark: &str, extends: Option<&str>, id: &str) -> Option<(String, usize)> {
    let wanted = format!("id = \"{id}\"");
    [Some(benchmark), extends]
        .into_iter()
        .flatten()
        .filter_map(|name| BUILTIN.iter().find(|(builtin, _, _)| *builtin == name))
        .find_map(|(_, file, source)| {
            let line = source.lines().position(|l| l.trim() == wanted)?;
            Some((file.to_string(), line + 1))
        })
}

/// The text of a built-in catalog file, by benchmark name.
pub fn builtin_source(benchmark: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(name, _, _)| *name == benchmark)
        .map(|(_, _, source)| *source)
}

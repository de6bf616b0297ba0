//! Format version 2: a catalog that `extends` a built-in benchmark (its controls first,
//! unchanged, and its `[defaults]` where the file is silent), and the fields that say what a
//! control is for ([`Threat`]).

use toml::Spanned;

use super::{Catalog, ControlCtx, ControlSchema, FileSchema, Settings, Source, Threat, BUILTIN};
use crate::error::{Error, Result};

/// `field `NAME`: needs format_version = 2`, at byte `offset`.
pub(super) fn needs_version_2(src: &Source, field: &str, offset: usize) -> Error {
    src.err(
        offset,
        format!("field `{field}` needs format_version = 2; the file says 1"),
    )
}

/// The catalog `file` extends, if any, and the defaults its own controls read: the file's,
/// each key falling back to the base's.
pub(super) fn base(src: &Source, file: &FileSchema) -> Result<(Option<Catalog>, Settings)> {
    let own = file.defaults.clone().unwrap_or_default();
    let Some(name) = &file.extends else {
        return Ok((None, own));
    };
    let at = name.span().start;
    let Some((_, base_file, base_source)) = BUILTIN.iter().find(|(n, _, _)| n == name.get_ref())
    else {
        let names: Vec<&str> = BUILTIN.iter().map(|(n, _, _)| *n).collect();
        return Err(src.err(
            at,
            format!(
                "field `extends`: `{}` is no built-in benchmark; one of {}",
                name.get_ref(),
                names.join(", ")
            ),
        ));
    };
    let base = super::parse(base_source, base_file)?;
    // One level only: a chain of catalogs would make a control's origin hard to say.
    if base.extends.is_some() {
        return Err(src.err(
            at,
            format!(
                "field `extends`: {} itself extends another catalog; extend a CIS benchmark",
                name.get_ref()
            ),
        ));
    }
    let base_defaults = super::read_schema(&Source {
        text: base_source,
        origin: base_file,
    })?
    .defaults
    .unwrap_or_default();
    Ok((Some(base), own.or(base_defaults)))
}

impl Settings {
    /// Each key from `self`, else from `other`.
    fn or(self, other: Settings) -> Settings {
        Settings {
            namespace: self.namespace.or(other.namespace),
            metric_value: self.metric_value.or(other.metric_value),
            statistic: self.statistic.or(other.statistic),
            period: self.period.or(other.period),
            threshold: self.threshold.or(other.threshold),
            comparison_operator: self.comparison_operator.or(other.comparison_operator),
            evaluation_periods: self.evaluation_periods.or(other.evaluation_periods),
        }
    }
}

/// A control's threat fields: refused in a version 1 file, each id in its documented form.
pub(super) fn threat(ctx: &ControlCtx, version: u32, c: &ControlSchema) -> Result<Threat> {
    let texts = [
        ("catches", &c.catches),
        ("cis_gap", &c.cis_gap),
        ("limits", &c.limits),
    ];
    let lists = [("attack", &c.attack), ("stratus", &c.stratus)];
    if version < 2 {
        let used = texts
            .iter()
            .filter_map(|(f, v)| v.as_ref().map(|v| (*f, v.span().start)))
            .chain(
                lists
                    .iter()
                    .filter_map(|(f, v)| v.as_ref().map(|v| (*f, v.span().start))),
            )
            .min_by_key(|(_, at)| *at);
        if let Some((field, at)) = used {
            return Err(ctx.err(at, field, "needs format_version = 2; the file says 1"));
        }
    }
    let list = |field: &str, value: &Option<Spanned<Vec<String>>>, valid: fn(&str) -> bool| {
        let Some(value) = value else {
            return Ok(Vec::new());
        };
        match value.get_ref().iter().find(|id| !valid(id)) {
            Some(bad) => Err(ctx.err(
                value.span().start,
                field,
                format!("`{bad}` is not {}", id_form(field)),
            )),
            None => Ok(value.get_ref().clone()),
        }
    };
    let text = |value: &Option<Spanned<String>>| {
        value
            .as_ref()
            .map(|v| v.get_ref().trim().to_string())
            .filter(|v| !v.is_empty())
    };
    Ok(Threat {
        catches: text(&c.catches),
        cis_gap: text(&c.cis_gap),
        attack: list("attack", &c.attack, is_attack_id)?,
        stratus: list("stratus", &c.stratus, is_stratus_id)?,
        limits: text(&c.limits),
    })
}

fn id_form(field: &str) -> &'static str {
    if field == "attack" {
        "a MITRE ATT&CK technique id (`T1562` or `T1562.008`)"
    } else {
        "a Stratus Red Team AWS technique id (`aws.TACTIC.NAME`, lowercase)"
    }
}

/// `T1562` or `T1562.008`.
fn is_attack_id(id: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = id.strip_prefix('T') else {
        return false;
    };
    match rest.split_once('.') {
        Some((technique, sub)) => digits(technique, 4) && digits(sub, 3),
        None => digits(rest, 4),
    }
}

/// `aws.defense-evasion.cloudtrail-event-selectors`.
fn is_stratus_id(id: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    matches!(id.split('.').collect::<Vec<_>>().as_slice(),
        ["aws", tactic, name] if word(tactic) && word(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_their_documented_form() {
        for good in ["T1562", "T1562.008", "T1098.001"] {
            assert!(is_attack_id(good), "{good}");
        }
        for bad in ["T156", "T1562.8", "1562.008", "t1562", "T1562.008.1", "T"] {
            assert!(!is_attack_id(bad), "{bad}");
        }
        assert!(is_stratus_id(
            "aws.defense-evasion.cloudtrail-event-selectors"
        ));
        for bad in [
            "aws.defense-evasion",
            "gcp.x.y",
            "aws.Persistence.x",
            "aws..x",
        ] {
            assert!(!is_stratus_id(bad), "{bad}");
        }
    }
}

//! Local checks of the configuration, before any call: the region's shape, the endpoint URLs
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, a profile's `endpoint_url`), and that the
//! chosen profile exists. A typo fails here, in one line naming the setting and a fix, rather
//! than as a raw SDK error (or a long wait) at the first call.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::redact::mask_url_userinfo;

/// The services cis-fix calls: (short name in operation names, suffix of the service's
/// `AWS_ENDPOINT_URL_<SERVICE>` variable).
const SERVICES: &[(&str, &str)] = &[
    ("sts", "STS"),
    ("cloudtrail", "CLOUDTRAIL"),
    ("logs", "CLOUDWATCH_LOGS"),
    ("cloudwatch", "CLOUDWATCH"),
    ("sns", "SNS"),
    ("kms", "KMS"),
    ("events", "EVENTBRIDGE"),
];

/// Whether `region` has the shape of an AWS region name: a 2–4 letter prefix, one or more
/// words, a number (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`,
/// `eusc-de-east-1`). An availability zone (`us-east-1a`) or a made-up name is not.
fn is_region_name(region: &str) -> bool {
    let lower = |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let Some((prefix, rest)) = words.split_first() else {
        return false;
    };
    (2..=4).contains(&prefix.len())
        && lower(prefix)
        && !rest.is_empty()
        && rest.iter().all(lower)
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

pub(super) fn check_region(region: &str) -> Result<()> {
    if is_region_name(region) {
        Ok(())
    } else {
        Err(Error::BadRegion {
            region: region.to_string(),
        })
    }
}

/// Why `value` cannot be an endpoint URL (an absolute http or https URL with a host), or
/// `None` if it can.
fn endpoint_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("it is empty".into());
    }
    if value.chars().any(char::is_whitespace) {
        return Some("it contains spaces".into());
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Some("it has no http:// or https:// scheme".into());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        // Not quoted unless a plain word: in `user:pw://…@host` it would be the password.
        return Some(if scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            format!("its scheme is `{scheme}`, not http or https")
        } else {
            "it has no http:// or https:// scheme".into()
        });
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !authority.contains('@') && rest.contains('@') {
        // `http://user:p/w@host`: the SDK would take `user` for the host and `p` for the port,
        // and quoting either would show part of the password.
        return Some(
            "it has an `@` after its host; percent-encode any `/`, `?` or `#` in its user name or password"
                .into(),
        );
    }
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match host_port.strip_prefix('[') {
        // An IPv6 literal: [::1]:4566
        Some(v6) => match v6.split_once(']') {
            Some((address, after)) => (address, after.strip_prefix(':')),
            None => return Some(format!("its host `{host_port}` has no closing `]`")),
        },
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Some("it has no host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '%'))
    {
        return Some(format!(
            "its host `{host}` is not a host name or IP address"
        ));
    }
    match port {
        Some(port) if !port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Some(format!("its port `{port}` is not a number from 1 to 65535"))
        }
        _ => None,
    }
}

fn check_endpoint(setting: &str, value: &str, place: &str) -> Result<()> {
    let Some(problem) = endpoint_problem(value) else {
        return Ok(());
    };
    // `localhost:4566` is the usual slip: suggest the URL meant, when it would be one.
    let meant = format!("http://{value}");
    let fix = if endpoint_problem(&meant).is_none() {
        format!(
            "write {} (or {})",
            mask_url_userinfo(&meant),
            mask_url_userinfo(&format!("https://{value}"))
        )
    } else {
        "write a full URL such as https://HOST or http://HOST:PORT".into()
    };
    Err(Error::BadEndpoint {
        setting: setting.to_string(),
        value: value.to_string(),
        place: place.to_string(),
        reason: format!("{problem}; {fix}, or unset it to use AWS's own endpoints"),
    })
}

/// The profile chosen by `--profile` or `AWS_PROFILE`, and by which.
pub(super) struct ChosenProfile {
    pub(super) name: String,
    by: &'static str,
}

pub(super) fn chosen_profile(flag: Option<&str>) -> Option<ChosenProfile> {
    match flag {
        Some(name) => Some(ChosenProfile {
            name: name.to_string(),
            by: "--profile",
        }),
        None => std::env::var("AWS_PROFILE")
            .ok()
            .filter(|name| !name.is_empty())
            .map(|name| ChosenProfile {
                name,
                by: "AWS_PROFILE",
            }),
    }
}

/// One of the two AWS configuration files, as the SDK finds it.
struct ProfileFile {
    path: PathBuf,
    /// The variable that chose the path, or `None` for the default under the home directory.
    set_by: Option<&'static str>,
    /// `None` when the file does not exist; the read error when it cannot be read.
    text: Result<Option<String>, std::io::Error>,
    /// The config file names profiles `[profile NAME]`; the credentials file `[NAME]`.
    is_config: bool,
}

impl ProfileFile {
    fn load(variable: &'static str, default: &str, is_config: bool) -> ProfileFile {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let set = std::env::var_os(variable).filter(|v| !v.is_empty());
        let written = set
            .clone()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("~").join(".aws").join(default));
        // The SDK expands a leading `~` (in the variable too) to the home directory.
        let path = match (written.strip_prefix("~"), &home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => written,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        ProfileFile {
            path,
            set_by: set.map(|_| variable),
            text,
            is_config,
        }
    }

    /// The profiles of this file, each with its settings, as the SDK reads them: sections
    /// and `key = value` lines (indented sub-settings are skipped).
    fn profiles(&self) -> Vec<(String, BTreeMap<String, String>)> {
        let Ok(Some(text)) = &self.text else {
            return Vec::new();
        };
        let mut profiles: Vec<(String, BTreeMap<String, String>)> = Vec::new();
        let mut current: Option<usize> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                let section = header.split(']').next().unwrap_or_default().trim();
                current = self.profile_name(section).map(|name| {
                    profiles.push((name, BTreeMap::new()));
                    profiles.len() - 1
                });
                continue;
            }
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                continue;
            };
            let value = value
                .split_whitespace()
                .take_while(|word| !word.starts_with(['#', ';']))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((_, settings)) = current.and_then(|i| profiles.get_mut(i)) {
                settings.insert(key.trim().to_string(), value);
            }
        }
        profiles
    }

    fn profile_name(&self, section: &str) -> Option<String> {
        let prefixed = section
            .strip_prefix("profile")
            .filter(|rest| rest.starts_with(char::is_whitespace))
            .map(|rest| rest.trim().to_string());
        match (self.is_config, prefixed) {
            (true, Some(name)) => Some(name),
            (true, None) => (section == "default").then(|| section.to_string()),
            (false, Some(_)) => None,
            (false, None) => Some(section.to_string()),
        }
    }

    fn describe(&self) -> String {
        let origin = self.set_by.unwrap_or("default location");
        let state = match &self.text {
            Ok(Some(_)) => String::new(),
            Ok(None) => ", which does not exist".into(),
            Err(e) => format!(", which cannot be read: {e}"),
        };
        format!("{} ({origin}{state})", self.path.display())
    }
}

/// Checks the endpoint URLs and the chosen profile before anything is loaded or called.
pub(super) fn check_configuration(flag: Option<&str>) -> Result<()> {
    let ignore_endpoints =
        |value: Option<&str>| value.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let env_ignores = ignore_endpoints(
        std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .ok()
            .as_deref(),
    );
    if !env_ignores {
        let variables = std::iter::once("AWS_ENDPOINT_URL".to_string()).chain(
            SERVICES
                .iter()
                .map(|(_, suffix)| format!("AWS_ENDPOINT_URL_{suffix}")),
        );
        for variable in variables {
            // Set but empty (`AWS_ENDPOINT_URL= cis-fix …`) means unset.
            if let Some(value) = std::env::var(&variable).ok().filter(|v| !v.is_empty()) {
                check_endpoint(&variable, &value, "")?;
            }
        }
    }

    let config = ProfileFile::load("AWS_CONFIG_FILE", "config", true);
    let credentials = ProfileFile::load("AWS_SHARED_CREDENTIALS_FILE", "credentials", false);
    let config_profiles = config.profiles();
    let credentials_profiles = credentials.profiles();
    let chosen = chosen_profile(flag);
    let name = chosen.as_ref().map_or("default", |c| c.name.as_str());
    let defined = |profiles: &[(String, BTreeMap<String, String>)]| {
        profiles.iter().any(|(profile, _)| profile == name)
    };
    if let Some(chosen) = &chosen {
        // Like the AWS CLI, a missing `default` is no error: it is what applies unless
        // another is chosen.
        if chosen.name != "default" && !defined(&config_profiles) && !defined(&credentials_profiles)
        {
            let mut available: Vec<&str> = config_profiles
                .iter()
                .chain(&credentials_profiles)
                .map(|(profile, _)| profile.as_str())
                .collect();
            available.sort_unstable();
            available.dedup();
            return Err(Error::MissingProfile {
                profile: chosen.name.clone(),
                chosen_by: chosen.by,
                files: format!("{} or {}", config.describe(), credentials.describe()),
                available: if available.is_empty() {
                    "no profile is defined there".into()
                } else {
                    format!("defined there: {}", available.join(", "))
                },
            });
        }
    }

    // The profile's own endpoint_url, which the environment's overrides.
    let settings: BTreeMap<&str, &str> = config_profiles
        .iter()
        .filter(|(profile, _)| profile == name)
        .flat_map(|(_, settings)| settings)
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let profile_ignores =
        ignore_endpoints(settings.get("ignore_configured_endpoint_urls").copied());
    if !env_ignores && !profile_ignores && std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if let Some(value) = settings.get("endpoint_url") {
            check_endpoint(
                "endpoint_url",
                value,
                &format!(" in profile `{name}` of {}", config.path.display()),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked_for_shape() {
        for good in [
            "us-east-1",
            "eu-west-3",
            "ap-southeast-7",
            "us-gov-west-1",
            "cn-north-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in [
            "moon-1",
            "us-east-1a",
            "US-EAST-1",
            "us-east",
            "useast1",
            "",
            "us--1",
            "us-east-100",
            "us east 1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn endpoint_urls_must_be_absolute_http_urls_with_a_host() {
        for good in [
            "http://localhost:4566",
            "https://sts.us-east-1.amazonaws.com",
            "http://127.0.0.1:9/",
            "HTTP://[::1]:4566",
            "https://proxy.example.com/aws",
        ] {
            assert_eq!(endpoint_problem(good), None, "{good}");
        }
        let cases = [
            ("localhost:4566", "it has no http:// or https:// scheme"),
            ("ftp://host", "its scheme is `ftp`, not http or https"),
            ("http://", "it has no host"),
            ("http://:4566", "it has no host"),
            (
                "http://host:0",
                "its port `0` is not a number from 1 to 65535",
            ),
            (
                "http://host:port",
                "its port `port` is not a number from 1 to 65535",
            ),
            ("http://ho st", "it contains spaces"),
            ("", "it is empty"),
            ("/just/a/path", "it has no http:// or https:// scheme"),
        ];
        for (bad, reason) in cases {
            assert_eq!(endpoint_problem(bad).as_deref(), Some(reason), "{bad}");
        }
    }

    #[test]
    fn a_bad_endpoint_is_named_with_a_fix() {
        let message = |value| {
            check_endpoint("AWS_ENDPOINT_URL", value, "")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            message("localhost:4566"),
            "AWS_ENDPOINT_URL=\"localhost:4566\" is not a valid endpoint URL: it has no http:// or https:// scheme; write http://localhost:4566 (or https://localhost:4566), or unset it to use AWS's own endpoints"
        );
        assert!(
            message("ftp://x")
                .contains("write a full URL such as https://HOST or http://HOST:PORT"),
            "{}",
            message("ftp://x")
        );
        assert_eq!(message("https://x"), "");
    }

    #[test]
    fn credentials_in_an_endpoint_url_are_never_shown() {
        let message = |value| {
            check_endpoint("AWS_ENDPOINT_URL", value, "")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for (value, shown) in [
            ("user:pw@localhost:4566", "write http://****@localhost:4566"),
            ("ftp://user:pw@x", "AWS_ENDPOINT_URL=\"ftp://****@x\""),
            ("http://user:pw@", "AWS_ENDPOINT_URL=\"http://****@\""),
            (
                "http://user:p/pw@localhost:4566",
                "percent-encode any `/`, `?` or `#` in its user name or password",
            ),
            (
                "user:pw://x@localhost",
                "it has no http:// or https:// scheme",
            ),
        ] {
            let text = message(value);
            assert!(text.contains(shown), "{value}: {text}");
            assert!(!text.contains("pw"), "{value}: {text}");
        }
    }

    #[test]
    fn profile_files_are_read_as_the_sdk_reads_them() {
        let file = |text: &str, is_config| ProfileFile {
            path: PathBuf::from("x"),
            set_by: None,
            text: Ok(Some(text.to_string())),
            is_config,
        };
        let config = file(
            "[default]\nregion = us-east-1\n[profile dev] # mine\nendpoint_url = http://x:1 ; note\ns3 =\n  addressing_style = path\n[sso-session s]\n[prod]\n",
            true,
        );
        let profiles = config.profiles();
        let names: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["default", "dev"]);
        assert_eq!(
            profiles
                .get(1)
                .and_then(|(_, s)| s.get("endpoint_url"))
                .map(String::as_str),
            Some("http://x:1")
        );
        let credentials = file("[prod]\naws_access_key_id = a\n[profile x]\n", false);
        let names: Vec<String> = credentials.profiles().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["prod"]);
    }
}

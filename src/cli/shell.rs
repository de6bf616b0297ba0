//! `cis-fix completions SHELL` and `cis-fix man`: shell integration, generated from the
//! command tree itself so that it cannot fall behind it.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::output::print;
use super::{Cli, ExitStatus};
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub(super) fn completions(args: CompletionsArgs) -> Result<ExitStatus> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "cis-fix", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}

pub(super) fn man() -> Result<ExitStatus> {
    print(&man_page()?)?;
    Ok(ExitStatus::Success)
}

/// One roff page: the top level as clap_mangen renders it, then a section per subcommand
/// (and per subcommand of those) with its synopsis, description and options.
pub fn man_page() -> Result<String> {
    let mut command = Cli::command();
    // Building sets every subcommand's full name (`cis-fix plan`) for its synopsis.
    command.build();
    let mut page = Vec::new();
    let unwritable = |e: std::io::Error| Error::Usage(format!("cannot render the man page: {e}"));
    clap_mangen::Man::new(command.clone())
        .render(&mut page)
        .map_err(unwritable)?;
    let mut stack: Vec<clap::Command> = command.get_subcommands().cloned().collect();
    stack.reverse();
    while let Some(sub) = stack.pop() {
        if sub.is_hide_set() {
            continue;
        }
        let name = sub
            .get_bin_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("cis-fix {}", sub.get_name()));
        page.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let man = clap_mangen::Man::new(sub.clone());
        man.render_synopsis_section(&mut page).map_err(unwritable)?;
        man.render_description_section(&mut page)
            .map_err(unwritable)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut page).map_err(unwritable)?;
        }
        let mut children: Vec<clap::Command> = sub.get_subcommands().cloned().collect();
        children.reverse();
        stack.extend(children);
    }
    Ok(String::from_utf8_lossy(&page).into_owned())
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use clap::Parser as _;

    use super::*;

    /// Every subcommand (at every depth) and every long option clap knows, with the full
    /// command path of the subcommands.
    fn known(
        command: &clap::Command,
        path: &str,
        names: &mut Vec<String>,
        longs: &mut Vec<String>,
    ) {
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                longs.push(long.to_string());
            }
        }
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let full = format!("{path} {}", sub.get_name());
            names.push(full.clone());
            known(sub, &full, names, longs);
        }
    }

    #[test]
    fn the_man_page_names_every_subcommand_and_long_option() {
        let page = man_page().unwrap();
        // roff writes `-` as `\-`.
        let text = page.replace("\\-", "-");
        let mut command = Cli::command();
        command.build();
        let (mut names, mut longs) = (Vec::new(), Vec::new());
        known(&command, "cis-fix", &mut names, &mut longs);
        assert!(
            names.len() >= 12 && longs.len() >= 20,
            "{names:?} {longs:?}"
        );
        for name in &names {
            assert!(
                text.contains(&format!(".SH \"{}\"", name.to_uppercase())),
                "the man page has no section for `{name}`"
            );
        }
        for long in &longs {
            assert!(
                text.contains(&format!("--{long}")),
                "the man page does not mention --{long}"
            );
        }
        assert!(
            page.starts_with(".ie") || page.contains(".TH cis-fix"),
            "{}",
            &page[..200]
        );
    }

    /// Splits an example line into words as a shell would, for the quoting examples use.
    fn words(line: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut word: Option<String> = None;
        let mut quote: Option<char> = None;
        for ch in line.chars() {
            match (quote, ch) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), c) => word.get_or_insert_with(String::new).push(c),
                (None, '\'' | '"') => {
                    quote = Some(ch);
                    word.get_or_insert_with(String::new);
                }
                (None, c) if c.is_whitespace() => words.extend(word.take()),
                (None, c) => word.get_or_insert_with(String::new).push(c),
            }
        }
        words.extend(word);
        words
    }

    #[test]
    fn every_help_example_parses_and_fits_an_80_column_terminal() {
        let command = Cli::command();
        let mut examples = 0;
        for sub in command.get_subcommands() {
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let lines: Vec<&str> = help
                .lines()
                .skip_while(|l| *l != "Examples:")
                .skip(1)
                .collect();
            assert!(
                lines.len() >= 2,
                "`{}` has fewer than two examples",
                sub.get_name()
            );
            for line in lines {
                assert!(line.len() <= 78, "example wider than 78 columns: {line}");
                let command_line = line.split(" | ").next().unwrap_or(line);
                let command_line = command_line.split(" > ").next().unwrap_or(command_line);
                let argv = words(command_line.trim());
                assert_eq!(argv.first().map(String::as_str), Some("cis-fix"), "{line}");
                if let Err(e) = Cli::try_parse_from(&argv) {
                    panic!("example `{line}` does not parse: {e}");
                }
                examples += 1;
            }
        }
        assert!(examples >= 20, "{examples}");
    }

    #[test]
    fn the_bash_completion_script_parses() {
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(Shell::Bash, &mut command, "cis-fix", &mut script);
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&script).unwrap();
        let out = std::process::Command::new("bash")
            .arg("-n")
            .arg(file.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(script).unwrap();
        for sub in [
            "plan",
            "apply",
            "backout",
            "export",
            "controls",
            "coverage",
            "schema",
            "iam-policy",
        ] {
            assert!(text.contains(sub), "no {sub} in the bash completions");
        }
    }
}

//! The command check: `make X`, `just X`, `npm run X` where the Makefile, justfile or
//! package.json has no such target or script (and nothing, such as an `include`, could add
//! one).

use std::collections::BTreeSet;

use super::claims::MANAGERS;
use super::{finding, Finding, Kind, Measured, Span};
use crate::config::Origin as CommandOrigin;
use crate::instructions::read::Document;

/// Whether a Makefile or justfile declares `target`: on a rule's header line (`lint: deps`,
/// `@lint:`, `lint arg:`), in `.PHONY`, or as a just alias.
fn declares(text: &str, target: &str) -> bool {
    text.lines().any(|line| {
        if line.starts_with([' ', '\t']) {
            return false;
        }
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("alias ") {
            return rest.split_whitespace().next() == Some(target);
        }
        let Some((head, after)) = line.split_once(':') else {
            return false;
        };
        if after.starts_with('=') || head.contains('=') {
            return false;
        }
        let head = head.strip_prefix(".PHONY").unwrap_or(head);
        head.split_whitespace()
            .any(|word| word.trim_start_matches('@') == target)
    })
}

/// The targets of every Makefile or justfile, or `None` when some may come from elsewhere
/// (an `include`, a pattern rule, a generated Makefile).
fn runner_files(measured: &Measured, runner: &str) -> Option<Vec<(String, String)>> {
    let names: &[&str] = if runner == "make" {
        &["Makefile", "makefile", "GNUmakefile"]
    } else {
        &["justfile", "Justfile", ".justfile"]
    };
    if runner == "make" {
        let generators = [
            "CMakeLists.txt",
            "configure",
            "Makefile.am",
            "Makefile.in",
            "meson.build",
        ];
        let generated = names
            .iter()
            .any(|n| measured.root.join(n).exists() && !measured.files.contains(*n));
        if generated || !measured.has_file_named(&generators).is_empty() {
            return None;
        }
    }
    let mut out = Vec::new();
    for path in measured.has_file_named(names) {
        let text = std::fs::read_to_string(measured.root.join(path)).ok()?;
        let open = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("include ")
                || l.starts_with("-include ")
                || l.starts_with("import ")
                || l.starts_with("mod ")
                || l.starts_with("sinclude ")
                || (l.contains(':') && l.split(':').next().is_some_and(|h| h.contains(['%', '$'])))
        });
        if open {
            return None;
        }
        out.push((path.to_string(), text));
    }
    Some(out)
}

/// The scripts of every package.json, from the commands the configuration reader found.
fn scripts(measured: &Measured) -> BTreeSet<String> {
    measured
        .commands
        .iter()
        .filter(|c| c.origin == CommandOrigin::TaskEntry)
        .filter(|c| c.at.file.ends_with("package.json"))
        .filter_map(|c| {
            let words: Vec<&str> = c.command.split_whitespace().collect();
            match words.as_slice() {
                [_, "test"] => Some("test".to_string()),
                [_, "run", name] => Some(name.to_string()),
                _ => None,
            }
        })
        .collect()
}

fn normalized(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The one existing name that is the missing one spelled differently (`type-check` for
/// `typecheck`, `lint:fix` for `lint-fix`).
fn respelled<'a>(missing: &str, names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let want = normalized(missing);
    let matches: Vec<&str> = names
        .into_iter()
        .filter(|n| normalized(n) == want)
        .collect();
    (matches.len() == 1).then(|| matches[0].to_string())
}

fn listed<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    let shown: Vec<String> = names.iter().take(10).map(|n| format!("`{n}`")).collect();
    let more = if names.len() > 10 {
        format!(" and {} more", names.len() - 10)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

pub(super) fn check_command(
    doc: &Document,
    line: usize,
    span: &Span,
    measured: &Measured,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut offset = span.start;
    for part in span.text.split("&&") {
        let lead = part.len() - part.trim_start().len();
        let words: Vec<(usize, &str)> = word_offsets(part.trim_start());
        let at = |i: usize| offset + lead + words[i].0;
        match words.iter().map(|(_, w)| *w).collect::<Vec<_>>().as_slice() {
            [runner @ ("make" | "just"), targets @ ..] if !targets.is_empty() => {
                if targets
                    .iter()
                    .any(|t| t.starts_with('-') || t.contains(['=', '$', '/']))
                {
                    offset += part.len() + 2;
                    continue;
                }
                // `just recipe arg` passes arguments; only the recipe is a name.
                let targets = if *runner == "just" {
                    &targets[..1]
                } else {
                    targets
                };
                let Some(files) = runner_files(measured, runner) else {
                    offset += part.len() + 2;
                    continue;
                };
                let kind = if *runner == "make" {
                    "Makefile"
                } else {
                    "justfile"
                };
                for (i, target) in targets.iter().enumerate() {
                    if files.iter().any(|(_, text)| declares(text, target)) {
                        continue;
                    }
                    let message = if files.is_empty() {
                        format!("`{runner} {target}`: the repository has no {kind}.")
                    } else {
                        let declared: BTreeSet<String> =
                            files.iter().flat_map(|(_, t)| headers(t)).collect();
                        let places: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
                        format!(
                            "`{runner} {target}`: no {kind} target `{target}` in {} (targets: {}).",
                            places.join(", "),
                            listed(declared.iter().map(String::as_str))
                        )
                    };
                    let replacement = respelled(
                        target,
                        files
                            .iter()
                            .flat_map(|(_, t)| headers(t))
                            .collect::<BTreeSet<_>>()
                            .iter()
                            .map(String::as_str),
                    );
                    out.push(finding(
                        doc,
                        line,
                        at(i + 1),
                        target,
                        Kind::Command,
                        message,
                        replacement,
                    ));
                }
            }
            [manager, rest @ ..] if MANAGERS.contains(manager) && !rest.is_empty() => {
                let (script, index) = match rest {
                    ["run" | "run-script", name, ..] if !name.starts_with('-') => (*name, 2),
                    ["test" | "t", ..] if *manager != "bun" => ("test", 1),
                    _ => {
                        offset += part.len() + 2;
                        continue;
                    }
                };
                let manifests = measured.has_file_named(&["package.json"]);
                let known = scripts(measured);
                if known.contains(script) {
                    offset += part.len() + 2;
                    continue;
                }
                let message = if manifests.is_empty() {
                    format!(
                        "`{manager} {}`: the repository has no package.json.",
                        rest.join(" ")
                    )
                } else if known.is_empty() {
                    format!(
                        "`{manager} {}`: no package.json of the repository has scripts.",
                        rest.join(" ")
                    )
                } else {
                    format!(
                        "`{manager} {}`: no package.json script `{script}` (scripts: {}).",
                        rest.join(" "),
                        listed(known.iter().map(String::as_str))
                    )
                };
                let replacement = respelled(script, known.iter().map(String::as_str));
                let found_at = if index == 1 { at(1) } else { at(2) };
                out.push(finding(
                    doc,
                    line,
                    found_at,
                    words[index].1,
                    Kind::Command,
                    message,
                    replacement,
                ));
            }
            _ => {}
        }
        offset += part.len() + 2;
    }
    out
}

/// The target names declared on header lines of a Makefile or justfile.
fn headers(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '.']))
        .filter_map(|l| {
            let (head, after) = l.split_once(':')?;
            (!after.starts_with('=') && !head.contains('=')).then_some(head)
        })
        .flat_map(|h| {
            h.split_whitespace()
                .map(|w| w.trim_start_matches('@').to_string())
        })
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || "-_.".contains(c)))
        .collect()
}

fn word_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for word in text.split(' ') {
        if !word.is_empty() {
            out.push((at, word));
        }
        at += word.len() + 1;
    }
    out
}

//! How this team names branches, from the repository's refs and from the branch names that
//! merge subjects mention.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::{memory, top, DOMINANT};
use crate::memory::Entry;

/// Branch names from the repository's refs and from merge subjects.
pub fn branch_entry(scope: &str, names: &[String]) -> Option<Entry> {
    let names: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            !matches!(
                *n,
                "HEAD"
                    | "main"
                    | "master"
                    | "develop"
                    | "development"
                    | "trunk"
                    | "gh-pages"
                    | "dev"
                    | "staging"
                    | "production"
            ) && !n.starts_with("release")
                && !n.starts_with("dependabot/")
                && !n.starts_with("renovate/")
        })
        .collect();
    let n = names.len();
    if n < 3 {
        return None;
    }
    let mut prefixes: HashMap<String, usize> = HashMap::new();
    let mut with_issue = 0;
    let mut kebab = 0;
    let mut snake = 0;
    let mut single = 0;
    for name in &names {
        let (prefix, rest) = match name.split_once('/') {
            Some((p, r)) => (Some(p), r),
            None => (None, *name),
        };
        if let Some(p) = prefix {
            *prefixes.entry(format!("{p}/")).or_default() += 1;
        }
        if rest.chars().any(|c| c.is_ascii_digit())
            && (rest
                .split(['-', '_'])
                .next()
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
                || rest
                    .split_once('-')
                    .is_some_and(|(p, _)| p.chars().all(|c| c.is_ascii_uppercase())))
        {
            with_issue += 1;
        }
        if rest.contains('-') && !rest.contains('_') {
            kebab += 1;
        } else if rest.contains('_') && !rest.contains('-') {
            snake += 1;
        } else if !rest.contains(['-', '_']) {
            // One word fits either case.
            single += 1;
        }
    }
    let prefixed: usize = prefixes.values().sum();
    let list = top(&prefixes, 6)
        .iter()
        .map(|(p, k)| format!("`{p}` ({k})"))
        .collect::<Vec<_>>()
        .join(", ");
    let case = if kebab > snake && (kebab + single) as f64 >= DOMINANT * n as f64 {
        Some("kebab-case")
    } else if snake > kebab && (snake + single) as f64 >= DOMINANT * n as f64 {
        Some("snake_case")
    } else {
        None
    };
    let mut text;
    let value;
    let matching;
    if prefixed as f64 >= DOMINANT * n as f64 {
        value = format!("prefix/{}", case.unwrap_or("mixed"));
        text = format!(
            "Branch names start with a category prefix: {list} ({prefixed} of {n} branches)"
        );
        matching = prefixed;
    } else if prefixed == 0 {
        value = format!("flat/{}", case.unwrap_or("mixed"));
        text = format!("Branch names have no category prefix ({n} branches)");
        matching = n;
    } else {
        value = format!("mixed/{}", case.unwrap_or("mixed"));
        text = format!("Branch naming is mixed: {prefixed} of {n} branches have a prefix ({list})");
        matching = n - prefixed;
    }
    if let Some(case) = case {
        text.push_str(&format!(", words in {case}"));
    }
    if with_issue as f64 >= 0.5 * n as f64 {
        text.push_str(", with the issue number in the name");
    }
    text.push('.');
    let mut e = memory(scope, "branch.naming", &value, text, matching, n);
    e.tags = vec!["branch".into()];
    e.examples = names
        .iter()
        .take(3)
        .map(|n| format!("branch: {n}"))
        .collect();
    Some(e)
}

/// The branch a merge subject names, if git or a forge wrote it.
pub fn merged_branch(subject: &str) -> Option<String> {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^Merge (?:(?:remote-tracking )?branch '(?:origin/)?([^']+)'|pull request #\d+ from [^/\s]+/(\S+)|branch ([^\s']+) into)",
        )
        .expect("static regex")
    });
    let c = re.captures(subject)?;
    c.get(1)
        .or_else(|| c.get(2))
        .or_else(|| c.get(3))
        .map(|m| m.as_str().to_string())
}

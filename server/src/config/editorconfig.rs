//! `.editorconfig`: indentation, line length and line endings per file pattern.
//!
//! A section for one language's files (`[*.py]`) fills that language's slot; `[*]` fills the
//! cross-language slot; any other pattern (`[Makefile]`, `[*.md]`) gets a slot of its own,
//! `format.indent@<pattern>`, so that two patterns never overwrite each other.

use super::{ini_sections, Fact, Findings, SourceFile};

/// Where a section's settings land: a language slot, the cross-language slot, or a pattern
/// slot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Everything,
    Language(&'static str, String),
    Pattern(String),
}

/// Splits `*.{js,ts}` into one target per extension; other patterns stay whole.
fn targets(glob: &str) -> Vec<Target> {
    let glob = glob.trim();
    if glob == "*" || glob == "**" {
        return vec![Target::Everything];
    }
    let stripped = glob.trim_start_matches("**/");
    let Some(extensions) = stripped.strip_prefix("*.") else {
        return vec![Target::Pattern(glob.to_string())];
    };
    let list: Vec<&str> = match extensions
        .strip_prefix('{')
        .and_then(|e| e.strip_suffix('}'))
    {
        Some(inner) => inner.split(',').map(str::trim).collect(),
        None => vec![extensions],
    };
    if list.iter().any(|e| e.contains(['*', '/', '[', '{'])) {
        return vec![Target::Pattern(glob.to_string())];
    }
    list.into_iter()
        .map(|ext| match crate::catalog::language_of_extension(ext) {
            Some(language) => Target::Language(language, format!("*.{ext}")),
            None => Target::Pattern(format!("*.{ext}")),
        })
        .collect()
}

pub(crate) fn editorconfig(file: &SourceFile, findings: &mut Findings) {
    for section in ini_sections(&file.text, false) {
        // Values are case-insensitive in EditorConfig (`Space`, `TAB`).
        let get = |key: &str| {
            section
                .get(key)
                .map(|e| (e.value.to_ascii_lowercase(), e.line))
        };
        let indent = match get("indent_style") {
            Some((style, line)) if style == "tab" => Some(("tabs".to_string(), line)),
            Some((style, line)) if style == "space" => {
                let size = get("indent_size")
                    .map(|(v, _)| v)
                    .filter(|v| v.parse::<u32>().is_ok())
                    .unwrap_or_else(|| "4".to_string());
                Some((format!("spaces:{size}"), line))
            }
            None => get("indent_size")
                .filter(|(v, _)| v.parse::<u32>().is_ok())
                .map(|(v, line)| (format!("spaces:{v}"), line)),
            _ => None,
        };
        let max_line = get("max_line_length").filter(|(v, _)| v.parse::<u32>().is_ok());
        let end_of_line = get("end_of_line");

        for target in targets(&section.name) {
            let (language, key_suffix, where_) = match &target {
                Target::Everything => (None, String::new(), "all files".to_string()),
                Target::Language(language, pattern) => {
                    (Some(*language), String::new(), format!("{pattern} files"))
                }
                Target::Pattern(pattern) => {
                    let where_ = if pattern.starts_with("*.") {
                        format!("{pattern} files")
                    } else {
                        format!("files matching `{pattern}`")
                    };
                    (None, format!("@{pattern}"), where_)
                }
            };
            if let Some((value, line)) = &indent {
                let how = match value.strip_prefix("spaces:") {
                    Some(n) => format!("{n} spaces"),
                    None => "tabs".to_string(),
                };
                findings.memory(
                    file,
                    *line,
                    Fact::new(
                        format!("format.indent{key_suffix}"),
                        language,
                        value.clone(),
                        format!("Indent with {how} in {where_} (.editorconfig)."),
                    )
                    .importance(0.5),
                );
            }
            if let Some((value, line)) = &max_line {
                findings.memory(
                    file,
                    *line,
                    Fact::new(
                        format!("format.line_length{key_suffix}"),
                        language,
                        value.clone(),
                        format!(
                            "Keep lines within {value} characters in {where_} (.editorconfig)."
                        ),
                    ),
                );
            }
            if let Some((value, line)) = &end_of_line {
                findings.memory(
                    file,
                    *line,
                    Fact::new(
                        format!("format.end_of_line{key_suffix}"),
                        language,
                        value.clone(),
                        format!(
                            "Use {} line endings in {where_} (.editorconfig).",
                            value.to_ascii_uppercase()
                        ),
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brace_patterns_split_into_languages() {
        assert_eq!(
            targets("*.{js,ts,json}"),
            vec![
                Target::Language("javascript", "*.js".into()),
                Target::Language("typescript", "*.ts".into()),
                Target::Pattern("*.json".into()),
            ]
        );
        assert_eq!(targets("*"), vec![Target::Everything]);
        assert_eq!(
            targets("Makefile"),
            vec![Target::Pattern("Makefile".into())]
        );
    }
}

//! The instruction files copilots read, where each lives, and the part of the tree each one
//! applies to: the frontmatter of `.github/instructions/*.instructions.md` (`applyTo`),
//! `.cursor/rules/*.mdc` (`globs`, `alwaysApply`), `.windsurf/rules/*.md` (`trigger`, `globs`),
//! `.continue/rules/*.md` and `.clinerules/*.md`, and the directory of a nested `AGENTS.md`.
//!
//! Frontmatter is read with a small flat reader rather than a YAML parser: Cursor writes
//! `globs: *.ts,*.tsx` unquoted, which YAML reads as an alias and rejects, and every tool
//! accepts it.

use std::collections::BTreeMap;

/// One kind of instruction file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `AGENTS.md`, at the root or in any directory below it.
    Agents,
    /// `CLAUDE.md` (also `.claude/CLAUDE.md`), at the root or below.
    Claude,
    /// `.github/copilot-instructions.md`.
    Copilot,
    /// `.github/instructions/*.instructions.md`, scoped by `applyTo`.
    CopilotScoped,
    /// `.cursor/rules/**/*.mdc`, scoped by `globs` / `alwaysApply`.
    Cursor,
    /// The older single `.cursorrules` file.
    CursorLegacy,
    /// `.windsurf/rules/*.md`, scoped by `trigger` and `globs`.
    Windsurf,
    /// The older single `.windsurfrules` file.
    WindsurfLegacy,
    /// `.clinerules`, a file or a directory of markdown files.
    Cline,
    /// `.continue/rules/*.md`, scoped by `globs` / `alwaysApply`.
    Continue,
    /// `CONVENTIONS.md` (aider).
    Conventions,
}

impl Format {
    /// The name tags and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Agents => "agents",
            Format::Claude => "claude",
            Format::Copilot | Format::CopilotScoped => "copilot",
            Format::Cursor | Format::CursorLegacy => "cursor",
            Format::Windsurf | Format::WindsurfLegacy => "windsurf",
            Format::Cline => "cline",
            Format::Continue => "continue",
            Format::Conventions => "conventions",
        }
    }

    /// Whether the file opens with frontmatter that says where it applies.
    fn has_frontmatter(self) -> bool {
        matches!(
            self,
            Format::CopilotScoped
                | Format::Cursor
                | Format::Windsurf
                | Format::Continue
                | Format::Cline
        )
    }
}

/// Directories whose instruction files belong to someone else's project.
const FOREIGN: &[&str] = &["node_modules", "vendor", "third_party", ".venv", "target"];

/// The format of a file, from its path relative to the workspace root (`/` separators).
pub fn recognise(rel: &str) -> Option<Format> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.iter().any(|p| FOREIGN.contains(p)) {
        return None;
    }
    let name = *parts.last()?;
    let markdown = name.ends_with(".md");
    let format = match parts.as_slice() {
        [.., "AGENTS.md"] => Format::Agents,
        [.., "CLAUDE.md"] => Format::Claude,
        [".github", "copilot-instructions.md"] => Format::Copilot,
        [".github", "instructions", .., file] if file.ends_with(".instructions.md") => {
            Format::CopilotScoped
        }
        [".cursor", "rules", .., file] if file.ends_with(".mdc") => Format::Cursor,
        [".cursorrules"] => Format::CursorLegacy,
        [".windsurfrules"] => Format::WindsurfLegacy,
        [".windsurf", "rules", ..] if markdown => Format::Windsurf,
        [".clinerules"] => Format::Cline,
        [".clinerules", ..] if markdown => Format::Cline,
        [".continue", "rules", ..] if markdown => Format::Continue,
        ["CONVENTIONS.md"] => Format::Conventions,
        _ => return None,
    };
    Some(format)
}

/// When a copilot loads a file's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// With every request in its directory.
    Always,
    /// When a file matching one of the globs is in play.
    Globs,
    /// Only when a person (or the model, from the description) asks for it.
    OnRequest,
}

/// Where a file's rules apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The directory the file governs: `""` for the whole repository, `web` for
    /// `web/AGENTS.md`.
    pub dir: String,
    /// Globs relative to the repository root (`**/*.rs`); empty when the whole directory.
    pub globs: Vec<String>,
    pub activation: Activation,
}

/// A file that could not be read as its format requires: shown as a diagnostic on `line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A frontmatter value: a scalar or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Scalar(String),
    List(Vec<String>),
}

impl Value {
    /// The items, with a scalar split on commas (`"**/*.ts,**/*.tsx"`).
    fn items(&self) -> Vec<String> {
        let raw: Vec<&str> = match self {
            Value::Scalar(s) => s.split(',').collect(),
            Value::List(items) => items.iter().flat_map(|i| i.split(',')).collect(),
        };
        raw.into_iter()
            .map(|s| unquote(s.trim()).trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn scalar(&self) -> Option<&str> {
        match self {
            Value::Scalar(s) => Some(s.as_str()),
            Value::List(_) => None,
        }
    }
}

/// The frontmatter block at the top of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontmatter {
    pub fields: BTreeMap<String, Value>,
    /// Line number (1-based) of each key, for diagnostics.
    pub lines: BTreeMap<String, usize>,
    /// Lines the block takes, both `---` included; 0 when there is none.
    pub end_line: usize,
}

fn unquote(s: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return inner;
        }
    }
    s
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Reads the frontmatter of `text`, if it opens with `---`. A block that is never closed or
/// holds a line that is neither `key: value`, a list item nor a continuation is a problem.
pub fn frontmatter(text: &str) -> Result<Option<Frontmatter>, (usize, String)> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, first)) if first.trim_end() == "---" => {}
        _ => return Ok(None),
    }
    let mut block = Frontmatter::default();
    let mut open_key: Option<String> = None;
    for (index, line) in lines {
        let number = index + 1;
        let trimmed = line.trim();
        if line.trim_end() == "---" {
            block.end_line = number;
            return Ok(Some(block));
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(item) = trimmed
            .strip_prefix("- ")
            .or(trimmed.strip_prefix('-').filter(|r| r.is_empty()))
        {
            let Some(key) = &open_key else {
                return Err((number, format!("a list item `{trimmed}` belongs to no key")));
            };
            match block.fields.get_mut(key) {
                Some(Value::List(items)) => items.push(unquote(item.trim()).to_string()),
                Some(value @ Value::Scalar(_)) if value.scalar() == Some("") => {
                    *value = Value::List(vec![unquote(item.trim()).to_string()]);
                }
                _ => {
                    return Err((
                        number,
                        format!("`{key}` has a value and a list item `{trimmed}`"),
                    ))
                }
            }
            continue;
        }
        let indented = line.starts_with([' ', '\t']);
        match trimmed.split_once(':') {
            Some((key, value)) if !indented && is_key(key.trim()) => {
                let key = key.trim().to_string();
                let value = value.trim();
                let value = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
                    Some(inner) => Value::List(
                        inner
                            .split(',')
                            .map(|i| unquote(i.trim()).to_string())
                            .filter(|i| !i.is_empty())
                            .collect(),
                    ),
                    None => Value::Scalar(unquote(value).to_string()),
                };
                block.lines.insert(key.clone(), number);
                block.fields.insert(key.clone(), value);
                open_key = Some(key);
            }
            _ if indented && open_key.is_some() => {
                // A folded description (`description: >`) goes on over indented lines.
                if let Some(Value::Scalar(s)) =
                    open_key.as_ref().and_then(|k| block.fields.get_mut(k))
                {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    s.push_str(trimmed);
                }
            }
            _ => {
                return Err((
                    number,
                    format!("expected `key: value` in the frontmatter, found `{trimmed}`"),
                ))
            }
        }
    }
    Err((
        1,
        "the frontmatter opened on line 1 is never closed with `---`".into(),
    ))
}

/// Where a file of `format` at `rel` applies, given its frontmatter.
pub fn scope_of(
    format: Format,
    rel: &str,
    front: Option<&Frontmatter>,
) -> Result<Scope, (usize, String)> {
    let dir = rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    // A nested AGENTS.md or CLAUDE.md governs its directory; `.claude/CLAUDE.md` the root.
    let dir = match format {
        Format::Agents | Format::Claude => dir.strip_suffix(".claude").unwrap_or(dir),
        _ => "",
    }
    .trim_end_matches('/')
    .to_string();
    let whole = Scope {
        dir: dir.clone(),
        globs: Vec::new(),
        activation: Activation::Always,
    };
    if !format.has_frontmatter() {
        return Ok(whole);
    }
    let Some(front) = front else {
        // Cline and Windsurf files without frontmatter apply always; Copilot's scoped files
        // without `applyTo` are attached by hand only.
        return Ok(match format {
            Format::CopilotScoped => Scope {
                activation: Activation::OnRequest,
                ..whole
            },
            _ => whole,
        });
    };
    let line_of = |key: &str| front.lines.get(key).copied().unwrap_or(1);
    let globs = |key: &str| front.fields.get(key).map(Value::items).unwrap_or_default();
    let flag = |key: &str| -> Result<Option<bool>, (usize, String)> {
        match front.fields.get(key) {
            None => Ok(None),
            Some(v) => match v.scalar().map(str::trim) {
                Some("true") => Ok(Some(true)),
                Some("false") | Some("") => Ok(Some(false)),
                _ => Err((line_of(key), format!("`{key}` must be true or false"))),
            },
        }
    };
    let scoped = |globs: Vec<String>| {
        if globs.is_empty() {
            Scope {
                activation: Activation::OnRequest,
                ..whole.clone()
            }
        } else {
            Scope {
                dir: String::new(),
                activation: Activation::Globs,
                globs,
            }
        }
    };
    let scope = match format {
        Format::CopilotScoped => {
            let globs = globs("applyTo");
            // `applyTo: "**"` is Copilot's way of saying every file.
            if globs.iter().any(|g| g == "**" || g == "**/*") {
                whole
            } else {
                scoped(globs)
            }
        }
        Format::Cursor | Format::Continue => {
            if flag("alwaysApply")? == Some(true) {
                whole
            } else {
                scoped(globs("globs"))
            }
        }
        Format::Windsurf => match front.fields.get("trigger").and_then(Value::scalar) {
            None | Some("always_on") => whole,
            Some("glob") => scoped(globs("globs")),
            Some("manual" | "model_decision") => scoped(Vec::new()),
            Some(other) => {
                return Err((
                    line_of("trigger"),
                    format!(
                        "`trigger: {other}` is not one of always_on, manual, model_decision, glob"
                    ),
                ))
            }
        },
        // Cline's conditional rules name their files under `paths`.
        Format::Cline => match globs("paths") {
            g if g.is_empty() => whole,
            g => scoped(g),
        },
        _ => whole,
    };
    Ok(scope)
}

/// The one language a glob names by its extension (`**/*.rs` → rust), as the code
/// extractors file conventions under.
pub fn glob_language(glob: &str) -> Option<&'static str> {
    let tail = glob.rsplit('/').next()?;
    let ext = tail.strip_prefix("*.")?;
    if ext.contains(['*', '{', '[', ',']) {
        return None;
    }
    crate::workspace::language_of(std::path::Path::new(&format!("x.{ext}")))
}

/// The language every glob of a scope names, when they all name the same one.
pub fn scope_language(scope: &Scope) -> Option<&'static str> {
    let mut languages = scope.globs.iter().map(|g| glob_language(g));
    let first = languages.next()??;
    languages.all(|l| l == Some(first)).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_recognised_by_its_path() {
        let cases = [
            ("AGENTS.md", Some(Format::Agents)),
            ("web/AGENTS.md", Some(Format::Agents)),
            ("CLAUDE.md", Some(Format::Claude)),
            (".claude/CLAUDE.md", Some(Format::Claude)),
            (".github/copilot-instructions.md", Some(Format::Copilot)),
            (
                ".github/instructions/rust.instructions.md",
                Some(Format::CopilotScoped),
            ),
            (".github/instructions/rust.md", None),
            (".cursor/rules/rust.mdc", Some(Format::Cursor)),
            (".cursor/rules/nested/api.mdc", Some(Format::Cursor)),
            (".cursorrules", Some(Format::CursorLegacy)),
            (".windsurfrules", Some(Format::WindsurfLegacy)),
            (".windsurf/rules/style.md", Some(Format::Windsurf)),
            (".clinerules", Some(Format::Cline)),
            (".clinerules/testing.md", Some(Format::Cline)),
            (".continue/rules/python.md", Some(Format::Continue)),
            ("CONVENTIONS.md", Some(Format::Conventions)),
            ("docs/CONVENTIONS.md", None),
            ("node_modules/pkg/AGENTS.md", None),
            ("README.md", None),
        ];
        for (path, expected) in cases {
            assert_eq!(recognise(path), expected, "{path}");
        }
    }

    #[test]
    fn frontmatter_reads_cursor_unquoted_globs_lists_and_folded_text() {
        let text = "---\ndescription: Rust\n  rules for the server\nglobs: *.rs, server/**/*.rs\nalwaysApply: false\ntags:\n  - a\n  - \"b\"\n---\n- body\n";
        let front = frontmatter(text).unwrap().unwrap();
        assert_eq!(front.end_line, 9);
        assert_eq!(
            front.fields["description"],
            Value::Scalar("Rust rules for the server".into())
        );
        assert_eq!(
            front.fields["globs"].items(),
            vec!["*.rs".to_string(), "server/**/*.rs".to_string()]
        );
        assert_eq!(
            front.fields["tags"],
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(frontmatter("no frontmatter\n---\n").unwrap(), None);
    }

    #[test]
    fn malformed_frontmatter_says_where_and_why() {
        let (line, message) = frontmatter("---\napplyTo: \"**/*.ts\"\n").unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("never closed"), "{message}");
        let (line, message) = frontmatter("---\napplyTo **/*.ts\n---\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("expected `key: value`"), "{message}");
        let (line, message) = frontmatter("---\n- stray\n---\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("belongs to no key"), "{message}");
    }

    #[test]
    fn scopes_follow_each_tools_rules() {
        let scope = |format, rel: &str, text: &str| {
            let front = frontmatter(text).unwrap();
            scope_of(format, rel, front.as_ref())
        };
        let copilot = scope(
            Format::CopilotScoped,
            ".github/instructions/ts.instructions.md",
            "---\napplyTo: \"**/*.ts,**/*.tsx\"\n---\n",
        )
        .unwrap();
        assert_eq!(copilot.activation, Activation::Globs);
        assert_eq!(copilot.globs, vec!["**/*.ts", "**/*.tsx"]);
        assert_eq!(scope_language(&copilot), Some("typescript"));
        let everywhere = scope(
            Format::CopilotScoped,
            ".github/instructions/all.instructions.md",
            "---\napplyTo: \"**\"\n---\n",
        )
        .unwrap();
        assert_eq!(everywhere.activation, Activation::Always);
        let always = scope(
            Format::Cursor,
            ".cursor/rules/a.mdc",
            "---\nglobs: *.rs\nalwaysApply: true\n---\n",
        )
        .unwrap();
        assert_eq!(always.activation, Activation::Always);
        let bad = scope(
            Format::Cursor,
            ".cursor/rules/a.mdc",
            "---\nalwaysApply: sometimes\n---\n",
        )
        .unwrap_err();
        assert_eq!(bad, (2, "`alwaysApply` must be true or false".to_string()));
        let windsurf = scope(
            Format::Windsurf,
            ".windsurf/rules/go.md",
            "---\ntrigger: glob\nglobs: **/*.go\n---\n",
        )
        .unwrap();
        assert_eq!(scope_language(&windsurf), Some("go"));
        let nested = scope(Format::Agents, "web/AGENTS.md", "").unwrap();
        assert_eq!(nested.dir, "web");
        let root = scope(Format::Claude, ".claude/CLAUDE.md", "").unwrap();
        assert_eq!(root.dir, "");
        assert_eq!(glob_language("src/**/*.{ts,tsx}"), None);
    }
}

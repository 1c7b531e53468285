//! Biome's `biome.json`: the formatter and linter settings it holds.

use serde_json::Value;

use super::{display_language, language_for};
use crate::config::{Fact, Findings, SourceFile, WorkspaceIndex};

pub(crate) fn biome(file: &SourceFile, workspace: &WorkspaceIndex, findings: &mut Findings) {
    let Some(Value::Object(config)) = file.parse_json(true, findings) else {
        return;
    };
    let language = language_for(workspace, &file.dir);
    let lang = Some(language);
    let shown = display_language(language);
    let get = |path: &[&str]| -> Option<&Value> {
        let mut current = config.get(path[0])?;
        for part in &path[1..] {
            current = current.get(part)?;
        }
        Some(current)
    };
    let formatter_on = get(&["formatter", "enabled"]).and_then(Value::as_bool) != Some(false);
    let linter_on = get(&["linter", "enabled"]).and_then(Value::as_bool) != Some(false);
    if formatter_on {
        findings.memory(
            file,
            file.line_of_json_key("formatter").max(1),
            Fact::new(
                "format.tool",
                lang,
                "biome",
                format!("Format {shown} with Biome."),
            ),
        );
    }
    if linter_on {
        let recommended = get(&["linter", "rules", "recommended"]).and_then(Value::as_bool);
        let text = if recommended == Some(true) {
            format!("Lint {shown} with Biome (recommended rules).")
        } else {
            format!("Lint {shown} with Biome.")
        };
        findings.memory(
            file,
            file.line_of_json_key("linter"),
            Fact::new("lint.tool", lang, "biome", text),
        );
    }
    match get(&["formatter", "indentStyle"]).and_then(Value::as_str) {
        Some("tab") => findings.memory(
            file,
            file.line_of_json_key("indentStyle"),
            Fact::new(
                "format.indent",
                lang,
                "tabs",
                format!("Indent {shown} with tabs (Biome)."),
            ),
        ),
        Some("space") => {
            let width = get(&["formatter", "indentWidth"])
                .and_then(Value::as_u64)
                .unwrap_or(2);
            findings.memory(
                file,
                file.line_of_json_key("indentStyle"),
                Fact::new(
                    "format.indent",
                    lang,
                    format!("spaces:{width}"),
                    format!("Indent {shown} with {width} spaces (Biome)."),
                ),
            );
        }
        _ => {}
    }
    if let Some(width) = get(&["formatter", "lineWidth"]).and_then(Value::as_u64) {
        findings.memory(
            file,
            file.line_of_json_key("lineWidth"),
            Fact::new(
                "format.line_length",
                lang,
                width.to_string(),
                format!("Keep {shown} lines within {width} characters (Biome lineWidth)."),
            ),
        );
    }
    if let Some(quotes) = get(&["javascript", "formatter", "quoteStyle"]).and_then(Value::as_str) {
        findings.memory(
            file,
            file.line_of_json_key("quoteStyle"),
            Fact::new(
                "format.quotes",
                lang,
                quotes,
                format!("Use {quotes} quotes for strings in {shown} (Biome)."),
            ),
        );
    }
    if let Some(semicolons) =
        get(&["javascript", "formatter", "semicolons"]).and_then(Value::as_str)
    {
        let (value, text) = if semicolons == "asNeeded" {
            (
                "never",
                format!("Omit semicolons in {shown} where possible (Biome)."),
            )
        } else {
            (
                "always",
                format!("End statements with semicolons in {shown} (Biome)."),
            )
        };
        findings.memory(
            file,
            file.line_of_json_key("semicolons"),
            Fact::new("format.semicolons", lang, value, text),
        );
    }
}

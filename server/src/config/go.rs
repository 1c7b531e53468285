//! Go: `go.mod` (module, Go version, required modules) and golangci-lint's config.

use super::{apply_catalog, yaml_scalar, Fact, Findings, SourceFile};

const GO: Option<&str> = Some("go");

pub(crate) fn go_mod(file: &SourceFile, findings: &mut Findings) {
    let mut module = None;
    let mut version = None;
    for line in file.text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("module ") {
            module = Some(rest.trim().trim_matches('"').to_string());
        } else if let Some(rest) = line.strip_prefix("go ") {
            version = Some(rest.trim().to_string());
        }
    }
    let Some(module) = module else {
        findings.problem(format!("{}: no module line, skipped", file.rel));
        return;
    };
    let mut details = vec![format!("module {module}")];
    if let Some(version) = &version {
        details.insert(0, format!("go {version}"));
    }
    let line = file.line_of("module ");
    findings.memory(
        file,
        line,
        Fact::new(
            "stack.language",
            GO,
            "go",
            format!("The project is written in Go ({}).", details.join(", ")),
        ),
    );
    // The Go toolchain formats with gofmt; every Go project follows it.
    findings.memory(
        file,
        line,
        Fact::new("format.tool", GO, "gofmt", "Format Go with gofmt."),
    );

    // No test framework from here: go.mod shows neither that tests run with `go test` nor
    // which assertion library they use. The test files do, and the code scan counts them.
    let modules = crate::manifest::go_required_modules(&file.text);
    apply_catalog(file, findings, "go", &modules, GO);
}

pub(crate) fn golangci(file: &SourceFile, findings: &mut Findings) {
    let Some(config) = file.parse_yaml(findings) else {
        return;
    };
    let linters = config.get("linters");
    let enabled: Vec<String> = linters
        .and_then(|l| l.get("enable"))
        .and_then(|e| e.as_sequence())
        .map(|s| s.iter().filter_map(yaml_scalar).collect())
        .unwrap_or_default();
    let text = if enabled.is_empty() {
        "Lint Go with golangci-lint.".to_string()
    } else {
        format!(
            "Lint Go with golangci-lint (enabled: {}).",
            enabled.join(", ")
        )
    };
    findings.memory(file, 1, Fact::new("lint.tool", GO, "golangci-lint", text));
    if !enabled.is_empty() {
        findings.memory(
            file,
            file.line_of("enable"),
            Fact::new(
                "lint.rules",
                GO,
                format!("enable:{}", enabled.join(",")),
                format!(
                    "golangci-lint enables {} ({}).",
                    enabled.join(", "),
                    file.rel
                ),
            ),
        );
    }
    golangci_formatters(file, &config, &enabled, findings);
}

/// What goimports does to the imports of a Go file, as said to a newcomer.
pub(crate) const GOIMPORTS_ORDER: &str = "Go imports are grouped by goimports: the standard library first, then a blank line and the other modules";

/// The formatters golangci-lint runs (`formatters.enable` in version 2, linters in version
/// 1): gofumpt formats, goimports and gci also group the imports.
fn golangci_formatters(
    file: &SourceFile,
    config: &serde_yaml_ng::Value,
    linters: &[String],
    findings: &mut Findings,
) {
    let formatters = config.get("formatters");
    let mut enabled: Vec<String> = formatters
        .and_then(|f| f.get("enable"))
        .and_then(|e| e.as_sequence())
        .map(|s| s.iter().filter_map(yaml_scalar).collect())
        .unwrap_or_default();
    enabled.extend(
        linters
            .iter()
            .filter(|l| matches!(l.as_str(), "gofumpt" | "goimports" | "gci"))
            .cloned(),
    );
    // Version 2 keeps settings under `formatters.settings`, version 1 under
    // `linters-settings`.
    let settings = |name: &str| {
        formatters
            .and_then(|f| f.get("settings"))
            .and_then(|s| s.get(name))
            .or_else(|| config.get("linters-settings").and_then(|s| s.get(name)))
    };
    let strings = |value: Option<&serde_yaml_ng::Value>| -> Vec<String> {
        match value {
            Some(serde_yaml_ng::Value::Sequence(items)) => {
                items.iter().filter_map(yaml_scalar).collect()
            }
            Some(other) => yaml_scalar(other)
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let line_of =
        |name: &str| file.line_where_from(1, |l| l.trim_start().trim_start_matches("- ") == name);
    if enabled.iter().any(|f| f == "gofumpt") {
        findings.memory(
            file,
            line_of("gofumpt"),
            Fact::new(
                "format.tool",
                GO,
                "gofumpt",
                "Format Go with gofumpt, a stricter gofmt (golangci-lint checks it; `golangci-lint fmt` applies it).",
            ),
        );
    }
    let (order, at) = if enabled.iter().any(|f| f == "gci") {
        let sections = strings(settings("gci").and_then(|s| s.get("sections")));
        let sections = if sections.is_empty() {
            vec!["standard".to_string(), "default".to_string()]
        } else {
            sections
        };
        (
            format!(
                "Go imports are grouped by gci into sections, in this order: {} (golangci-lint checks it).",
                sections.join(", ")
            ),
            line_of("gci"),
        )
    } else if enabled.iter().any(|f| f == "goimports") {
        let local = strings(settings("goimports").and_then(|s| s.get("local-prefixes")));
        let mut text = GOIMPORTS_ORDER.to_string();
        if !local.is_empty() {
            text.push_str(&format!(
                ", with this project's packages ({}) in a group of their own last",
                local.join(", ")
            ));
        }
        text.push_str(" (golangci-lint checks it).");
        (text, line_of("goimports"))
    } else {
        return;
    };
    let value = if order.contains("gci") {
        "gci"
    } else {
        "goimports"
    };
    findings.memory(file, at, Fact::new("imports.order", GO, value, order));
}

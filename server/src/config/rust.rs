//! Rust: `Cargo.toml` (package, workspace, dependencies, lints), `rustfmt.toml` and
//! `clippy.toml`.

use std::collections::BTreeMap;

use super::{apply_catalog, Fact, Findings, SourceFile};

const RUST: Option<&str> = Some("rust");

/// Dev-dependencies that extend `cargo test`; named in the test framework's sentence.
const TEST_HELPERS: &[&str] = &[
    "insta",
    "proptest",
    "quickcheck",
    "rstest",
    "criterion",
    "mockall",
    "pretty_assertions",
    "assert_cmd",
];

fn str_at<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut current = table;
    for part in parents {
        current = current.get(*part)?.as_table()?;
    }
    current.get(*last)
}

pub(crate) fn cargo_manifest(file: &SourceFile, findings: &mut Findings) {
    let Some(manifest) = file.parse_toml(findings) else {
        return;
    };

    let edition = str_at(&manifest, &["package", "edition"])
        .and_then(toml::Value::as_str)
        .or_else(|| {
            str_at(&manifest, &["workspace", "package", "edition"]).and_then(toml::Value::as_str)
        });
    let members: Vec<&str> = str_at(&manifest, &["workspace", "members"])
        .and_then(toml::Value::as_array)
        .map(|m| m.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let mut details = Vec::new();
    if let Some(edition) = edition {
        details.push(format!("edition {edition}"));
    }
    if manifest.contains_key("workspace") {
        if members.is_empty() {
            details.push("Cargo workspace".to_string());
        } else {
            details.push(format!(
                "Cargo workspace with members {}",
                members.join(", ")
            ));
        }
    }
    let text = if details.is_empty() {
        "The project is written in Rust.".to_string()
    } else {
        format!("The project is written in Rust ({}).", details.join(", "))
    };
    let line = if manifest.contains_key("package") {
        file.line_of("[package]")
    } else {
        file.line_of("[workspace]")
    };
    findings.memory(file, line, Fact::new("stack.language", RUST, "rust", text));

    let deps = dependencies(file, &manifest);
    apply_catalog(file, findings, "rust", &deps, RUST);

    // Every Rust package is tested with `cargo test`; helpers make the sentence specific.
    if manifest.contains_key("package") || !deps.is_empty() {
        let helpers: Vec<&str> = TEST_HELPERS
            .iter()
            .copied()
            .filter(|h| deps.contains_key(*h))
            .collect();
        let text = if helpers.is_empty() {
            "Tests run with cargo test.".to_string()
        } else {
            format!("Tests run with cargo test (with {}).", helpers.join(", "))
        };
        let line = helpers
            .first()
            .and_then(|h| deps.get(*h).copied())
            .unwrap_or(line);
        findings.memory(
            file,
            line,
            Fact::new("test.framework", RUST, "cargo test", text),
        );
    }

    lints(file, &manifest, findings);
}

/// Every declared dependency (normal, dev, build, workspace, target-specific) with the line
/// that declares it.
fn dependencies(file: &SourceFile, manifest: &toml::Table) -> BTreeMap<String, usize> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(table) = manifest.get(section).and_then(toml::Value::as_table) {
            tables.push(table);
        }
    }
    if let Some(table) =
        str_at(manifest, &["workspace", "dependencies"]).and_then(toml::Value::as_table)
    {
        tables.push(table);
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            for section in ["dependencies", "dev-dependencies"] {
                if let Some(table) = target.get(section).and_then(toml::Value::as_table) {
                    tables.push(table);
                }
            }
        }
    }
    let mut deps = BTreeMap::new();
    for table in tables {
        for (name, spec) in table {
            // A renamed dependency (`foo = { package = "bar" }`) is really `bar`.
            let package = spec
                .get("package")
                .and_then(toml::Value::as_str)
                .unwrap_or(name);
            let line = match file.line_of_key(name) {
                1 => file.line_of(&format!("dependencies.{name}]")),
                line => line,
            };
            deps.entry(package.to_string()).or_insert(line);
        }
    }
    deps
}

/// `[lints.clippy]` / `[workspace.lints.clippy]` levels.
fn lints(file: &SourceFile, manifest: &toml::Table, findings: &mut Findings) {
    let clippy = str_at(manifest, &["lints", "clippy"])
        .or_else(|| str_at(manifest, &["workspace", "lints", "clippy"]))
        .and_then(toml::Value::as_table);
    let Some(clippy) = clippy else {
        return;
    };
    let rules: Vec<String> = clippy
        .iter()
        .filter_map(|(name, level)| {
            let level = level
                .as_str()
                .or_else(|| level.get("level").and_then(toml::Value::as_str))?;
            Some(format!("{name} = {level}"))
        })
        .collect();
    if rules.is_empty() {
        return;
    }
    let line = file.line_of("lints.clippy]");
    findings.memory(
        file,
        line,
        Fact::new(
            "lint.tool",
            RUST,
            "clippy",
            "Lint Rust with clippy (`cargo clippy`).",
        ),
    );
    findings.memory(
        file,
        line,
        Fact::new(
            "lint.rules",
            RUST,
            format!("clippy:{}", rules.join(",").replace(' ', "")),
            format!(
                "Clippy lint levels set in {}: {}.",
                file.rel,
                rules.join(", ")
            ),
        ),
    );
}

/// rustfmt settings worth telling a copilot, with the slot each fills.
const RUSTFMT_SETTINGS: &[(&str, &str)] = &[
    ("max_width", "format.max_width"),
    ("imports_granularity", "format.imports_granularity"),
    ("group_imports", "format.group_imports"),
    ("use_small_heuristics", "format.use_small_heuristics"),
    ("newline_style", "format.newline_style"),
    ("trailing_comma", "format.trailing_comma"),
    ("brace_style", "format.brace_style"),
];

fn toml_scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

/// The `key = value` settings of a flat TOML config (rustfmt.toml, clippy.toml).
fn scalar_settings(config: &toml::Table) -> Vec<String> {
    config
        .iter()
        .filter_map(|(k, v)| toml_scalar(v).map(|v| format!("{k} = {v}")))
        .collect()
}

pub(crate) fn rustfmt(file: &SourceFile, findings: &mut Findings) {
    let Some(config) = file.parse_toml(findings) else {
        return;
    };
    let settings = scalar_settings(&config);
    let text = if settings.is_empty() {
        "Format Rust with rustfmt.".to_string()
    } else {
        format!("Format Rust with rustfmt: {}.", settings.join(", "))
    };
    findings.memory(file, 1, Fact::new("format.tool", RUST, "rustfmt", text));

    for (setting, key) in RUSTFMT_SETTINGS {
        let Some(value) = config.get(*setting).and_then(toml_scalar) else {
            continue;
        };
        findings.memory(
            file,
            file.line_of_key(setting),
            Fact::new(
                *key,
                RUST,
                value.clone(),
                format!(
                    "rustfmt is configured with {setting} = {value} ({}).",
                    file.rel
                ),
            ),
        );
    }

    let hard_tabs = config.get("hard_tabs").and_then(toml::Value::as_bool) == Some(true);
    let tab_spaces = config.get("tab_spaces").and_then(toml::Value::as_integer);
    if hard_tabs {
        findings.memory(
            file,
            file.line_of_key("hard_tabs"),
            Fact::new(
                "format.indent",
                RUST,
                "tabs",
                "Indent Rust with tabs (rustfmt hard_tabs).",
            ),
        );
    } else if let Some(spaces) = tab_spaces {
        findings.memory(
            file,
            file.line_of_key("tab_spaces"),
            Fact::new(
                "format.indent",
                RUST,
                format!("spaces:{spaces}"),
                format!("Indent Rust with {spaces} spaces (rustfmt tab_spaces)."),
            ),
        );
    }
}

pub(crate) fn clippy(file: &SourceFile, findings: &mut Findings) {
    let Some(config) = file.parse_toml(findings) else {
        return;
    };
    let settings = scalar_settings(&config);
    let text = if settings.is_empty() {
        "Lint Rust with clippy (`cargo clippy`).".to_string()
    } else {
        format!(
            "Lint Rust with clippy (`cargo clippy`); {} sets {}.",
            file.rel,
            settings.join(", ")
        )
    };
    findings.memory(file, 1, Fact::new("lint.tool", RUST, "clippy", text));
    if !settings.is_empty() {
        findings.memory(
            file,
            1,
            Fact::new(
                "lint.settings",
                RUST,
                settings.join(",").replace(' ', ""),
                format!("Clippy settings ({}): {}.", file.rel, settings.join(", ")),
            ),
        );
    }
}

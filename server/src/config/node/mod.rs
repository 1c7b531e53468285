//! JavaScript and TypeScript: `package.json`, prettier, ESLint, Biome and `tsconfig.json`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{apply_catalog, tasks, yaml_to_json, Fact, Findings, SourceFile, WorkspaceIndex};

mod biome;
mod eslint;

pub(crate) use biome::biome;
pub(crate) use eslint::eslint;
use eslint::eslint_options;

/// The language of JavaScript-family files in `dir`: TypeScript when the workspace has a
/// tsconfig, which is what decides how files are compiled.
fn language_for(workspace: &WorkspaceIndex, dir: &str) -> &'static str {
    if workspace.has(dir, "tsconfig.json") || workspace.has_anywhere("tsconfig.json") {
        "typescript"
    } else {
        "javascript"
    }
}

fn display_language(language: &str) -> &'static str {
    if language == "typescript" {
        "TypeScript"
    } else {
        "JavaScript"
    }
}

/// Lock files and the package manager that writes each, in order of preference when several
/// sit side by side.
pub(crate) const LOCK_FILES: [(&str, &str); 5] = [
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("bun.lockb", "bun"),
    ("bun.lock", "bun"),
    ("package-lock.json", "npm"),
];

/// The package manager: the `packageManager` field, else the lock file beside the manifest
/// or at the root.
fn package_manager(
    manifest: &Map<String, Value>,
    dir: &str,
    workspace: &WorkspaceIndex,
) -> Option<(&'static str, String)> {
    if let Some(declared) = manifest.get("packageManager").and_then(Value::as_str) {
        for manager in ["pnpm", "yarn", "bun", "npm"] {
            if declared.starts_with(manager) {
                return Some((manager, "\"packageManager\"".to_string()));
            }
        }
    }
    for candidate_dir in [dir, ""] {
        for (lock, manager) in LOCK_FILES {
            if workspace.has(candidate_dir, lock) {
                return Some((manager, lock.to_string()));
            }
        }
    }
    None
}

fn dependencies(file: &SourceFile, manifest: &Map<String, Value>) -> BTreeMap<String, usize> {
    let mut deps = BTreeMap::new();
    for section in [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ] {
        let Some(table) = manifest.get(section).and_then(Value::as_object) else {
            continue;
        };
        let start = file.line_of_json_key(section);
        for name in table.keys() {
            let line = file.line_of_from(&format!("\"{name}\""), start);
            deps.entry(name.clone()).or_insert(line);
        }
    }
    deps
}

pub(crate) fn package_json(file: &SourceFile, workspace: &WorkspaceIndex, findings: &mut Findings) {
    let Some(Value::Object(manifest)) = file.parse_json(false, findings) else {
        return;
    };
    let deps = dependencies(file, &manifest);
    let language = if deps.contains_key("typescript") || workspace.has(&file.dir, "tsconfig.json") {
        "typescript"
    } else {
        language_for(workspace, &file.dir)
    };
    let manager = package_manager(&manifest, &file.dir, workspace);

    let mut details = vec!["Node.js".to_string()];
    if manifest.get("type").and_then(Value::as_str) == Some("module") {
        details.push("ES modules".to_string());
    }
    if let Some(workspaces) = manifest.get("workspaces") {
        let count = workspaces
            .as_array()
            .or_else(|| workspaces.get("packages").and_then(Value::as_array))
            .map(Vec::len)
            .unwrap_or(0);
        if count > 0 {
            details.push("npm workspaces".to_string());
        }
    }
    // A pnpm monorepo declares its packages in pnpm-workspace.yaml, not in package.json.
    if workspace.has(&file.dir, "pnpm-workspace.yaml") {
        let packages = workspace.dirs_below_with(&file.dir, "package.json");
        let mut parents: Vec<&str> = packages
            .iter()
            .map(|d| d.rsplit_once('/').map(|(p, _)| p).unwrap_or(d))
            .collect();
        parents.sort();
        parents.dedup();
        let shown: Vec<String> = parents.iter().take(4).map(|p| format!("`{p}/`")).collect();
        details.push(format!(
            "a pnpm workspace monorepo of {} packages under {} (pnpm-workspace.yaml)",
            packages.len(),
            shown.join(", ")
        ));
    }
    let line = file
        .text
        .lines()
        .position(|l| l.contains("\"name\"") || l.contains("\"type\""))
        .map(|i| i + 1)
        .unwrap_or(1);
    findings.memory(
        file,
        line,
        Fact::new(
            "stack.language",
            Some(language),
            language,
            format!(
                "The project is written in {} ({}).",
                display_language(language),
                details.join(", ")
            ),
        ),
    );
    if let Some((manager, evidence)) = &manager {
        let line = file.line_of("\"packageManager\"");
        findings.memory(
            file,
            line,
            Fact::new(
                "stack.package_manager",
                Some(language),
                *manager,
                format!("Install dependencies and run scripts with {manager} ({evidence})."),
            )
            .importance(0.6),
        );
    }

    // Tool sections first, so that their specific sentences win over the dependency's.
    if let Some(Value::Object(options)) = manifest.get("prettier") {
        let line = file.line_of_json_object("prettier");
        prettier_options(file, line, options, language, findings);
    }
    if let Some(Value::Object(config)) = manifest.get("eslintConfig") {
        let line = file.line_of_json_object("eslintConfig");
        eslint_options(file, line, config, language, findings);
    }

    apply_catalog(file, findings, "javascript", &deps, Some(language));
    if deps.contains_key("@biomejs/biome") {
        let line = deps.get("@biomejs/biome").copied().unwrap_or(1);
        findings.memory(
            file,
            line,
            Fact::new(
                "lint.tool",
                Some(language),
                "biome",
                "Format and lint with Biome.",
            ),
        );
    }

    if let Some(Value::Object(scripts)) = manifest.get("scripts") {
        let scripts: Vec<(String, String)> = scripts
            .iter()
            .filter_map(|(name, command)| Some((name.clone(), command.as_str()?.to_string())))
            .collect();
        let runner = manager.map(|(m, _)| m).unwrap_or("npm");
        tasks::npm_scripts(file, &scripts, runner, language, findings);
    }
}

/// Reads whatever format a prettier or ESLint config is written in into a JSON object.
/// JavaScript configs cannot be evaluated; simple `key: value` pairs are read from the text.
fn config_object(file: &SourceFile, findings: &mut Findings) -> Option<Map<String, Value>> {
    let name = file.name();
    let value = if name.ends_with(".js")
        || name.ends_with(".cjs")
        || name.ends_with(".mjs")
        || name.ends_with(".ts")
    {
        Some(Value::Object(scan_js_object(&file.text)))
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        file.parse_yaml(findings).map(|v| yaml_to_json(&v))
    } else if name.ends_with(".toml") {
        file.parse_toml(findings)
            .and_then(|t| serde_json::to_value(t).ok())
    } else if name.ends_with(".json") || name.ends_with(".json5") {
        file.parse_json(true, findings)
    } else if file.text.trim_start().starts_with('{') {
        // `.prettierrc` and `.eslintrc` may be JSON or YAML; the first character tells.
        file.parse_json(true, findings)
    } else {
        file.parse_yaml(findings).map(|v| yaml_to_json(&v))
    };
    match value {
        Some(Value::Object(map)) => Some(map),
        _ => None,
    }
}

static JS_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*["']?([A-Za-z]+)["']?\s*:\s*(true|false|\d+|"[^"]*"|'[^']*')"#)
        .unwrap_or_else(|err| panic!("invalid built-in pattern: {err}"))
});

fn scan_js_object(text: &str) -> Map<String, Value> {
    let mut map = Map::new();
    for caps in JS_PAIR.captures_iter(text) {
        let raw = &caps[2];
        let value = match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => match raw.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(raw.trim_matches(['"', '\'']).to_string()),
            },
        };
        map.entry(caps[1].to_string()).or_insert(value);
    }
    map
}

pub(crate) fn prettier(file: &SourceFile, workspace: &WorkspaceIndex, findings: &mut Findings) {
    let Some(options) = config_object(file, findings) else {
        return;
    };
    let language = language_for(workspace, &file.dir);
    prettier_options(file, 1, &options, language, findings);
}

fn prettier_options(
    file: &SourceFile,
    line: usize,
    options: &Map<String, Value>,
    language: &'static str,
    findings: &mut Findings,
) {
    let lang = Some(language);
    let shown = display_language(language);
    let settings: Vec<String> = options
        .iter()
        .filter(|(_, v)| !v.is_object() && !v.is_array())
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let text = if settings.is_empty() {
        format!("Format {shown} with prettier.")
    } else {
        format!("Format {shown} with prettier: {}.", settings.join(", "))
    };
    findings.memory(file, line, Fact::new("format.tool", lang, "prettier", text));

    let at = |key: &str| {
        let found = file.line_of(key);
        if found == 1 {
            line
        } else {
            found
        }
    };
    // The boolean options: (option, key, value and sentence when true, when false).
    let switches = [
        (
            "singleQuote",
            "format.quotes",
            ("single", "Use single quotes for strings in {} (prettier)."),
            ("double", "Use double quotes for strings in {} (prettier)."),
        ),
        (
            "semi",
            "format.semicolons",
            ("always", "End statements with semicolons in {} (prettier)."),
            ("never", "Omit semicolons in {} (prettier semi: false)."),
        ),
    ];
    for (option, key, on, off) in switches {
        if let Some(set) = options.get(option).and_then(Value::as_bool) {
            let (value, sentence) = if set { on } else { off };
            findings.memory(
                file,
                at(option),
                Fact::new(key, lang, value, sentence.replace("{}", shown)),
            );
        }
    }
    if options.get("useTabs").and_then(Value::as_bool) == Some(true) {
        findings.memory(
            file,
            at("useTabs"),
            Fact::new(
                "format.indent",
                lang,
                "tabs",
                format!("Indent {shown} with tabs (prettier)."),
            ),
        );
    } else if let Some(width) = options.get("tabWidth").and_then(Value::as_u64) {
        findings.memory(
            file,
            at("tabWidth"),
            Fact::new(
                "format.indent",
                lang,
                format!("spaces:{width}"),
                format!("Indent {shown} with {width} spaces (prettier)."),
            ),
        );
    }
    if let Some(width) = options.get("printWidth").and_then(Value::as_u64) {
        findings.memory(
            file,
            at("printWidth"),
            Fact::new(
                "format.line_length",
                lang,
                width.to_string(),
                format!("Keep {shown} lines within {width} characters (prettier printWidth)."),
            ),
        );
    }
    if let Some(trailing) = options.get("trailingComma").and_then(Value::as_str) {
        findings.memory(
            file,
            at("trailingComma"),
            Fact::new(
                "format.trailing_comma",
                lang,
                trailing,
                format!("Trailing commas in {shown}: {trailing} (prettier trailingComma)."),
            ),
        );
    }
}

/// Compiler options that make TypeScript stricter than `strict` alone; named in the sentence.
const EXTRA_STRICTNESS: &[&str] = &[
    "noUncheckedIndexedAccess",
    "exactOptionalPropertyTypes",
    "noImplicitOverride",
    "noPropertyAccessFromIndexSignature",
    "noUnusedLocals",
    "noUnusedParameters",
];

pub(crate) fn tsconfig(file: &SourceFile, findings: &mut Findings) {
    let Some(Value::Object(config)) = file.parse_json(true, findings) else {
        return;
    };
    let lang = Some("typescript");
    findings.memory(
        file,
        1,
        Fact::new(
            "stack.language",
            lang,
            "typescript",
            "The project is written in TypeScript.",
        ),
    );
    let options = config.get("compilerOptions").and_then(Value::as_object);
    let strict = options
        .and_then(|o| o.get("strict"))
        .and_then(Value::as_bool);
    let extends_strict = config
        .get("extends")
        .map(|e| e.to_string().to_ascii_lowercase().contains("strict"))
        .unwrap_or(false);
    let extras: Vec<&str> = EXTRA_STRICTNESS
        .iter()
        .copied()
        .filter(|flag| options.and_then(|o| o.get(*flag)).and_then(Value::as_bool) == Some(true))
        .collect();
    match (strict, extends_strict) {
        (Some(true), _) | (None, true) => {
            let mut text = format!("TypeScript is compiled in strict mode ({})", file.rel);
            if !extras.is_empty() {
                text.push_str(&format!(", plus {}", extras.join(", ")));
            }
            text.push('.');
            let line = match strict {
                Some(_) => file.line_of_json_key("strict"),
                None => file.line_of_json_key("extends"),
            };
            findings.memory(file, line, Fact::new("types.strict", lang, "true", text));
        }
        (Some(false), _) => findings.memory(
            file,
            file.line_of_json_key("strict"),
            Fact::new(
                "types.strict",
                lang,
                "false",
                format!("TypeScript strict mode is off ({}).", file.rel),
            ),
        ),
        (None, false) => {}
    }
}

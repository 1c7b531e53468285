//! Python: `pyproject.toml` (PEP 621, Poetry and `[tool.*]` sections), `setup.cfg`,
//! `ruff.toml`, `mypy.ini`, `pytest.ini` and `requirements*.txt`.

use std::collections::BTreeMap;

use crate::manifest::requirement_name;

use super::{apply_catalog, ini_sections, Fact, Findings, SourceFile};

const PYTHON: Option<&str> = Some("python");

fn add_requirements<'a>(
    file: &SourceFile,
    deps: &mut BTreeMap<String, usize>,
    requirements: impl Iterator<Item = &'a toml::Value>,
) {
    for requirement in requirements.filter_map(toml::Value::as_str) {
        if let Some(name) = requirement_name(requirement) {
            let line = file.line_of(requirement);
            deps.entry(name).or_insert(line);
        }
    }
}

fn table_at<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Table> {
    let mut current = table;
    for part in path {
        current = current.get(*part)?.as_table()?;
    }
    Some(current)
}

fn pyproject_dependencies(file: &SourceFile, doc: &toml::Table) -> BTreeMap<String, usize> {
    let mut deps = BTreeMap::new();
    if let Some(project) = table_at(doc, &["project"]) {
        if let Some(list) = project.get("dependencies").and_then(toml::Value::as_array) {
            add_requirements(file, &mut deps, list.iter());
        }
        if let Some(optional) = project
            .get("optional-dependencies")
            .and_then(toml::Value::as_table)
        {
            for list in optional.values().filter_map(toml::Value::as_array) {
                add_requirements(file, &mut deps, list.iter());
            }
        }
    }
    if let Some(groups) = table_at(doc, &["dependency-groups"]) {
        for list in groups.values().filter_map(toml::Value::as_array) {
            add_requirements(file, &mut deps, list.iter());
        }
    }
    if let Some(poetry) = table_at(doc, &["tool", "poetry"]) {
        let mut tables: Vec<&toml::Table> = ["dependencies", "dev-dependencies"]
            .iter()
            .filter_map(|s| poetry.get(*s).and_then(toml::Value::as_table))
            .collect();
        if let Some(groups) = poetry.get("group").and_then(toml::Value::as_table) {
            tables.extend(
                groups
                    .values()
                    .filter_map(|g| g.get("dependencies").and_then(toml::Value::as_table)),
            );
        }
        for table in tables {
            for name in table.keys().filter(|n| n.as_str() != "python") {
                let line = file.line_of_key(name);
                deps.entry(name.to_ascii_lowercase()).or_insert(line);
            }
        }
    }
    deps
}

pub(crate) fn pyproject(file: &SourceFile, findings: &mut Findings) {
    let Some(doc) = file.parse_toml(findings) else {
        return;
    };
    let mut details = Vec::new();
    let requires_python = table_at(&doc, &["project"])
        .and_then(|p| p.get("requires-python"))
        .or_else(|| {
            table_at(&doc, &["tool", "poetry", "dependencies"]).and_then(|d| d.get("python"))
        })
        .and_then(toml::Value::as_str);
    if let Some(version) = requires_python {
        details.push(format!("Python {version}"));
    }
    let backend = table_at(&doc, &["build-system"])
        .and_then(|b| b.get("build-backend"))
        .and_then(toml::Value::as_str);
    let packaging = if table_at(&doc, &["tool", "poetry"]).is_some() {
        Some("Poetry")
    } else {
        backend.and_then(|b| {
            [
                ("hatchling", "Hatch"),
                ("setuptools", "setuptools"),
                ("pdm", "PDM"),
                ("flit", "Flit"),
                ("maturin", "maturin"),
                ("uv_build", "uv"),
            ]
            .iter()
            .find(|(module, _)| b.starts_with(module))
            .map(|(_, name)| *name)
        })
    };
    if let Some(packaging) = packaging {
        details.push(format!("packaged with {packaging}"));
    }
    let text = if details.is_empty() {
        "The project is written in Python.".to_string()
    } else {
        format!("The project is written in Python ({}).", details.join(", "))
    };
    let line = if doc.contains_key("project") {
        file.line_of("[project]")
    } else {
        file.line_of("[tool.poetry]")
    };
    findings.memory(
        file,
        line,
        Fact::new("stack.language", PYTHON, "python", text),
    );

    let deps = pyproject_dependencies(file, &doc);
    apply_catalog(file, findings, "python", &deps, PYTHON);

    if let Some(tool) = table_at(&doc, &["tool"]) {
        tool_sections(file, tool, findings);
    }
}

/// The `[tool.*]` sections shared by `pyproject.toml` and, without the prefix, the tools'
/// own files.
fn tool_sections(file: &SourceFile, tool: &toml::Table, findings: &mut Findings) {
    if let Some(ruff) = tool.get("ruff").and_then(toml::Value::as_table) {
        ruff_settings(file, ruff, "[tool.ruff", findings);
    }
    if let Some(black) = tool.get("black").and_then(toml::Value::as_table) {
        let line = file.line_of("[tool.black]");
        let length = black.get("line-length").and_then(toml::Value::as_integer);
        let text = match length {
            Some(n) => format!("Format Python with black: line-length = {n}."),
            None => "Format Python with black.".to_string(),
        };
        findings.memory(file, line, Fact::new("format.tool", PYTHON, "black", text));
        if let Some(n) = length {
            line_length(
                file,
                file.line_of_from("line-length", line),
                n,
                "black",
                findings,
            );
        }
    }
    if let Some(isort) = tool.get("isort").and_then(toml::Value::as_table) {
        let profile = isort.get("profile").and_then(toml::Value::as_str);
        let (value, text) = match profile {
            Some(p) => (
                format!("isort:{p}"),
                format!("Sort Python imports with isort (profile {p})."),
            ),
            None => (
                "isort".to_string(),
                "Sort Python imports with isort.".to_string(),
            ),
        };
        findings.memory(
            file,
            file.line_of("[tool.isort]"),
            Fact::new("format.imports", PYTHON, value, text),
        );
    }
    if let Some(mypy) = tool.get("mypy").and_then(toml::Value::as_table) {
        let strict = mypy.get("strict").and_then(toml::Value::as_bool) == Some(true);
        let line = file.line_of("[tool.mypy]");
        mypy_settings(file, line, strict, findings);
    }
    if let Some(pytest) = table_at(tool, &["pytest", "ini_options"]) {
        let line = file.line_of("[tool.pytest.ini_options]");
        let addopts = pytest.get("addopts").and_then(|v| {
            v.as_str().map(str::to_string).or_else(|| {
                v.as_array().map(|a| {
                    a.iter()
                        .filter_map(toml::Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
            })
        });
        let paths = pytest
            .get("testpaths")
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            });
        let mut text = "Tests use pytest".to_string();
        if let Some(paths) = paths.filter(|p| !p.is_empty()) {
            text.push_str(&format!(", under {paths}"));
        }
        if let Some(addopts) = addopts.filter(|a| !a.is_empty()) {
            text.push_str(&format!(" (addopts: {addopts})"));
        }
        text.push('.');
        findings.memory(
            file,
            line,
            Fact::new("test.framework", PYTHON, "pytest", text),
        );
    }
}

fn line_length(file: &SourceFile, line: usize, length: i64, tool: &str, findings: &mut Findings) {
    findings.memory(
        file,
        line,
        Fact::new(
            "format.line_length",
            PYTHON,
            length.to_string(),
            format!("Keep Python lines within {length} characters ({tool} line-length)."),
        ),
    );
}

fn mypy_settings(file: &SourceFile, line: usize, strict: bool, findings: &mut Findings) {
    let text = if strict {
        "Type-check Python with mypy in strict mode."
    } else {
        "Type-check Python with mypy."
    };
    findings.memory(file, line, Fact::new("lint.tool", PYTHON, "mypy", text));
    if strict {
        findings.memory(
            file,
            file.line_of_from("strict", line),
            Fact::new(
                "types.strict",
                PYTHON,
                "mypy:strict",
                format!(
                    "mypy runs in strict mode ({}): annotate every function fully.",
                    file.rel
                ),
            ),
        );
    }
}

/// `[tool.ruff]` in pyproject (`section` is the header prefix used to find lines) or the
/// top level of `ruff.toml`.
fn ruff_settings(file: &SourceFile, ruff: &toml::Table, section: &str, findings: &mut Findings) {
    let line = if section.is_empty() {
        1
    } else {
        file.line_of(section)
    };
    findings.memory(
        file,
        line,
        Fact::new("lint.tool", PYTHON, "ruff", "Lint Python with ruff."),
    );
    if ruff.contains_key("format") {
        findings.memory(
            file,
            file.line_of_from("format]", line),
            Fact::new(
                "format.tool",
                PYTHON,
                "ruff format",
                "Format Python with ruff format.",
            ),
        );
    }
    if let Some(n) = ruff.get("line-length").and_then(toml::Value::as_integer) {
        line_length(
            file,
            file.line_of_from("line-length", line),
            n,
            "ruff",
            findings,
        );
    }
    let lint = ruff
        .get("lint")
        .and_then(toml::Value::as_table)
        .unwrap_or(ruff);
    let list = |name: &str| -> Vec<String> {
        let mut found = strings(Some(lint), name);
        if found.is_empty() {
            found = strings(Some(ruff), name);
        }
        found
    };
    let select = list("select");
    let extend = list("extend-select");
    let ignore = list("ignore");
    let selected: Vec<String> = select.into_iter().chain(extend).collect();
    if !selected.is_empty() {
        let mut text = format!("Ruff checks rule sets {}", selected.join(", "));
        if !ignore.is_empty() {
            text.push_str(&format!(", ignoring {}", ignore.join(", ")));
        }
        text.push_str(&format!(" ({}).", file.rel));
        let mut value = format!("select:{}", selected.join(","));
        if !ignore.is_empty() {
            value.push_str(&format!(";ignore:{}", ignore.join(",")));
        }
        let rules_line = file.line_of_from("select", line);
        findings.memory(
            file,
            rules_line,
            Fact::new("lint.rules", PYTHON, value, text),
        );
    }
    let sorts_imports = selected
        .iter()
        .any(|r| r == "I" || r == "ALL" || r.starts_with("I0"));
    let isort = lint.get("isort").and_then(toml::Value::as_table);
    if sorts_imports || isort.is_some() {
        ruff_isort(file, line, isort, findings);
    }
}

/// The strings of the array `name` in `table`; empty when either is missing.
fn strings(table: Option<&toml::Table>, name: &str) -> Vec<String> {
    table
        .and_then(|t| t.get(name))
        .and_then(toml::Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(toml::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Import order and style from ruff's isort rules (`I`) and its `[lint.isort]` options.
fn ruff_isort(
    file: &SourceFile,
    line: usize,
    isort: Option<&toml::Table>,
    findings: &mut Findings,
) {
    let flag = |name: &str| {
        isort
            .and_then(|t| t.get(name))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false)
    };
    let names = |name: &str| strings(isort, name);
    let mut style = Vec::new();
    let mut value = vec!["ruff-isort".to_string()];
    if flag("force-single-line") {
        style.push("one import per line (`force-single-line`)".to_string());
        value.push("force-single-line".into());
    }
    if flag("combine-as-imports") {
        style.push(
            "`as` imports from one module combined on one line (`combine-as-imports`)".to_string(),
        );
        value.push("combine-as-imports".into());
    }
    if flag("force-sort-within-sections") {
        style.push(
            "`import x` and `from x import y` sorted together (`force-sort-within-sections`)"
                .to_string(),
        );
        value.push("force-sort-within-sections".into());
    }
    let first_party = names("known-first-party");
    if !first_party.is_empty() {
        style.push(format!("first-party packages: {}", first_party.join(", ")));
        value.push(format!("first-party:{}", first_party.join(",")));
    }
    let mut text = "Python imports are sorted by ruff's isort rules (`ruff check --select I --fix` fixes them): standard library, third-party, then first-party sections".to_string();
    if !style.is_empty() {
        text.push_str(&format!("; {}", style.join("; ")));
    }
    text.push('.');
    let at = if isort.is_some() {
        file.line_of_from("isort]", line)
    } else {
        file.line_of_from("select", line)
    };
    findings.memory(
        file,
        at,
        Fact::new("imports.order", PYTHON, value.join(";"), text),
    );
}

pub(crate) fn ruff_toml(file: &SourceFile, findings: &mut Findings) {
    if let Some(ruff) = file.parse_toml(findings) {
        ruff_settings(file, &ruff, "", findings);
    }
}

pub(crate) fn setup_cfg(file: &SourceFile, findings: &mut Findings) {
    for section in ini_sections(&file.text, true) {
        let header_line = section.line;
        match section.name.as_str() {
            "metadata" => findings.memory(
                file,
                header_line,
                Fact::new(
                    "stack.language",
                    PYTHON,
                    "python",
                    "The project is written in Python.",
                ),
            ),
            "options" => {
                if let Some(requires) = section.get("install_requires") {
                    let mut deps = BTreeMap::new();
                    for requirement in requires.value.lines() {
                        if let Some(name) = requirement_name(requirement) {
                            deps.entry(name)
                                .or_insert(file.line_of_from(requirement.trim(), requires.line));
                        }
                    }
                    apply_catalog(file, findings, "python", &deps, PYTHON);
                }
            }
            "flake8" => {
                findings.memory(
                    file,
                    header_line,
                    Fact::new("lint.tool", PYTHON, "flake8", "Lint Python with flake8."),
                );
                if let Some(max) = section.get("max-line-length") {
                    if let Ok(n) = max.value.parse::<i64>() {
                        line_length(file, max.line, n, "flake8", findings);
                    }
                }
            }
            "mypy" => {
                let strict = section
                    .get("strict")
                    .is_some_and(|e| e.value.eq_ignore_ascii_case("true"));
                mypy_settings(file, header_line, strict, findings);
            }
            "tool:pytest" => findings.memory(
                file,
                header_line,
                Fact::new("test.framework", PYTHON, "pytest", "Tests use pytest."),
            ),
            "isort" => findings.memory(
                file,
                header_line,
                Fact::new(
                    "format.imports",
                    PYTHON,
                    "isort",
                    "Sort Python imports with isort.",
                ),
            ),
            _ => {}
        }
    }
}

pub(crate) fn mypy_ini(file: &SourceFile, findings: &mut Findings) {
    for section in ini_sections(&file.text, true) {
        if section.name == "mypy" {
            let strict = section
                .get("strict")
                .is_some_and(|e| e.value.eq_ignore_ascii_case("true"));
            mypy_settings(file, section.line, strict, findings);
        }
    }
}

pub(crate) fn pytest_ini(file: &SourceFile, findings: &mut Findings) {
    findings.memory(
        file,
        1,
        Fact::new("test.framework", PYTHON, "pytest", "Tests use pytest."),
    );
}

pub(crate) fn requirements(file: &SourceFile, findings: &mut Findings) {
    let mut deps = BTreeMap::new();
    for (index, line) in file.text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
            continue;
        }
        if let Some(name) = requirement_name(line) {
            deps.entry(name).or_insert(index + 1);
        }
    }
    if deps.is_empty() {
        return;
    }
    findings.memory(
        file,
        1,
        Fact::new(
            "stack.language",
            PYTHON,
            "python",
            "The project is written in Python.",
        ),
    );
    apply_catalog(file, findings, "python", &deps, PYTHON);
}

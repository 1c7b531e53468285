//! How a convention is worded: the sentence that states a value, the split of a mixed habit,
//! the names of languages and of what each key is about.

use super::Found;
use crate::code::naming;

pub(super) fn percent(part: u64, total: u64) -> u64 {
    (part * 100 + total / 2).checked_div(total).unwrap_or(0)
}

pub(super) fn split_shares(values: &[(&str, u64)], total: u64) -> String {
    let mut values = values.to_vec();
    values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    split(&values, total)
}

pub(super) fn split(values: &[(&str, u64)], total: u64) -> String {
    values
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{} {}%", shown(v), percent(*n, total)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn shown(value: &str) -> String {
    match value {
        "?" => "`?`".into(),
        "unwrap" => "unwrap/expect".into(),
        "panic" => "panic!".into(),
        other => other.to_string(),
    }
}

pub(super) fn mixed(
    language: &str,
    key: &str,
    parts: &[(&str, u64)],
    total: u64,
    examples: Vec<String>,
) -> Found {
    let mut parts = parts.to_vec();
    parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Found {
        value: "mixed".into(),
        sentence: format!(
            "{} {} are mixed: {} (of {total}).",
            display(language),
            subject(key),
            split(&parts, total)
        ),
        matching: parts.first().map(|p| p.1).unwrap_or(0),
        total,
        examples,
    }
}

pub fn display(language: &str) -> &str {
    match language {
        "rust" => "Rust",
        "python" => "Python",
        "typescript" => "TypeScript",
        "javascript" => "JavaScript",
        "go" => "Go",
        "java" => "Java",
        other => other,
    }
}

/// What a mixed memory is about, as the subject of "… are mixed".
pub(super) fn subject(key: &str) -> &'static str {
    match key {
        "naming.function" => "function names",
        "naming.type" => "type names",
        "naming.constant" => "constant names",
        "naming.variable" => "variable and field names",
        "naming.file" => "file names",
        "naming.test" => "test names",
        "format.indent" => "indentation styles",
        "format.quotes" => "string quotes",
        "format.semicolons" => "statement endings (semicolons)",
        "format.trailing_commas" => "trailing commas in multi-line lists",
        "format.final_newline" => "final newlines",
        "format.line_endings" => "line endings",
        "errors.propagation" => "error handling sites outside tests",
        "errors.except" => "except clauses",
        "errors.chaining" => "raises inside except blocks",
        "errors.wrapping" => "fmt.Errorf calls with an error",
        "errors.async" => "error handling styles",
        "errors.matching" => "ways of matching errors",
        "errors.middleware" => "middleware error idioms",
        "test.framework" => "test frameworks",
        "test.placement" => "test locations",
        "test.regressions" => "regression test locations",
        "docs.coverage" => "doc comments on public items",
        "docs.style" => "docstring styles",
        "imports.nesting" => "use declarations",
        "imports.paths" => "import paths",
        "imports.wildcard" => "imports",
        "types.annotations" => "type annotations on functions",
        "types.any" => "type annotations",
        "types.visibility" => "visibility modifiers",
        "async.runtime" => "async runtimes",
        "logging.library" => "logging calls",
        "declarations" => "declarations",
        "naming.catch_parameter" => "catch-clause parameter names",
        "naming.receiver" => "method receiver names",
        "naming.test_file" => "test file names",
        "test.assertions" => "test assertion styles",
        "errors.raises" => "raised exceptions",
        "headers.license" => "license headers",
        "imports.grouping" => "import groupings",
        "async.callbacks" => "asynchronous styles",
        _ => "habits",
    }
}

/// The sentence for a dominant value: short, human, with the evidence in brackets.
pub(super) fn stated(language: &str, key: &str, value: &str, matching: u64, total: u64) -> String {
    let l = display(language);
    let of = format!("({matching} of {total})");
    match (key, value) {
        ("naming.function", naming::MIXED_CAPS) => format!(
            "{l} functions use MixedCaps: camelCase, PascalCase when exported {of}."
        ),
        ("naming.type", naming::MIXED_CAPS) => {
            format!("{l} types use MixedCaps: camelCase, PascalCase when exported {of}.")
        }
        ("naming.function", v) => format!("{l} functions are named in {v} {of}."),
        ("naming.type", v) => format!("{l} types are named in {v} {of}."),
        ("naming.constant", v) => format!("{l} constants are named in {v} {of}."),
        ("naming.variable", v) => format!("{l} variables and fields are named in {v} {of}."),
        ("naming.file", v) => format!("{l} file names use {v} {of}."),
        ("naming.test", "test_prefix") => {
            format!("{l} test functions are named with a `test` prefix {of}.")
        }
        ("naming.test", "should") => format!("{l} tests are named `should …` {of}."),
        ("naming.test", _) => format!(
            "{l} tests are named after the behaviour they check, without a `test` prefix {of}."
        ),
        ("format.indent", "tabs") => format!("{l} code is indented with tabs ({matching} of {total} files)."),
        ("format.indent", v) => format!(
            "{l} code is indented with {} spaces ({matching} of {total} files).",
            v.trim_start_matches("spaces:")
        ),
        ("format.quotes", v) => format!("{l} strings use {v} quotes {of}."),
        ("format.semicolons", "semicolons") => format!("{l} statements end with semicolons {of}."),
        ("format.semicolons", _) => format!("{l} statements omit semicolons {of}."),
        ("format.trailing_commas", "trailing") => {
            format!("Multi-line {l} lists end with a trailing comma {of}.")
        }
        ("format.trailing_commas", _) => {
            format!("Multi-line {l} lists have no trailing comma {of}.")
        }
        ("format.final_newline", "yes") => {
            format!("{l} files end with a newline ({matching} of {total} files).")
        }
        ("format.final_newline", _) => {
            format!("{l} files do not end with a newline ({matching} of {total} files).")
        }
        ("format.line_endings", v) => format!(
            "{l} files use {} line endings ({matching} of {total} files).",
            v.to_uppercase()
        ),
        ("errors.propagation", "?") => format!(
            "{l} code propagates errors with `?`; unwrap/expect and panic! are rare outside tests ({matching} of {total} error sites use `?`)."
        ),
        ("errors.propagation", "unwrap") => format!(
            "{l} code handles errors with unwrap/expect even outside tests ({matching} of {total} error sites)."
        ),
        ("errors.propagation", _) => {
            format!("{l} code panics on errors outside tests ({matching} of {total} error sites).")
        }
        ("errors.except", "typed") => format!(
            "{l} except clauses name the exceptions they catch; bare `except:` is avoided {of}."
        ),
        ("errors.except", _) => format!("{l} code catches everything with bare `except:` {of}."),
        ("errors.chaining", "raise-from") => format!(
            "{l} code chains exceptions raised inside except blocks with `raise … from err` {of}."
        ),
        ("errors.chaining", _) => format!(
            "{l} code raises new exceptions inside except blocks without `from` {of}."
        ),
        ("errors.custom", _) => match language {
            "python" | "java" => format!("{l} code defines its own exception classes ({total})."),
            _ => format!("{l} code defines its own Error subclasses ({total})."),
        },
        ("errors.wrapping", "%w") => format!(
            "{l} code wraps errors with fmt.Errorf and %w {of}."
        ),
        ("errors.wrapping", _) => format!(
            "{l} code formats errors into fmt.Errorf with %v rather than wrapping them with %w {of}."
        ),
        ("errors.middleware", "ctx.throw") => format!(
            "{l} middleware reports HTTP errors with `ctx.throw(status, message)` and lets them propagate to the error handler {of}."
        ),
        ("errors.middleware", "next(err)") => format!(
            "{l} middleware passes errors on with `next(err)` (error-first, Express style) {of}."
        ),
        ("errors.middleware", _) => format!(
            "{l} middleware handles errors from downstream with `try {{ await next() }} catch (err)` {of}."
        ),
        ("errors.matching", "errors.Is/As") => format!(
            "{l} code matches errors with errors.Is / errors.As, which see through wrapping, rather than == or type assertions {of}."
        ),
        ("errors.matching", _) => format!(
            "{l} code matches errors directly (`err == ErrX`, `err.(*T)`) rather than with errors.Is / errors.As {of}."
        ),
        ("errors.sentinel", _) => format!(
            "{l} packages declare sentinel errors (`var ErrX = errors.New(…)`) ({total})."
        ),
        ("errors.async", "try/catch") => format!(
            "{l} code handles errors with try/catch rather than promise .catch() {of}."
        ),
        ("errors.async", _) => format!(
            "{l} code handles errors with promise .catch() rather than try/catch {of}."
        ),
        ("test.framework", v) => format!("{l} tests use {v} ({matching} of {total} test files)."),
        ("test.placement", "inline") => format!(
            "{l} tests live in inline #[cfg(test)] modules next to the code ({matching} of {total} files with tests)."
        ),
        ("test.placement", "tests/") => format!(
            "{l} tests live in a separate tests directory ({matching} of {total} test files)."
        ),
        ("test.placement", "__tests__") => format!(
            "{l} tests live in __tests__ directories ({matching} of {total} test files)."
        ),
        ("test.placement", _) => format!(
            "{l} test files sit next to the code they test ({matching} of {total} test files)."
        ),
        ("test.regressions", "dedicated") => format!(
            "{l} regression tests have a place of their own, a regression file or directory (see the examples) ({matching} of {total} test files that cite an issue)."
        ),
        ("test.regressions", _) => format!(
            "{l} regression tests go into the test file of the code they fix, citing the issue (`#123`) in a comment or the test name ({matching} of {total} test files that cite an issue)."
        ),
        ("docs.coverage", "documented") => match language {
            "python" => format!("Public {l} functions and classes have docstrings {of}."),
            _ => format!("Public {l} items have doc comments {of}."),
        },
        ("docs.coverage", _) => format!(
            "Public {l} items are mostly undocumented ({matching} of {total} have no doc comment)."
        ),
        ("docs.style", "google") => format!("{l} docstrings use the Google style (Args:, Returns:) {of}."),
        ("docs.style", "numpy") => format!("{l} docstrings use the NumPy style (Parameters / ----) {of}."),
        ("docs.style", _) => format!("{l} docstrings use the reST style (:param x:) {of}."),
        ("imports.nesting", "nested") => format!(
            "{l} use declarations group items with braces, `use a::{{b, c}}` {of}."
        ),
        ("imports.nesting", _) => format!("{l} use declarations import one path each {of}."),
        ("imports.paths", "relative") => format!(
            "{l} code imports project files with relative paths (./x) {of}."
        ),
        ("imports.paths", _) => format!("{l} code imports project files through path aliases (@/x) {of}."),
        ("imports.wildcard", "explicit") => format!(
            "{l} imports name each class; wildcard imports are avoided {of}."
        ),
        ("imports.wildcard", _) => format!("{l} code uses wildcard imports {of}."),
        ("types.annotations", "annotated") => format!(
            "{l} functions are fully type-annotated {of}."
        ),
        ("types.annotations", _) => format!(
            "{l} functions are mostly not type-annotated ({matching} of {total} lack annotations)."
        ),
        ("types.any", "specific") => format!(
            "{l} code avoids `any`: {} of {total} type annotations use it.",
            total - matching
        ),
        ("types.any", _) => format!("{l} code uses `any` freely {of}."),
        ("types.visibility", "pub") => format!(
            "{l} items are made public with plain `pub` rather than `pub(crate)` {of}."
        ),
        ("types.visibility", _) => format!(
            "{l} code limits visibility with `pub(crate)` rather than plain `pub` {of}."
        ),
        ("async.runtime", v) => format!("{l} async code runs on {v} ({matching} of {total} files)."),
        ("logging.library", v) => format!("{l} code logs with {v} {of}."),
        ("declarations", ":=") => format!(
            "{l} code declares local variables with `:=` rather than `var` {of}; `var` is kept for zero values and package-level variables."
        ),
        ("declarations", "var") if language == "go" => {
            format!("{l} code declares local variables with `var` rather than `:=` {of}.")
        }
        ("declarations", v) => format!("{l} declarations use `{v}` {of}."),
        ("naming.catch_parameter", v) => {
            format!("{l} catch clauses name the exception `{v}` {of}.")
        }
        ("naming.receiver", "one-letter") => format!(
            "{l} method receivers are named with one letter, usually the type's initial (`func (r *Router)`) {of}."
        ),
        ("naming.receiver", "short") => format!(
            "{l} method receivers are named with short abbreviations of the type (2–4 letters) {of}."
        ),
        ("naming.receiver", _) => format!("{l} method receivers are named with whole words {of}."),
        ("naming.test_file", v) => {
            format!("{l} test files are named `{v}` ({matching} of {total} test files).")
        }
        ("test.assertions", v) => {
            format!("{l} tests assert with {v} ({matching} of {total} test files).")
        }
        ("imports.grouping", "separated") => format!(
            "{l} files group their imports: the standard library first, then a blank line and the other modules ({matching} of {total} files that import both)."
        ),
        ("imports.grouping", _) => format!(
            "{l} files list standard-library and other imports in one group, without a blank line between them ({matching} of {total} files that import both)."
        ),
        ("async.callbacks", "promises") => format!(
            "{l} asynchronous code uses promises (async/await, .then) rather than Node-style error-first callbacks `function (err, result)` {of}."
        ),
        ("async.callbacks", _) => format!(
            "{l} asynchronous code passes Node-style error-first callbacks, `function (err, result)`, with the error first {of}."
        ),
        ("errors.raises", "custom") => format!(
            "{l} library code raises its own exception classes rather than built-ins {of}."
        ),
        ("errors.raises", _) => format!(
            "{l} library code raises built-in exceptions (ValueError, TypeError, …) rather than its own classes {of}."
        ),
        ("headers.license", v) if v.contains("License") => format!(
            "{l} files start with the license header `{v}` ({matching} of {total} files)."
        ),
        ("headers.license", v) => format!(
            "{l} files start with the license header `Copyright <year> {v}.` ({matching} of {total} files)."
        ),
        (k, v) => format!("{l} {k}: {v} {of}."),
    }
}

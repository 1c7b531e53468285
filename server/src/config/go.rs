//! Go: `go.mod` (module, Go version, required modules) and golangci-lint's config.

use std::collections::BTreeMap;

use super::{apply_catalog, known, yaml_scalar, Fact, Findings, Known, SourceFile};

const GO: Option<&str> = Some("go");

const CATALOG: &[Known] = &[
    known(
        "github.com/gin-gonic/gin",
        "stack.framework",
        "gin",
        "HTTP services are built with Gin.",
    ),
    known(
        "github.com/labstack/echo/v4",
        "stack.framework",
        "echo",
        "HTTP services are built with Echo.",
    ),
    known(
        "github.com/labstack/echo",
        "stack.framework",
        "echo",
        "HTTP services are built with Echo.",
    ),
    known(
        "github.com/gofiber/fiber/v2",
        "stack.framework",
        "fiber",
        "HTTP services are built with Fiber.",
    ),
    known(
        "github.com/go-chi/chi/v5",
        "stack.framework",
        "chi",
        "HTTP routing uses chi.",
    ),
    known(
        "github.com/gorilla/mux",
        "stack.framework",
        "gorilla/mux",
        "HTTP routing uses gorilla/mux.",
    ),
    known(
        "github.com/spf13/cobra",
        "stack.framework",
        "cobra",
        "The command line is built with Cobra.",
    ),
    known(
        "github.com/urfave/cli/v2",
        "stack.framework",
        "urfave/cli",
        "The command line is built with urfave/cli.",
    ),
    known(
        "google.golang.org/grpc",
        "stack.framework",
        "grpc",
        "Services talk gRPC (grpc-go).",
    ),
    known(
        "go.uber.org/zap",
        "stack.logging",
        "zap",
        "Logging uses zap.",
    ),
    known(
        "github.com/rs/zerolog",
        "stack.logging",
        "zerolog",
        "Logging uses zerolog.",
    ),
    known(
        "github.com/sirupsen/logrus",
        "stack.logging",
        "logrus",
        "Logging uses logrus.",
    ),
    known(
        "gorm.io/gorm",
        "stack.database",
        "gorm",
        "The database is accessed with GORM.",
    ),
    known(
        "github.com/jmoiron/sqlx",
        "stack.database",
        "sqlx",
        "The database is accessed with sqlx.",
    ),
    known(
        "github.com/jackc/pgx/v5",
        "stack.database",
        "pgx",
        "PostgreSQL is accessed with pgx.",
    ),
    known(
        "entgo.io/ent",
        "stack.database",
        "ent",
        "The database is accessed with ent.",
    ),
    known(
        "go.mongodb.org/mongo-driver",
        "stack.database",
        "mongo-driver",
        "MongoDB is accessed with the official driver.",
    ),
];

/// The modules a `go.mod` requires, inside `require ( … )` blocks or on single lines.
fn required_modules(text: &str) -> BTreeMap<String, usize> {
    let mut modules = BTreeMap::new();
    let mut in_block = false;
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let spec = if in_block {
            if line == ")" {
                in_block = false;
                continue;
            }
            line
        } else if let Some(rest) = line.strip_prefix("require") {
            let rest = rest.trim();
            if rest == "(" {
                in_block = true;
                continue;
            }
            rest
        } else {
            continue;
        };
        if let Some(path) = spec.split_whitespace().next() {
            modules.entry(path.to_string()).or_insert(index + 1);
        }
    }
    modules
}

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
    let modules = required_modules(&file.text);
    apply_catalog(file, findings, CATALOG, &modules, GO);
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
}

#!/usr/bin/env python3
"""Counts the conventions of every corpus repository and writes them as benchmark labels.

    python3 server/benches/accuracy/measure.py [CORPUS]   # → conventions.toml next to this file

CORPUS defaults to $TACIT_CORPUS or ~/.cache/tacit/accuracy-corpus (made by `fetch`). The counts
are taken independently of tacit: Python's own `ast` and `tokenize` for Python, regular
expressions and a small lexer for the other languages, `git log` for commits. A value is the
convention when it holds in at least 80% of at least a minimum number of cases (tacit's rule);
otherwise the label says the habit is *mixed*. Each label carries the phrase that states its
value (which the answer must contain) and the phrases that state the other values (which would
make the answer confidently wrong).
"""
import ast
import io
import os
import re
import subprocess
import sys
import tokenize
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOMINANCE = 0.8
EXCLUDED_DIRS = {"node_modules", "vendor", "third_party", "fixtures", "testdata", "dist", "build", "target", ".git"}
EXTENSIONS = {
    ".rs": "rust", ".py": "python", ".go": "go", ".java": "java",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
}
DISPLAY = {"rust": "Rust", "python": "Python", "go": "Go", "java": "Java", "typescript": "TypeScript", "javascript": "JavaScript"}

# The phrase that states each value of a key, as tacit words it (compared case-insensitively).
# `{v}` is the value itself. "mixed" is the phrase of a split habit.
PHRASES = {
    "format.indent": {"tabs": "{L} code is indented with tabs", "spaces:2": "{L} code is indented with 2 spaces",
                      "spaces:4": "{L} code is indented with 4 spaces", "spaces:3": "{L} code is indented with 3 spaces",
                      "spaces:8": "{L} code is indented with 8 spaces", "mixed": "{L} indentation styles are mixed"},
    "format.quotes": {"double": "{L} strings use double quotes", "single": "{L} strings use single quotes",
                      "mixed": "{L} string quotes are mixed"},
    "format.semicolons": {"semicolons": "{L} statements end with semicolons", "none": "{L} statements omit semicolons",
                          "mixed": "{L} statement endings (semicolons) are mixed"},
    "declarations": {"const": "{L} declarations use `const`", "let": "{L} declarations use `let`",
                     "var": "{L} declarations use `var`", "const+let": "{L} declares with `const` and `let`, never `var`",
                     ":=": "with `:=` rather than `var`", "var-go": "with `var` rather than `:=`",
                     "mixed": "{L} declarations are mixed", "mixed-go": "{L} local declarations are mixed"},
    "errors.propagation": {"?": "propagates errors with `?`", "unwrap": "unwrap/expect even outside tests",
                           "panic": "panics on errors outside tests",
                           "mixed": "error handling sites outside tests are mixed"},
    "errors.chaining": {"raise-from": "with `raise … from err`", "plain": "without `from`",
                        "mixed": "raises inside except blocks are mixed"},
    "errors.raises": {"custom": "raises its own exception classes", "built-in": "raises built-in exceptions",
                      "mixed": "raised exceptions are mixed"},
    "errors.wrapping": {"%w": "wraps errors with fmt.errorf and %w", "%v": "with %v rather than wrapping",
                        "mixed": "fmt.errorf calls with an error are mixed"},
    "errors.except": {"typed": "bare `except:` is avoided", "bare": "catches everything with bare",
                      "mixed": "except clauses are mixed"},
    "types.annotations": {"annotated": "fully type-annotated", "unannotated": "mostly not type-annotated",
                          "mixed": "type annotations on functions are mixed"},
    "imports.wildcard": {"explicit": "wildcard imports are avoided", "wildcard": "uses wildcard imports",
                         "mixed": "{L} imports are mixed"},
    "naming.test": {"test_prefix": "named with a `test` prefix", "descriptive": "without a `test` prefix",
                    "should": "named `should …`", "mixed": "{L} test names are mixed"},
    "naming.receiver": {"one-letter": "receivers are named with one letter", "short": "receivers are named with short abbreviations",
                        "word": "receivers are named with whole words", "mixed": "receiver names are mixed"},
    "naming.catch_parameter": {"*": "{L} catch clauses name the exception `{v}`", "mixed": "{L} catch-clause parameter names are mixed"},
    "naming.test_file": {"*": "{L} test files are named `{v}`", "mixed": "{L} test file names are mixed"},
    "test.assertions": {"*": "{L} tests assert with {v}", "mixed": "{L} test assertion styles are mixed"},
    "test.framework": {"*": "{L} tests use {v} (", "mixed": "{L} test frameworks are mixed"},
    "test.placement": {"inline": "inline #[cfg(test)] modules", "tests/": "{L} tests live in a separate tests directory",
                       "__tests__": "{L} tests live in __tests__ directories", "colocated": "{L} test files sit next to the code",
                       "mixed": "{L} test locations are mixed"},
    "errors.library:binaries": {"anyhow": "binaries handle errors with anyhow",
                                "own error types": "binaries define their own error types",
                                "thiserror": "binaries define their own error types with thiserror",
                                "mixed": "error handling in binaries is mixed"},
    "errors.library:libraries": {"anyhow": "libraries handle errors with anyhow",
                                 "own error types": "libraries define their own error types",
                                 "thiserror": "libraries define their own error types with thiserror",
                                 "mixed": "error handling in libraries is mixed"},
    "headers.license": {"*": "files start with the license header", "mixed": "license headers are mixed"},
    "test.regressions": {"alongside": "regression tests go into the test file of the code they fix",
                         "dedicated": "regression tests have a place of their own",
                         "mixed": "{L} regression test locations are mixed"},
    "errors.middleware": {"ctx.throw": "middleware reports http errors with `ctx.throw(status, message)`",
                          "next(err)": "middleware passes errors on with `next(err)`",
                          "try-next": "middleware handles errors from downstream with `try { await next() }",
                          "mixed": "{L} middleware error idioms are mixed"},
    "errors.matching": {"errors.Is/As": "matches errors with errors.is / errors.as",
                        "direct": "matches errors directly",
                        "mixed": "{L} ways of matching errors are mixed"},
    "imports.grouping": {"separated": "{L} files group their imports: the standard library first",
                         "together": "{L} files list standard-library and other imports in one group",
                         "mixed": "{L} import groupings are mixed"},
    "async.callbacks": {"promises": "{L} asynchronous code uses promises (async/await, .then)",
                        "error-first callbacks": "{L} asynchronous code passes node-style error-first callbacks",
                        "mixed": "{L} asynchronous styles are mixed"},
    "commit.case": {"capitalised": "start with a capital letter", "lowercase": "start with a lowercase letter",
                    "mixed": "subject case is mixed"},
    "commit.style": {"conventional": "follow conventional commits", "component": "start with the component",
                     "free": "plain sentences without a type prefix", "mixed": "commit subject style is mixed"},
}

QUESTIONS = {
    "format.indent": "How is {L} code indented, tabs or spaces?",
    "format.quotes": "Should {L} strings use single or double quotes?",
    "format.semicolons": "Do we put semicolons at the end of {L} statements?",
    "declarations": {"go": "Should I declare local variables with := or var?",
                     "*": "Should I use var, let or const in {L}?"},
    "errors.propagation": "How should I handle errors in Rust code, ? or unwrap?",
    "errors.chaining": "When I raise a new exception inside an except block, do I chain it with from?",
    "errors.raises": "Which exceptions should library code raise, built-ins or our own classes?",
    "errors.wrapping": "How should I wrap errors returned from calls, %w or %v?",
    "errors.except": "Is a bare except: acceptable here?",
    "types.annotations": "Do Python functions here need type annotations?",
    "imports.wildcard": "Are wildcard imports OK in Java code?",
    "naming.test": "How should I name a new {L} test method?",
    "naming.receiver": "How should I name method receivers in Go?",
    "naming.catch_parameter": "What do we call the variable in a catch clause?",
    "naming.test_file": "How should I name a new {L} test file?",
    "test.assertions": "Which assertion style or library do {L} tests use?",
    "test.framework": "Which test framework do the {L} tests use?",
    "test.placement": "Where do the {L} tests go?",
    "errors.library:binaries": "Should I use anyhow or define an error type in the command-line tool?",
    "errors.library:libraries": "How do library crates here report errors?",
    "headers.license": "Does every {L} file need a license header, and what does it say?",
    "test.regressions": "Where should a regression test for a {L} bug go?",
    "errors.middleware": "How do I handle errors in middleware?",
    "errors.matching": "How do I check which error I got, errors.Is or ==?",
    "imports.grouping": "How should I group the imports of a Go file?",
    "async.callbacks": "Do we write error-first callbacks or async/await in {L}?",
    "commit.case": "Should a commit subject start with a capital letter?",
    "commit.style": "How should I format a commit message subject?",
}

# Cases needed before anything is said; whole files count as one case each.
MIN_CASES = {"errors.library:binaries": 1, "errors.library:libraries": 1, "headers.license": 3, "format.indent": 3, "test.framework": 1, "test.placement": 2, "naming.test_file": 3,
             "test.assertions": 3, "test.regressions": 3, "imports.grouping": 3, "errors.raises": 5, "commit.case": 5, "commit.style": 5}


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def source_files(repo):
    out = []
    for rel in git(repo, "ls-files").splitlines():
        parts = rel.split("/")
        if any(p in EXCLUDED_DIRS for p in parts[:-1]):
            continue
        name = parts[-1]
        if name.endswith((".min.js", ".d.ts")):
            continue
        ext = os.path.splitext(name)[1]
        if ext in EXTENSIONS:
            try:
                text = (repo / rel).read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            head = "\n".join(text.splitlines()[:5]).lower()
            if "@generated" in head or "do not edit" in head:
                continue
            out.append((rel, EXTENSIONS[ext], text))
    return out


def is_test(lang, rel):
    name = rel.rsplit("/", 1)[-1]
    dirs = rel.split("/")[:-1]
    if lang == "rust":
        return "tests" in dirs or "benches" in dirs
    if lang == "python":
        return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or "tests" in dirs or "test" in dirs
    if lang in ("typescript", "javascript"):
        return ".test." in name or ".spec." in name or any(d in ("__tests__", "test", "tests") for d in dirs)
    if lang == "go":
        return name.endswith("_test.go")
    if lang == "java":
        return name.endswith(("Test.java", "Tests.java")) or "src/test/" in rel
    return False


class Label:
    """The measured value of one key in one language, with its evidence."""

    def __init__(self, lang, key, counts, min_cases=5, note=""):
        self.lang, self.key, self.counts, self.note = lang, key, Counter(counts), note
        self.total = sum(self.counts.values())
        self.min_cases = MIN_CASES.get(key, min_cases)
        # [(directory, value)] when the habit is mixed overall but dominant, with different
        # values, in two or more top-level directories (tacit then states it per directory).
        self.per_dir = []

    def value(self):
        if self.total < self.min_cases:
            return None
        top, n = self.counts.most_common(1)[0]
        dominance = COMMIT_DOMINANCE if self.key.startswith("commit.") else DOMINANCE
        if n >= dominance * self.total:
            return top
        if self.key == "declarations" and self.lang != "go" and self.counts["var"] <= 0.02 * self.total:
            return "const+let"
        return "mixed"

    def phrase(self, value):
        table = PHRASES[self.key]
        if self.key == "declarations" and self.lang == "go" and value in ("var", "mixed"):
            value += "-go"
        text = table.get(value) or table["*"].replace("{v}", value)
        return text.replace("{L}", DISPLAY[self.lang]).lower()

    def must(self, value):
        if self.per_dir:
            return [f"`{d}/`: " + self.phrase(v) for d, v in self.per_dir]
        if self.key == "headers.license" and value != "mixed":
            return [self.phrase(value).split(" `")[0], value.lower()]
        return [self.phrase(value)]

    def toml(self, repo):
        value = self.value()
        values = set(self.counts) | {"mixed"}
        if self.key == "declarations" and self.lang != "go":
            values |= {"const+let"}
        wrong = sorted({self.phrase(v) for v in values if v != value} - {self.phrase(value)})
        if self.per_dir:
            value = ";".join(f"{d}:{v}" for d, v in self.per_dir)
            wrong = sorted({self.phrase("mixed")} | {
                f"`{d}/`: " + self.phrase(v) for d, own in self.per_dir for v in values
                if v != own and self.phrase(v) != self.phrase(own)})
        # A dominant value's phrase also appears in a mixed split only as a share, never as the
        # phrase; a split habit stated as one value is confidently wrong.
        split = ", ".join(f"{v} {n}" for v, n in self.counts.most_common())
        q = QUESTIONS[self.key]
        if isinstance(q, dict):
            q = q.get(self.lang, q["*"])
        lines = [
            "[[convention]]",
            f'repo = "{repo}"',
            f'language = "{self.lang}"',
            f'key = "{self.key}"',
            f'value = "{value}"',
            f"question = {toml_str(q.replace('{L}', DISPLAY[self.lang]))}",
            f"measured = {toml_str(split + (' — ' + self.note if self.note else ''))}",
            f"must = [{', '.join(toml_str(m) for m in self.must(value))}]",
            f"wrong = [{', '.join(toml_str(w) for w in wrong)}]",
        ]
        return "\n".join(lines)


def toml_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------- text measurements

def indent_of(text):
    """tacit's rule: tabs when more lines start with a tab, else the commonest step in."""
    tabs = spaces = 0
    deltas = Counter()
    previous = 0
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped or stripped.startswith("*"):
            continue
        lead = line[: len(line) - len(stripped)]
        if lead.startswith("\t"):
            tabs += 1
            previous = 0
            continue
        width = len(lead)
        if width:
            spaces += 1
        if width > previous:
            deltas[width - previous] += 1
        previous = width
    if tabs > spaces:
        return "tabs"
    steps = [(n, -d) for d, n in deltas.items() if d in (2, 3, 4, 8)]
    if spaces and steps:
        return f"spaces:{-max(steps)[1]}"
    return None


def strip_c_comments(text):
    """Drops // and /* */ comments and string contents from C-like code (keeps quote marks)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            out.append("\n" * text.count("\n", i, n if j < 0 else j))
            i = n if j < 0 else j + 2
        elif c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and c != "`":
                    break
                j += 1
            out.append(c + "\n" * text.count("\n", i, min(j, n)) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def js_quotes(text):
    """Single vs double quoted strings; a string holding the other quote does not count."""
    counts = Counter()
    code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    code = re.sub(r"(?m)^\s*//.*$", "", code)
    for m in re.finditer(r"'((?:[^'\\\n]|\\.)*)'|\"((?:[^\"\\\n]|\\.)*)\"|`(?:[^`\\]|\\.)*`", code):
        if m.group(0).startswith("`"):
            continue
        if m.group(1) is not None and '"' not in m.group(1):
            counts["single"] += 1
        elif m.group(2) is not None and "'" not in m.group(2):
            counts["double"] += 1
    return counts


# ---------------------------------------------------------------- per language

def license_header(text):
    """The copyright line of a file's opening comment, with its years taken out."""
    head = text.lstrip("\ufeff")[:600]
    if not head.lstrip().startswith(("/*", "//", "#")):
        return "none"
    for line in head.splitlines()[:12]:
        m = re.search(r"Copyright\s*(?:\([cC]\)|©)?\s*(?:[\d,\s-]+)?\s*(.*?)\s*(?:\*/)?$", line)
        if m and m.group(1):
            return m.group(1).rstrip(".") + "."
        if "SPDX-License-Identifier" in line or "Licensed under" in line:
            return line.strip(" /*#")
    return "none"


# A test that cites an issue: "#1301" (not "#[derive]", "&#123;", "[#1613](…)" or "#1"), ".../issues/1852",
# "Issue 272", "test_issue_777", "testIssue1107".
ISSUE_REF = re.compile(r"(?i)(?<![\w&\[])#\d{2,}(?![a-z0-9])|issues/\d|issue[ _-]*#?\d{2}")


def regression_home(rel):
    """A place of its own for regression tests: a regress*/issues/bugs directory or file name."""
    parts = rel.lower().split("/")
    return any("regress" in d or d in ("issues", "bugs") for d in parts[:-1]) or \
        "regress" in parts[-1] or "issue" in parts[-1]


def regression_tests(lang, files):
    """Test files (and Rust files' #[cfg(test)] modules) that cite an issue, by where they live."""
    homes = Counter()
    for rel, _, text in files:
        if is_test(lang, rel):
            body = text
        elif lang == "rust" and "#[cfg(test)]" in text:
            body = text[text.index("#[cfg(test)]"):]
        else:
            continue
        if ISSUE_REF.search(body):
            homes["dedicated" if regression_home(rel) else "alongside"] += 1
    return homes


def measure_language(lang, files):
    labels = []
    headers = Counter(license_header(t) for r, _, t in files)
    if headers and headers["none"] <= 0.5 * sum(headers.values()):
        labels.append(Label(lang, "headers.license", {k: v for k, v in headers.items()}))
    indents = Counter(v for v in (indent_of(t) for _, _, t in files) if v)
    labels.append(Label(lang, "format.indent", indents))
    tests = [(r, t) for r, _, t in files if is_test(lang, r)]
    source = [(r, t) for r, _, t in files if not is_test(lang, r)]
    labels.append(Label(lang, "test.regressions", regression_tests(lang, files)))
    fn = globals().get(f"measure_{lang}")
    if fn:
        labels.extend(fn(files, tests, source))
    return [l for l in labels if l.value() is not None]


def measure_rust(files, tests, source):
    prop = Counter()
    for rel, text in source:
        body = text.split("#[cfg(test)]")[0]
        code = strip_c_comments(body)
        prop["?"] += len(re.findall(r"[\w\)\]>]\?(?=[;\)\.,\s])", code))
        prop["unwrap"] += len(re.findall(r"\.(?:unwrap|expect)\(", code))
        prop["panic"] += len(re.findall(r"\b(?:panic|unreachable|todo|unimplemented)!", code))
    placement = Counter()
    for rel, _, text in files:
        if "#[cfg(test)]" in text and not is_test("rust", rel):
            placement["inline"] += 1
        if is_test("rust", rel) and "#[test]" in text:
            placement["tests/"] += 1
    # Error types by crate kind: a crate is the directory above a `src/`; it is a binary when
    # it has `src/main.rs` or `src/bin/` and no `src/lib.rs`.
    crates = defaultdict(lambda: {"files": [], "bin": False, "lib": False})
    for rel, text in source:
        if "/src/" not in "/" + rel:
            continue
        root = ("/" + rel).rsplit("/src/", 1)[0].lstrip("/")
        crate = crates[root]
        crate["files"].append(text)
        tail = ("/" + rel).rsplit("/src/", 1)[1]
        crate["bin"] |= tail == "main.rs" or tail.startswith("bin/")
        crate["lib"] |= tail == "lib.rs"
    kinds = {"binaries": Counter(), "libraries": Counter()}
    for root, crate in crates.items():
        texts = crate["files"]
        if any("anyhow" in t for t in texts):
            used = "anyhow"
        elif any("thiserror" in t for t in texts):
            used = "thiserror"
        elif any(re.search(r"impl\s+(?:std::)?(?:error::)?Error\s+for", t) for t in texts):
            used = "own error types"
        else:
            continue
        kinds["binaries" if crate["bin"] and not crate["lib"] else "libraries"][used] += 1
    labels = [Label("rust", f"errors.library:{k}", c) for k, c in kinds.items() if c]
    return labels + [Label("rust", "errors.propagation", prop), Label("rust", "test.placement", placement)]


def python_raises(tree, builtins_):
    chaining, raises = Counter(), Counter()
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and inner.exc is not None:
                    chaining["raise-from" if inner.cause is not None else "plain"] += 1
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
            if name and name[:1].isupper():
                raises["built-in" if name in builtins_ else "custom"] += 1
    return chaining, raises


def measure_python(files, tests, source):
    import builtins
    builtin_exceptions = {n for n in dir(builtins) if isinstance(getattr(builtins, n), type)
                          and issubclass(getattr(builtins, n), BaseException)}
    quotes, chaining, raises, annotations, excepts = Counter(), Counter(), Counter(), Counter(), Counter()
    for rel, _, text in files:
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type != tokenize.STRING:
                    continue
                body = tok.string.lstrip("rRbBuUfF")
                if body.startswith(('"""', "'''")):
                    continue
                if body.startswith('"') and "'" not in body[1:-1]:
                    quotes["double"] += 1
                elif body.startswith("'") and '"' not in body[1:-1]:
                    quotes["single"] += 1
        except (tokenize.TokenError, SyntaxError, IndentationError):
            pass
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler):
                excepts["bare" if node.type is None else "typed"] += 1
        c, r = python_raises(tree, builtin_exceptions)
        chaining.update(c)
        if not is_test("python", rel):
            raises.update(r)
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                    args = [a for i, a in enumerate(args) if not (i == 0 and a.arg in ("self", "cls"))]
                    full = all(a.annotation is not None for a in args) and (
                        node.returns is not None or node.name == "__init__")
                    annotations["annotated" if full else "unannotated"] += 1
    framework, assertions, test_names, test_files = Counter(), Counter(), Counter(), Counter()
    for rel, text in tests:
        name = rel.rsplit("/", 1)[-1]
        has_tests = re.search(r"(?m)^\s*(?:async\s+)?def test", text)
        if not has_tests:
            continue
        framework["unittest" if re.search(r"(?m)^\s*(?:import unittest|from unittest\b)", text) else "pytest"] += 1
        plain = len(re.findall(r"(?m)^\s*assert\b", text))
        unit = len(re.findall(r"\bself\.assert\w*\(", text))
        assertions["plain assert" if plain >= unit else "unittest assertions"] += 1
        if name.startswith("test_"):
            test_files["test_*.py"] += 1
        elif name.endswith("_test.py"):
            test_files["*_test.py"] += 1
        else:
            test_files[name] += 1
    return [
        Label("python", "format.quotes", quotes),
        Label("python", "errors.chaining", chaining),
        Label("python", "errors.raises", raises),
        Label("python", "errors.except", excepts),
        Label("python", "types.annotations", annotations),
        Label("python", "test.framework", framework),
        Label("python", "test.assertions", assertions),
        Label("python", "naming.test_file", test_files),
    ]


def measure_go(files, tests, source):
    decl, wrapping, receivers = Counter(), Counter(), Counter()
    per_type = defaultdict(Counter)
    for rel, _, text in files:
        code = strip_c_comments(text)
        decl[":="] += len(re.findall(r"[\w\]]\s*:=", code))
        # `var` inside a function body: indented, one per spec in a `var ( … )` group.
        for m in re.finditer(r"(?m)^[ \t]+var\s+(\(([^)]*)\)|\w)", code):
            if m.group(2) is not None:
                decl["var"] += len([l for l in m.group(2).splitlines() if l.strip()])
            else:
                decl["var"] += 1
        for m in re.finditer(r"(?m)^func \((\w+) \*?(\w+)(?:\[[^\]]*\])?\)", code):
            name, typ = m.group(1), m.group(2)
            if name == "_":
                continue
            receivers["one-letter" if len(name) == 1 else "short" if len(name) <= 4 else "word"] += 1
            per_type[typ][name] += 1
        if not is_test("go", rel):
            for m in re.finditer(r"fmt\.Errorf\(\s*(\"(?:[^\"\\]|\\.)*\")([^\n]*)", text):
                args = [a.strip(" )") for a in m.group(2).split(",")[1:]]
                if any(a == "err" or a.endswith(("Err", "err")) or a.startswith("Err") for a in args):
                    wrapping["%w" if "%w" in m.group(1) else "%v"] += 1
    matching = Counter()
    for rel, text in source:
        code = strip_c_comments(text)
        matching["errors.Is/As"] += len(re.findall(r"\berrors\.(?:Is|As)\(", code))
        matching["direct"] += len(re.findall(r"\berr [!=]= (?:\w+\.)?Err\w*|\berr [!=]= io\.EOF\b|\berr\.\(", code))
    matching = +matching
    consistent = sum(1 for c in per_type.values() if len(c) == 1)
    assertions = Counter()
    for rel, text in tests:
        if not re.search(r"func Test\w*\(", text):
            continue
        assertions["testify" if "github.com/stretchr/testify" in text else "the standard library"] += 1
    grouping = Counter()
    for rel, _, text in files:
        v = go_import_grouping(text)
        if v:
            grouping[v] += 1
    return [
        Label("go", "imports.grouping", grouping),
        Label("go", "declarations", decl),
        Label("go", "errors.wrapping", wrapping),
        Label("go", "errors.matching", matching),
        Label("go", "naming.receiver", receivers,
              note=f"{consistent} of {len(per_type)} types use one receiver name in every method"),
        Label("go", "test.assertions", assertions),
    ]


def go_import_grouping(text):
    """goimports' layout: the standard library in a first group of its own, the other modules
    after a blank line ("separated"), or both in one group ("together"); None when the file's
    `import ( … )` block does not hold both kinds."""
    m = re.search(r"(?m)^import \(\n(.*?)^\)", text, re.S)
    if not m:
        return None
    groups = [[]]
    for line in m.group(1).split("\n"):
        s = line.strip()
        if not s:
            if groups[-1]:
                groups.append([])
            continue
        if s.startswith("//"):
            continue
        p = re.search(r'"([^"]+)"', s)
        if p:
            groups[-1].append("." not in p.group(1).split("/")[0])
    kinds = [set(g) for g in groups if g]
    if set().union(*kinds) != {True, False}:
        return None
    return "separated" if all(len(k) == 1 for k in kinds) and kinds[0] == {True} else "together"


CALLBACK = re.compile(r"function\s*[\w$]*\s*\(\s*(?:err|error)\s*[,)]|\(\s*(?:err|error)\s*,[^)]*\)\s*=>")


def js_test_file_style(rel, lang):
    name = rel.rsplit("/", 1)[-1]
    m = re.search(r"\.(test|spec)\.(\w+)$", name)
    if m:
        return f"*.{m.group(1)}.{m.group(2)}"
    return None


def measure_script(lang, files, tests, source):
    decl, semis, catches = Counter(), Counter(), Counter()
    quotes = Counter()
    for rel, _, text in files:
        code = strip_c_comments(text)
        for m in re.finditer(r"(?<![\w.$])(var|let|const)\s+[\w$\[{]", code):
            decl[m.group(1)] += 1
        for m in re.finditer(r"\bcatch\s*\(\s*(\w+)", code):
            catches[m.group(1)] += 1
        for line in code.splitlines():
            s = line.strip()
            if re.match(r"(?:const|let|var|return|import|throw)\b", s) and re.search(r"[\w'\"`)\]];?$", s) \
                    and not s.endswith((",", "{", "(", "[", "=", "=>", "+", "&&", "||", "?", ":")):
                if re.match(r"import\b", s) and " from " not in s and not re.match(r"import\s+['\"]", s):
                    continue
                semis["semicolons" if s.endswith(";") else "none"] += 1
        quotes.update(js_quotes(text))
    # Middleware error idioms, in code and tests alike (strings kept: `ctx.throw(400, 'x')`).
    middleware = Counter()
    for rel, _, text in files:
        code = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        code = re.sub(r"(?m)^\s*//.*$", "", code)
        middleware["ctx.throw"] += len(re.findall(r"\bctx\.throw\(", code))
        middleware["next(err)"] += len(re.findall(r"\bnext\((?:err|error|e)\)", code))
        middleware["try-next"] += len(re.findall(r"try\s*\{\s*\n\s*await next\(\)", code))
    middleware = +middleware
    # Asynchronous style, in code and tests alike: Node's error-first callbacks or promises.
    callbacks = Counter()
    for rel, _, text in files:
        for line in text.splitlines():
            s = line.strip()
            if not s or s.startswith(("//", "*")):
                continue
            callbacks["error-first callbacks"] += len(CALLBACK.findall(s))
            callbacks["promises"] += len(re.findall(r"\bawait\s", s)) + s.count(".then(")
    callbacks = +callbacks
    test_files, assertions, frameworks = Counter(), Counter(), Counter()
    for rel, text in tests:
        if not re.search(r"\b(?:it|test)\s*\(", text):
            continue
        style = js_test_file_style(rel, lang)
        if style:
            test_files[style] += 1
        elif any(d in ("test", "tests", "__tests__") for d in rel.split("/")[:-1]):
            test_files["test/<name>" + os.path.splitext(rel)[1]] += 1
        if re.search(r"from ['\"]chai['\"]|require\(['\"]chai['\"]\)", text):
            assertions["chai"] += 1
        elif re.search(r"['\"](?:node:)?assert(?:/strict)?['\"]", text):
            assertions["node:assert"] += 1
        elif re.search(r"\bexpect\(", text):
            assertions["expect"] += 1
        for module, name in (("vitest", "vitest"), ("@jest/globals", "jest"), ("mocha", "mocha"), ("node:test", "node:test")):
            if re.search(rf"['\"]{re.escape(module)}['\"]", text):
                frameworks[name] += 1
                break
    return [
        Label(lang, "declarations", decl),
        Label(lang, "format.semicolons", semis),
        Label(lang, "format.quotes", quotes),
        Label(lang, "naming.catch_parameter", catches),
        Label(lang, "errors.middleware", middleware),
        Label(lang, "async.callbacks", callbacks),
        Label(lang, "naming.test_file", test_files),
        Label(lang, "test.assertions", assertions),
        Label(lang, "test.framework", frameworks),
    ]


def measure_typescript(files, tests, source):
    return measure_script("typescript", files, tests, source)


def measure_javascript(files, tests, source):
    return measure_script("javascript", files, tests, source)


def measure_java(files, tests, source):
    wildcard, catches, names, assertions, frameworks = Counter(), Counter(), Counter(), Counter(), Counter()
    for rel, _, text in files:
        for m in re.finditer(r"(?m)^import\s+(?:static\s+)?[\w.]+?(\.\*)?;", text):
            wildcard["wildcard" if m.group(1) else "explicit"] += 1
        code = strip_c_comments(text)
        for m in re.finditer(r"\bcatch\s*\(\s*(?:final\s+)?[\w.|\s]+?\s(\w+)\s*\)", code):
            catches[m.group(1)] += 1
    for rel, text in tests:
        for m in re.finditer(r"@Test\b(?:\([^)]*\))?\s+(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:public\s+|protected\s+|private\s+)?(?:static\s+)?void\s+(\w+)", text):
            name = m.group(1)
            names["test_prefix" if re.match(r"test[A-Z_0-9]", name) or name == "test" else
                  "should" if name.startswith("should") else "descriptive"] += 1
        if "@Test" not in text:
            continue
        if "org.junit.jupiter" in text:
            frameworks["JUnit 5"] += 1
        elif "org.junit" in text:
            frameworks["JUnit 4"] += 1
        if "com.google.common.truth" in text:
            assertions["Truth"] += 1
        elif "org.assertj" in text:
            assertions["AssertJ"] += 1
        elif "org.hamcrest" in text:
            assertions["Hamcrest"] += 1
        elif re.search(r"org\.junit\.(?:jupiter\.api\.)?Assert|junit\.framework", text):
            assertions["JUnit assertions"] += 1
    return [
        Label("java", "imports.wildcard", wildcard),
        Label("java", "naming.catch_parameter", catches),
        Label("java", "naming.test", names),
        Label("java", "test.assertions", assertions),
        Label("java", "test.framework", frameworks),
    ]


# ---------------------------------------------------------------- commits

CONVENTIONAL = re.compile(r"^([A-Za-z][\w./-]*)(?:\(([^)]{1,40})\))?(!)?: +(\S.*)$")
# tacit's list, and its rule for commit habits: 70% of the commits (DOMINANT in history/style.rs).
TYPES = {"feat", "fix", "docs", "doc", "style", "refactor", "perf", "test", "tests", "build", "ci", "chore",
         "revert", "deps", "release"}
COMMIT_DOMINANCE = 0.7


def measure_commits(repo):
    log = git(repo, "log", "--no-merges", "--max-count=5000", "--format=%s")
    case, style = Counter(), Counter()
    for subject in log.splitlines():
        if not subject or subject.startswith('Revert "'):
            continue
        m = CONVENTIONAL.match(subject)
        description = subject
        if m:
            description = m.group(4)
            conventional = m.group(1) in TYPES or m.group(2) or m.group(3)
            style["conventional" if conventional else "component"] += 1
        else:
            style["free"] += 1
        first = next((c for c in description if c.isalpha()), None)
        if first:
            case["capitalised" if first.isupper() else "lowercase"] += 1
    return [Label("commits", "commit.case", case), Label("commits", "commit.style", style)]


# Habits tacit counts another way (per crate, per file with a share rule): never split by directory.
NOT_SPLIT = {"headers.license", "errors.library:binaries", "errors.library:libraries"}


def top_dir(rel):
    """tacit's directories for per-directory habits: the top-level one, or a monorepo package."""
    parts = rel.split("/")
    if len(parts) < 2:
        return None
    if parts[0] in ("packages", "crates", "apps", "libs", "editors", "plugins") and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


def split_by_directory(lang, files, labels):
    """Marks the mixed labels that are dominant, with different values, in two or more
    top-level directories (directories with too few cases are left out; one that is itself
    mixed keeps the repository-wide split)."""
    mixed = [l for l in labels if l.value() == "mixed" and l.key not in NOT_SPLIT]
    if not mixed:
        return
    by_dir = defaultdict(list)
    for f in files:
        d = top_dir(f[0])
        if d:
            by_dir[d].append(f)
    per_dir = {d: {l.key: l for l in measure_language(lang, fs)} for d, fs in sorted(by_dir.items())}
    for label in mixed:
        parts = [(d, found[label.key].value()) for d, found in per_dir.items() if label.key in found]
        if not parts or any(v == "mixed" for _, v in parts) or len({v for _, v in parts}) < 2:
            continue
        label.per_dir = parts


def main():
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "TACIT_CORPUS", Path.home() / ".cache/tacit/accuracy-corpus"))
    repos = tomllib.loads((HERE / "corpus.toml").read_text())["repo"]
    DISPLAY["commits"] = "commit"
    out = ["# Generated by measure.py from the corpus of corpus.toml: re-run it rather than edit.", ""]
    for repo in repos:
        path = corpus / repo["name"]
        files = source_files(path)
        by_lang = defaultdict(list)
        for f in files:
            by_lang[f[1]].append(f)
        labels = []
        for lang, lang_files in sorted(by_lang.items()):
            if len(lang_files) >= 5:
                found = measure_language(lang, lang_files)
                split_by_directory(lang, lang_files, found)
                labels.extend(found)
        labels.extend(l for l in measure_commits(path) if l.value() is not None)
        print(f"== {repo['name']}: " + ", ".join(f"{l} {len(f)}" for l, f in sorted(by_lang.items())))
        for label in labels:
            print(f"   {label.lang:<11} {label.key:<24} {str(label.value()):<22} {dict(label.counts.most_common(6))} {label.note} {label.per_dir or ''}")
            out.append(label.toml(repo["name"]))
            out.append("")
    (HERE / "conventions.toml").write_text("\n".join(out))


if __name__ == "__main__":
    main()

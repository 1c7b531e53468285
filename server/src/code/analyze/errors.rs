//! How a file raises, wraps and matches errors: raised exception classes, `fmt.Errorf`
//! verbs, Go error matching, JS/TS error-first callbacks and async error handling.

use tree_sitter::Node;

use super::text::{is_await_at, lines_holding, NeedleLine};
use super::{line_of, SourceView};

/// What a JS/TS line is read for error and async idioms: error-first callbacks, promises,
/// koa's `ctx.throw(…)`, Express's `next(err)`.
const NEEDLE_TEXTS: [&str; 5] = ["err", "await", ".then(", "ctx.throw(", "next("];

/// Python's built-in exception classes: raising one of these is not raising the project's own.
const PYTHON_BUILTIN_EXCEPTIONS: &[&str] = &[
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BaseException",
    "BaseExceptionGroup",
    "BlockingIOError",
    "BrokenPipeError",
    "BufferError",
    "BytesWarning",
    "ChildProcessError",
    "ConnectionAbortedError",
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "DeprecationWarning",
    "EOFError",
    "EncodingWarning",
    "EnvironmentError",
    "Exception",
    "ExceptionGroup",
    "FileExistsError",
    "FileNotFoundError",
    "FloatingPointError",
    "FutureWarning",
    "GeneratorExit",
    "IOError",
    "ImportError",
    "ImportWarning",
    "IndentationError",
    "IndexError",
    "InterruptedError",
    "IsADirectoryError",
    "KeyError",
    "KeyboardInterrupt",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotADirectoryError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PendingDeprecationWarning",
    "PermissionError",
    "ProcessLookupError",
    "RecursionError",
    "ReferenceError",
    "ResourceWarning",
    "RuntimeError",
    "RuntimeWarning",
    "StopAsyncIteration",
    "StopIteration",
    "SyntaxError",
    "SyntaxWarning",
    "SystemError",
    "SystemExit",
    "TabError",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "UnicodeEncodeError",
    "UnicodeError",
    "UnicodeTranslateError",
    "UnicodeWarning",
    "UserWarning",
    "ValueError",
    "Warning",
    "ZeroDivisionError",
];

impl<'a> SourceView<'a> {
    /// `raise X(…)` outside tests: a built-in exception class or the project's (or a
    /// library's) own. A bare `raise` and `raise err` re-raise and say nothing.
    pub(super) fn raised(&mut self, node: Node) {
        let Some(exception) = node.named_child(0) else {
            return;
        };
        let target = if self.kind(exception) == "call" {
            exception.child_by_field_name("function")
        } else {
            Some(exception)
        };
        let Some(target) = target else { return };
        let name = self.text_of(target);
        let name = name.rsplit('.').next().unwrap_or(name);
        if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            return;
        }
        let value = if PYTHON_BUILTIN_EXCEPTIONS.contains(&name) {
            "built-in"
        } else {
            "custom"
        };
        self.facts.add("errors.raises", value, line_of(node));
    }

    /// How JS/TS code deals with errors and asynchrony, in code and tests alike (tests show
    /// how the code is meant to be used). HTTP middleware: koa's `ctx.throw(…)`, Express's
    /// `next(err)`, or a `try { await next() } catch` around the rest of the chain.
    /// Asynchronous calls: Node's error-first callbacks (`function (err, data)`) or promises
    /// (`await`, `.then(`).
    pub(super) fn script_error_idioms(&mut self) {
        static CALLBACK: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let callback = CALLBACK.get_or_init(|| {
            regex::Regex::new(
                r"function\s*[\w$]*\s*\(\s*(?:err|error)\s*[,)]|\(\s*(?:err|error)\s*,[^)]*\)\s*=>",
            )
            .expect("static regex")
        });
        // Only the lines that hold a needle are read (a tenth of what koa's indexing added to
        // its parse, under `perf`, when every line was searched for each), and each such line
        // once more for all needles: a search per needle set one up per line. Teddy (SIMD)
        // rather than an automaton: `e`, `a` and `n` start too many words for a prefilter.
        // No needle starts inside another, so every occurrence of each is found.
        static NEEDLES: std::sync::OnceLock<aho_corasick::packed::Searcher> =
            std::sync::OnceLock::new();
        let needles = NEEDLES.get_or_init(|| {
            aho_corasick::packed::Searcher::new(NEEDLE_TEXTS).expect("static needles")
        });
        let text = self.text;
        for NeedleLine {
            number: at,
            start,
            text: line,
        } in lines_holding(text, |bytes| needles.find(bytes).map(|m| m.start()))
        {
            let code = line.trim();
            if code.starts_with("//") || code.starts_with('*') {
                continue;
            }
            let (mut err, mut promised, mut thrown, mut passes) = (false, 0, 0, 0);
            for found in needles.find_iter(code) {
                let rest = &code[found.end()..];
                match NEEDLE_TEXTS[found.pattern().as_usize()] {
                    "err" => err = true,
                    "await" if is_await_at(code, found.start()) => promised += 1,
                    ".then(" => promised += 1,
                    "ctx.throw(" => thrown += 1,
                    "next(" if ["err)", "error)", "e)"].iter().any(|a| rest.starts_with(a)) => {
                        passes += 1
                    }
                    _ => {}
                }
            }
            if err {
                for _ in callback.find_iter(code) {
                    self.facts
                        .add("async.callbacks", "error-first callbacks", at);
                }
            }
            for _ in 0..promised {
                self.facts.add("async.callbacks", "promises", at);
            }
            for _ in 0..thrown {
                self.facts.add("errors.middleware", "ctx.throw", at);
            }
            for _ in 0..passes {
                self.facts.add("errors.middleware", "next(err)", at);
            }
            if code.starts_with("await next()") {
                // The line before, blank lines skipped, opens a `try`.
                let previous = text[..start]
                    .lines()
                    .rev()
                    .map(str::trim)
                    .find(|l| !l.is_empty())
                    .unwrap_or("");
                if previous.ends_with("try {") {
                    self.facts.add("errors.middleware", "try-next", at);
                }
            }
        }
    }

    /// How Go code tells errors apart: `errors.Is` / `errors.As`, which see through
    /// wrapping, or `err == ErrX` and `err.(*T)`, which do not.
    pub(super) fn go_error_matching(&mut self) {
        // Every needle holds `err`: a file without it is not read line by line.
        if !self.text.contains("err") {
            return;
        }
        for (index, line) in self.text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let at = index as u32 + 1;
            let matched = code.matches("errors.Is(").count() + code.matches("errors.As(").count();
            for _ in 0..matched {
                self.facts.add("errors.matching", "errors.Is/As", at);
            }
            let compared = ["err == ", "err != "]
                .iter()
                .flat_map(|op| {
                    code.match_indices(op)
                        .map(move |(i, _)| &code[i + op.len()..])
                })
                .filter(|rhs| {
                    let name: String = rhs
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '_')
                        .collect();
                    let last = name.rsplit('.').next().unwrap_or("");
                    last.starts_with("Err") || name == "io.EOF"
                })
                .count();
            let asserted = code.matches("err.(").count();
            for _ in 0..compared + asserted {
                self.facts.add("errors.matching", "direct", at);
            }
        }
    }

    /// `fmt.Errorf` with an error among its arguments: wrapped with `%w`, or flattened.
    pub(super) fn errorf(&mut self, format: Node) {
        let Some(args) = format.parent() else { return };
        let count = args.named_child_count();
        let passes_error = (1..count).filter_map(|i| args.named_child(i)).any(|a| {
            let t = self.text_of(a);
            t == "err" || t.ends_with("Err") || t.ends_with("err") || t.starts_with("Err")
        });
        if !passes_error {
            return;
        }
        let value = if self.text_of(format).contains("%w") {
            "%w"
        } else {
            "%v"
        };
        self.facts.add("errors.wrapping", value, line_of(format));
    }
}

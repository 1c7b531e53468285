//! The `tacit` binary: the CLI, whose `lsp` subcommand serves editors over stdio.

fn main() -> std::process::ExitCode {
    tacit::cli::main()
}

//! tacit: a language server that gives AI copilots a durable, queryable memory of how a
//! codebase is written. Modules follow the data flow of DESIGN.md: extractors (`workspace`,
//! `config`) produce `memory` values, the `indexer` redacts, embeds and writes them to the
//! `store`, `assemble` ranks them for a request; `engine` is the API that `cli`, `lsp` and `mcp` share.
#![deny(clippy::print_stdout)]

pub mod assemble;
#[allow(clippy::print_stdout)]
pub mod bench;
pub mod catalog;
#[allow(clippy::print_stdout)]
pub mod cli;
pub mod code;
pub mod config;
pub mod embed;
pub mod engine;
pub mod heap;
pub mod history;
pub mod indexer;
pub mod instructions;
pub mod limits;
pub mod lsp;
pub mod manifest;
pub mod mcp;
pub mod memory;
pub mod redact;
pub mod store;
pub mod transcript;
pub mod vector;
pub mod workspace;

#[cfg(test)]
mod tests;

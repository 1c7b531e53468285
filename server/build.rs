//! Compiles `src/code/walk.c`, the code index's walk over a syntax tree, against the internal
//! headers of the tree-sitter crate this package links: the walk reads tree-sitter's subtree
//! arrays directly (see that file for why), so it must see exactly the layout that crate has.

use std::path::PathBuf;

fn main() {
    // tree-sitter's build script publishes its `include` directory (`links = "tree-sitter"`);
    // the internal headers are in `src` beside it.
    let include = PathBuf::from(
        std::env::var("DEP_TREE_SITTER_INCLUDE")
            .expect("the tree-sitter crate publishes its include directory"),
    );
    let internal = include
        .parent()
        .expect("tree-sitter's include directory has a parent")
        .join("src");
    println!("cargo:rerun-if-changed=src/code/walk.c");
    cc::Build::new()
        .file("src/code/walk.c")
        .include(&include)
        .include(&internal)
        // The same dialect and definitions tree-sitter compiles its own sources with.
        .flag_if_supported("-std=c11")
        .define("_POSIX_C_SOURCE", "200112L")
        .define("_DEFAULT_SOURCE", None)
        .warnings(true)
        .compile("tacit_walk");
}

; Conventions evidence for Rust. Capture names are the vocabulary of server/src/code:
; @name.<kind> is a name to classify, @error.* an error-handling site, @doc.item a public item
; whose doc comment is checked, @list a bracketed list checked for a trailing comma.

(function_item name: (identifier) @name.function)
(function_signature_item name: (identifier) @name.function)
(struct_item name: (type_identifier) @name.type)
(enum_item name: (type_identifier) @name.type)
(union_item name: (type_identifier) @name.type)
(trait_item name: (type_identifier) @name.type)
(type_item name: (type_identifier) @name.type)
(const_item name: (identifier) @name.constant)
(static_item name: (identifier) @name.constant)
(let_declaration pattern: (identifier) @name.variable)
(field_declaration name: (field_identifier) @name.variable)

; Tests: `#[test]`-like attributes right before a function, and `#[cfg(test)]` modules. Items
; sit in a file, a module or trait body (`declaration_list`) or a block; naming the parent gives
; every pattern one root node, which lets tacit start the query only where it can match.
(source_file
  (attribute_item) @_attr
  .
  (function_item name: (identifier) @test.function)
  (#match? @_attr "^#\\[([a-z_]+::)?test\\]"))
(declaration_list
  (attribute_item) @_attr
  .
  (function_item name: (identifier) @test.function)
  (#match? @_attr "^#\\[([a-z_]+::)?test\\]"))
(block
  (attribute_item) @_attr
  .
  (function_item name: (identifier) @test.function)
  (#match? @_attr "^#\\[([a-z_]+::)?test\\]"))
(source_file
  (attribute_item) @_cfg
  .
  (mod_item) @test.module
  (#eq? @_cfg "#[cfg(test)]"))
(declaration_list
  (attribute_item) @_cfg
  .
  (mod_item) @test.module
  (#eq? @_cfg "#[cfg(test)]"))
(block
  (attribute_item) @_cfg
  .
  (mod_item) @test.module
  (#eq? @_cfg "#[cfg(test)]"))

; Documentation: public items.
(function_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(struct_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(enum_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(trait_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(type_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(const_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item
(mod_item (visibility_modifier) @_v (#eq? @_v "pub")) @doc.item

; Errors.
(try_expression) @error.try
(call_expression
  function: (field_expression field: (field_identifier) @error.unwrap)
  (#any-of? @error.unwrap "unwrap" "expect"))
(macro_invocation
  macro: (identifier) @error.panic
  (#any-of? @error.panic "panic" "todo" "unimplemented"))

; Visibility habits.
(visibility_modifier) @types.visibility

; Imports and logging calls.
(use_declaration) @import
(macro_invocation macro: (_) @log.call)

; Lists that may end with a trailing comma.
(arguments) @list
(parameters) @list
(array_expression) @list
(field_initializer_list) @list
(field_declaration_list) @list
(enum_variant_list) @list
(tuple_expression) @list

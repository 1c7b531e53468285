; Conventions evidence for Go (see grammars/rust/conventions.scm for the capture names).

(function_declaration name: (identifier) @name.function)
(method_declaration name: (field_identifier) @name.function)
(type_spec name: (type_identifier) @name.type)
(const_spec name: (identifier) @name.constant)
(short_var_declaration left: (expression_list (identifier) @name.variable))
(var_spec name: (identifier) @name.variable)
(field_declaration name: (field_identifier) @name.variable)

(function_declaration
  name: (identifier) @test.function
  (#match? @test.function "^Test"))

(function_declaration name: (identifier) @_n (#match? @_n "^[A-Z]")) @doc.item
(method_declaration name: (field_identifier) @_n (#match? @_n "^[A-Z]")) @doc.item
(type_declaration (type_spec name: (type_identifier) @_n (#match? @_n "^[A-Z]"))) @doc.item

(call_expression
  function: (selector_expression
    operand: (identifier) @_pkg
    field: (field_identifier) @_fn)
  arguments: (argument_list . (interpreted_string_literal) @error.errorf)
  (#eq? @_pkg "fmt")
  (#eq? @_fn "Errorf"))
(var_spec
  name: (identifier) @error.sentinel
  value: (expression_list (call_expression))
  (#match? @error.sentinel "^Err"))

(import_spec path: (_) @import)

(literal_value) @list
(argument_list) @list
(parameter_list) @list

(short_var_declaration) @declaration
(var_declaration) @declaration
(method_declaration) @naming.receiver

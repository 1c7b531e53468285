; Conventions evidence for TSX: TypeScript with JSX; the same queries as grammars/typescript.

(function_declaration name: (identifier) @name.function)
(method_definition name: (property_identifier) @name.function)
(variable_declarator
  name: (identifier) @name.function
  value: [(arrow_function) (function_expression)])
(class_declaration name: (type_identifier) @name.type)
(interface_declaration name: (type_identifier) @name.type)
(type_alias_declaration name: (type_identifier) @name.type)
(enum_declaration name: (identifier) @name.type)
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name.constant
      value: [(number) (string) (template_string)])))
(program
  (export_statement
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name.constant
        value: [(number) (string) (template_string)]))))
(variable_declarator
  name: (identifier) @name.variable
  value: (_) @_v
  (#not-match? @_v "^(function|async|\\()"))

(call_expression
  function: (identifier) @_f
  arguments: (arguments . [(string) (template_string)] @test.function)
  (#any-of? @_f "it" "test"))

(export_statement declaration: (_)) @doc.item

(try_statement) @error.trycatch
(call_expression
  function: (member_expression property: (property_identifier) @error.promise_catch)
  (#eq? @error.promise_catch "catch"))
(class_declaration
  name: (type_identifier) @error.class
  (class_heritage) @_h
  (#match? @_h "Error\\b"))

(type_annotation) @types.annotation
(type_annotation (predefined_type) @types.any (#eq? @types.any "any"))

(import_statement source: (string) @import)
(call_expression
  function: (member_expression object: (identifier) @_o) @log.call
  (#eq? @_o "console"))

(string) @string

(expression_statement) @statement
(lexical_declaration) @statement
(variable_declaration) @statement
(return_statement) @statement
(import_statement) @statement
(throw_statement) @statement
(type_alias_declaration) @statement

(arguments) @list
(formal_parameters) @list
(array) @list
(object) @list

(lexical_declaration) @declaration
(variable_declaration) @declaration
(catch_clause) @naming.catch

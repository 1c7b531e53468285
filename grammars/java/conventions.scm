; Conventions evidence for Java (see grammars/rust/conventions.scm for the capture names).

(method_declaration name: (identifier) @name.function)
(class_declaration name: (identifier) @name.type)
(interface_declaration name: (identifier) @name.type)
(enum_declaration name: (identifier) @name.type)
(record_declaration name: (identifier) @name.type)
(field_declaration
  (modifiers) @_m
  declarator: (variable_declarator name: (identifier) @name.constant)
  (#match? @_m "static")
  (#match? @_m "final"))
(field_declaration
  (modifiers) @_m
  declarator: (variable_declarator name: (identifier) @name.variable)
  (#not-match? @_m "static"))
(local_variable_declaration declarator: (variable_declarator name: (identifier) @name.variable))

(method_declaration
  (modifiers (marker_annotation name: (identifier) @_a))
  name: (identifier) @test.function
  (#eq? @_a "Test"))

(class_declaration (modifiers) @_m (#match? @_m "public")) @doc.item
(method_declaration (modifiers) @_m (#match? @_m "public")) @doc.item
(interface_declaration (modifiers) @_m (#match? @_m "public")) @doc.item

(class_declaration
  name: (identifier) @error.class
  superclass: (superclass) @_s
  (#match? @_s "(Exception|Error)$"))

(import_declaration) @import
(method_invocation
  object: (_) @_o
  (#match? @_o "^(System\\.(out|err)|log|logger|LOG|LOGGER)$")) @log.call

(array_initializer) @list
(enum_body) @list

(catch_formal_parameter) @naming.catch

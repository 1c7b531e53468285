; Conventions evidence for Python (see grammars/rust/conventions.scm for the capture names).

(function_definition name: (identifier) @name.function)
(class_definition name: (identifier) @name.type)
(function_definition
  body: (block
    (expression_statement (assignment left: (identifier) @name.variable))))
; Module-level names bound to literals are constants; `logger = logging.getLogger()` is not.
(module
  (expression_statement
    (assignment
      left: (identifier) @name.constant
      right: [(integer) (float) (string) (true) (false) (tuple) (list) (dictionary) (set)]
      (#not-match? @name.constant "^__"))))

(function_definition
  name: (identifier) @test.function
  (#match? @test.function "^test"))

(module (function_definition name: (identifier) @_n (#not-match? @_n "^_")) @doc.item)
(module (class_definition name: (identifier) @_n (#not-match? @_n "^_")) @doc.item)
(module (decorated_definition definition: (function_definition name: (identifier) @_n (#not-match? @_n "^_")) @doc.item))
(class_definition body: (block (function_definition name: (identifier) @_n (#not-match? @_n "^_")) @doc.item))

(except_clause) @error.except
(except_clause (block (raise_statement) @error.raise))
(class_definition
  name: (identifier) @error.class
  superclasses: (argument_list) @_bases
  (#match? @_bases "(Error|Exception)\\b"))

(function_definition) @types.function

(import_statement) @import
(import_from_statement) @import

(string) @string

(argument_list) @list
(parameters) @list
(list) @list
(dictionary) @list
(set) @list

(raise_statement) @error.raised

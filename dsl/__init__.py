"""The policy language: grammar, syntax tree, diagnostics and checks."""

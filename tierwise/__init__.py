"""tierwise: account grading as policy-as-code.

The work is split across three packages: `tierwise.dsl` (the policy language:
parse, build, check), `tierwise.engine` (compile and grade) and
`tierwise.cli` (the `tierwise` command).
"""

__version__ = "0.1.0"

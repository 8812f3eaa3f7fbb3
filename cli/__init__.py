"""The `tierwise` command line."""

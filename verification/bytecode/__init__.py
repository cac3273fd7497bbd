"""Translation validation of the models against the compiled bytecode (issue 14, in progress)."""

"""The `vc` command groups, one module each (imported lazily by `vcengine.cli.LazyGroup`)."""

"""PURE builders: settings -> model objects. No files, environment, clock or network."""

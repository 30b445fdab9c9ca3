"""Running untrusted code: OS isolation (`isolation`), the validated result channel
(`framing`), the child's runner (`runner`) and the parent that starts and reads it
(`process`). Importing this package imports neither torch nor pyseccomp."""

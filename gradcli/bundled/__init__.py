"""Package data: the problem files shipped with gradcli (see `gradcli.problems.bundled`)."""

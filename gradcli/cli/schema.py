"""`gradcli schema`: the JSON Schema of the problem-file format, for editor completion.

Save it next to your files and point the YAML language server at it:
`gradcli schema > gradcli.schema.json`, then `# yaml-language-server: $schema=gradcli.schema.json`
as the first line of a problem file.
"""

from __future__ import annotations

import typer

from gradcli.cli.app import app


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of problem files, for editor completion."""
    import json

    from gradcli.problems.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))

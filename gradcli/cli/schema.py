"""`gradcli schema`: the JSON Schema of the problem-file format, for editor completion.

Save it next to your files and point the YAML language server at it:
`gradcli schema > gradcli.schema.json`, then `# yaml-language-server: $schema=gradcli.schema.json`
as the first line of a problem file.

The schema is a JSON document in every format (the SPEC gives every command `--format`):
rich, plain and json print it as it is, markdown in a fenced block, latex as a verbatim
document, so a script that always passes `--format` still gets a usable file.
"""

from __future__ import annotations

import typer

from gradcli.cli.app import DebugOption, Format, FormatOption, app


@app.command()
def schema(fmt: Format = FormatOption, debug: bool = DebugOption) -> None:
    """Print the JSON Schema (draft 2020-12) of problem files, for editor completion."""
    import json
    import sys

    from gradcli.problems.schema import json_schema
    from gradcli.render.ascii import encodes_unicode

    text = json.dumps(json_schema(), indent=2, ensure_ascii=not encodes_unicode(sys.stdout))
    if fmt is Format.markdown:
        text = f"```json\n{text}\n```"
    elif fmt is Format.latex:
        text = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}"
                f"\n\\begin{{document}}\n\\begin{{verbatim}}\n{text}\n\\end{{verbatim}}\n"
                "\\end{document}")
    typer.echo(text)

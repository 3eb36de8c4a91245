"""`darl recipe schema | show RECIPE | from-open-r1 CONFIG -o recipe.yaml`: read recipes without running them.

`schema` prints every recipe field with its type, default and description (from darl.training.recipe, the one place
they are documented). `show` prints the fully resolved recipe (defaults merged into every stage) and, per stage, the
`trl.GRPOConfig` fields darl will pass (its own settings plus the `trl:` pass-through), after TRL itself accepted
them. `from-open-r1` turns an open-r1 GRPO config into a recipe (darl.training.open_r1).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from darl.cli.main import app
from darl.errors import InputError

recipe_app = typer.Typer(help="Print a recipe's schema or its resolved form, or convert an open-r1 config.",
                         no_args_is_help=True)
app.add_typer(recipe_app, name="recipe")


def schema_rows(model: Any = None, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted field, type, default, description) for every field of the recipe, nested blocks expanded."""
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    from darl.training.recipe import Recipe

    model = model or Recipe
    rows = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        path = f"{prefix}{name}"
        nested = [a for a in (getattr(ann, "__args__", None) or (ann,)) if isinstance(a, type)
                  and issubclass(a, BaseModel)]
        if info.default is not PydanticUndefined:
            default = repr(info.default)
        elif info.default_factory is not None:
            default = "(see block)" if nested else repr(info.default_factory())
        else:
            default = "required"
        type_name = getattr(ann, "__name__", None) if isinstance(ann, type) else str(ann).replace("typing.", "")
        rows.append((path, str(type_name), default, info.description or ""))
        for sub in nested:
            item = "[i]" if str(ann).startswith("list[") else ""
            rows += schema_rows(sub, f"{path}{item}.")
    return rows


@recipe_app.command("schema")
def schema(fmt: str = typer.Option("text", "--format", help="text (one field a line) or json (JSON Schema).")
           ) -> None:
    """Print every recipe field: type, default, description."""
    from darl.training.recipe import GRPOSettings, Recipe

    if fmt == "json":
        typer.echo(json.dumps(Recipe.model_json_schema(), indent=2))
        return
    if fmt != "text":
        raise typer.BadParameter(f"{fmt!r} is not 'text' or 'json'", param_hint="--format")
    for path, type_name, default, description in schema_rows():
        typer.echo(f"{path}  ({type_name}, default {default})\n    {description}")
    typer.echo("stages[i].grpo  (overrides of `defaults` for one stage; any of these fields: "
               f"{', '.join(GRPOSettings.model_fields)})")
    typer.echo("trl / stages[i].trl  (any other trl.GRPOConfig field, checked against the installed TRL; "
               "`darl recipe show` prints what reaches TRL)")


@recipe_app.command("show")
def show(
    recipe: str = typer.Argument(..., help="Recipe YAML file or shipped recipe name."),
    processes: int = typer.Option(1, "--processes", min=1, help="Training processes to size the per-device batch "
                                  "for (as accelerate launch --num_processes)."),
    trl: bool = typer.Option(True, "--trl/--no-trl", help="Also build each stage's trl.GRPOConfig and print the "
                             "fields darl passes (imports TRL: a few seconds)."),
) -> None:
    """Print the fully resolved recipe and each stage's GRPOConfig fields, without running anything."""
    import yaml

    from darl.training.recipe import load_recipe, resolve_recipe_path

    spec = load_recipe(resolve_recipe_path(recipe))
    resolved = spec.resolved()
    if trl:
        resolved["grpo_config"] = {s.name: stage_trl_fields(spec, i, processes) for i, s in enumerate(spec.stages)}
    # through JSON: a value several stages share (trl: fields) prints as itself, not as a YAML anchor (&id001, *id001)
    plain = json.loads(json.dumps(resolved, default=str))
    typer.echo(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True), nl=False)


def stage_trl_fields(spec: Any, index: int, processes: int) -> dict[str, Any]:
    """The GRPOConfig fields of stage `index` that differ from TRL's defaults (what darl and the recipe set),
    built by TRL itself so a value it refuses is reported here."""
    import dataclasses

    from trl import GRPOConfig

    from darl.training.stages import grpo_config, stage_dir

    import torch

    out = stage_dir(Path("<out>"), index + 1, spec.stages[index].name)
    # transformers refuses bf16 where no GPU supports it; a GPU recipe shown on a laptop is checked without it
    bf16_unchecked = spec.scale.bf16 and not torch.cuda.is_available()
    if bf16_unchecked:
        spec = spec.model_copy(update={"scale": spec.scale.model_copy(update={"bf16": False})})
    config = grpo_config(spec, spec.stage(index), out, processes)
    baseline = GRPOConfig(output_dir=str(out), use_cpu=config.use_cpu, bf16=config.bf16)  # TRL's bf16 default needs a GPU
    fields: dict[str, Any] = {"bf16": config.bf16}
    for f in dataclasses.fields(GRPOConfig):
        if not f.init:
            continue
        value = getattr(config, f.name)
        if value != getattr(baseline, f.name):
            fields[f.name] = json.loads(json.dumps(value, default=str))  # enums and paths as plain text
    if bf16_unchecked:
        fields["bf16"] = "true (not checked by TRL here: no GPU on this machine)"
    return fields


@recipe_app.command("from-open-r1")
def from_open_r1_cmd(
    config: Path = typer.Argument(..., help="An open-r1 GRPO config (recipes/<model>/grpo/config_*.yaml)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Recipe file to write (default: print it)."),
    name: Optional[str] = typer.Option(None, "--name", help="Recipe name (default: the config file's stem)."),
    processes: int = typer.Option(1, "--processes", min=1, help="Training processes the config was written for "
                                  "(its batch sizes are per device)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Stage length when the config trains "
                                            "by epochs (max_steps: -1), or to override it."),
) -> None:
    """Turn an open-r1 GRPO config into a darl recipe; every key not carried over is listed with the reason."""
    import yaml

    from darl.training.open_r1 import conversion_yaml, from_open_r1
    from darl.training.recipe import parse_recipe

    if not config.is_file():
        raise InputError("no such file", path=config, hint="pass an open-r1 config YAML")
    if output is not None and output.is_dir():
        raise InputError("is a folder", path=output, hint="give a file name such as recipe.yaml")
    try:
        data = yaml.safe_load(config.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML ({exc})", path=config) from None
    if not isinstance(data, dict):
        raise InputError("an open-r1 config is a YAML mapping", path=config)
    conversion = from_open_r1(data, name=name or config.stem, processes=processes, max_steps=max_steps,
                              source=str(config))
    text = conversion_yaml(conversion, str(config))
    parse_recipe(text, output or "<converted recipe>")  # the result is a valid recipe, or the error says why
    for note in conversion.notes:
        typer.echo(f"darl: conversion note: {note}", err=True)
    if output is None:
        sys.stdout.write(text)
    else:
        from darl.atomic import atomic_write_text

        atomic_write_text(output, text)
        typer.echo(f"wrote {output} ({len(conversion.notes)} conversion note(s), listed at its top)", err=True)

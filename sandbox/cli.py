"""(being written)"""
import click


@click.command("sandbox")
def sandbox_command() -> None:
    raise click.ClickException("not built yet")

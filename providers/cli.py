"""(being written)"""
import click


@click.command("crm")
def crm_command() -> None:
    raise click.ClickException("not built yet")

"""(being written)"""
import click


@click.command("seed-demo")
def seed_demo_command() -> None:
    raise click.ClickException("not built yet")

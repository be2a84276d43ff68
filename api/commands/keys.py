"""``creditgraph keys create|list|revoke``: API keys for the HTTP API (stored hashed, shown once)."""

from __future__ import annotations

import click

from api.auth import ROLES, ApiDatabase, api_db_path, create_key, list_keys, revoke_key
from api.settings import get_settings
from graph.store import CreditGraphError

DB_OPTION = click.option("--db", envvar="CREDITGRAPH_DB", default=None,
                         help="SQLite file of the store; keys live next to it in <name>.api.sqlite.")


def _db(db: str | None) -> ApiDatabase:
    settings = get_settings()
    if db:
        settings = settings.model_copy(update={"db": db})
    return ApiDatabase(api_db_path(settings))


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (roles: investigator, supervision_system, admin)."""


@keys.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the key may do.")
@click.option("--name", default="", help="Who holds the key (shown in the audit trail).")
@DB_OPTION
def create(role: str, name: str, db: str | None) -> None:
    """Create a key and print it once: it is stored only as a salted hash."""
    store = _db(db)
    try:
        key, text = create_key(store, role, name)
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"created key {key.id} ({key.role}, {key.name}); store it now, it is not shown again:", err=True)
    click.echo(text)


@keys.command("list")
@DB_OPTION
def list_(db: str | None) -> None:
    """List keys (never their secrets)."""
    store = _db(db)
    try:
        rows = list_keys(store)
    finally:
        store.close()
    if not rows:
        click.echo("no API keys; create one with `creditgraph keys create --role …`")
    for k in rows:
        state = f"revoked {k.revoked}" if k.revoked else "active"
        click.echo(f"{k.id}  {k.role:<18}  {k.name:<24}  created {k.created}  {state}")


@keys.command("revoke")
@click.argument("key_id")
@DB_OPTION
def revoke(key_id: str, db: str | None) -> None:
    """Revoke KEY_ID: a running server refuses it from the next request on."""
    store = _db(db)
    try:
        key = revoke_key(store, key_id)
    except CreditGraphError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        store.close()
    click.echo(f"revoked {key.id} ({key.role}, {key.name}) at {key.revoked}")


COMMANDS = [keys]

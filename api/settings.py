"""Settings from ``CREDITGRAPH_*`` environment variables (only ``api/`` reads the environment)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the store is, which backend, where to serve."""

    model_config = SettingsConfigDict(env_prefix="CREDITGRAPH_", extra="ignore")

    db: str = "data/creditgraph.sqlite"
    backend: str = "memory"
    host: str = "127.0.0.1"
    port: int = 8000
    neo4j_uri: str = ""
    neo4j_user: str = ""
    neo4j_password: str = ""
    neo4j_database: str = ""


def get_settings() -> Settings:
    """Read the settings now (environment first, then defaults)."""
    return Settings()

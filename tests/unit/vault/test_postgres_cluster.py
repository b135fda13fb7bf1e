"""The private PostgreSQL cluster the tests run on: its own server, never the system one."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from dlt.testing import postgres
from dlt.testing.postgres import SYSTEM_PORT, PostgresError, PostgresNotInstalledError


def test_the_cluster_is_a_private_server_on_its_own_port(postgres_cluster):
    url = make_url(postgres_cluster.create_database("cluster_check"))

    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database
    ) as connection:
        data_directory = connection.execute("SHOW data_directory").fetchone()[0]
        fsync = connection.execute("SHOW fsync").fetchone()[0]

    assert url.host == "127.0.0.1"
    assert url.port == postgres_cluster.port != SYSTEM_PORT
    assert data_directory == str(postgres_cluster.data_dir)
    assert fsync == "on"


def test_database_names_are_checked_before_reaching_the_server(postgres_cluster):
    with pytest.raises(PostgresError, match="lowercase letters, digits and underscores"):
        postgres_cluster.create_database('x"; DROP DATABASE postgres; --')


def test_missing_postgresql_is_reported_with_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "_SEARCH_DIRS", str(tmp_path / "*" / "bin"))

    with pytest.raises(PostgresNotInstalledError, match=r"deploy/ensure-postgres\.sh.*postgresql"):
        postgres.find_postgres_binary("initdb")

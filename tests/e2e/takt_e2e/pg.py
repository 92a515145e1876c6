"""pg — throwaway databases on the PostgreSQL that
tests/harness/with-postgres.sh started (TAKT_PG_CONNINFO), through psql."""
import re
import subprocess
import urllib.parse


def with_dbname(conninfo: str, dbname: str) -> str:
    """The same server with another database, for key=value or URI conninfo."""
    if re.match(r"^postgres(ql)?://", conninfo):
        parts = urllib.parse.urlsplit(conninfo)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))
    return f"{conninfo} dbname={dbname}"


def psql(conninfo: str, sql: str, timeout=60) -> str:
    """Run sql; return the unaligned, tuples-only output. Raises on error."""
    out = subprocess.run(
        ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise RuntimeError(f"psql failed ({out.returncode}): {sql}\n{out.stderr}")
    return out.stdout.strip()


class Postgres:
    """The harness's server: creates and drops databases on it."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.admin = with_dbname(conninfo, "postgres")

    def create_database(self, name: str) -> str:
        """CREATE DATABASE name (dropping an old one); returns its conninfo."""
        self.drop_database(name)
        psql(self.admin, f'CREATE DATABASE "{name}"')
        return with_dbname(self.conninfo, name)

    def drop_database(self, name: str):
        psql(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

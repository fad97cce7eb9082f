"""The ``maintenance`` command starts without loading the application: ``--help`` and the light
commands must not wait for the web app, SQLAlchemy, pandas and the domains (seconds on a busy
machine). Typer reads every command's parameters to build the help, so the values the help shows
are written out in cli.py; here they are checked against their sources."""

from __future__ import annotations

import json
import subprocess
import sys

from maintenance import cli
from maintenance.org import service as org_service
from maintenance.org.models import Role
from maintenance.security import API_SCOPES

# What the command must not import before a command that needs it runs.
HEAVY = ("fastapi", "sqlalchemy", "sqlmodel", "pandas", "alembic", "pydantic", "maintenance.main", "maintenance.db")


def test_the_help_names_the_roles_scopes_and_token_days_the_application_knows() -> None:
    assert tuple(role.value for role in Role) == cli.ROLE_CODES
    assert tuple(API_SCOPES) == cli.API_SCOPE_NAMES
    assert cli.TOKEN_DAYS == (org_service.DEFAULT_TOKEN_DAYS, org_service.MAX_TOKEN_DAYS)


def test_building_the_whole_command_imports_nothing_heavy() -> None:
    """What ``maintenance --help`` does: import the module and build every command's parameters."""
    probe = (
        "import json, sys, typer.main, maintenance.cli; "
        "typer.main.get_command(maintenance.cli.app); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert [name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY] == []

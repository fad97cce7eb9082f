from fastapi.testclient import TestClient

from maintenance.org.models import User
from tests.conftest import login


def test_health_reports_database_reachable(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "reachable"


def test_admin_logs_in_and_sees_users(client: TestClient, admin: User) -> None:
    login(client, admin)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert admin.username in page.text

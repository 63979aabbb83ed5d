"""Operations: health, readiness, metrics, the OpenAPI document, request ids, HTTP errors."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from postal_svc.migrate import head_revision
from tests.conftest import assert_api_error, order_body


def test_healthz_is_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_readyz_is_200_when_the_database_is_at_the_migrations_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["migrations"]["current"] == head_revision()


def test_readyz_is_503_when_the_schema_is_behind(client, connection):
    connection.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_the_openapi_document_is_openapi_3_and_lists_the_intake_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/orders", "/api/v1/orders/batch", "/api/v1/agencies",
                 "/api/v1/post-offices"):
        assert path in spec["paths"], path
    assert "post" in spec["paths"]["/api/v1/orders"]
    assert "get" in spec["paths"]["/api/v1/orders"]


def test_the_api_docs_page_serves_html(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "openapi.json" in response.get_data(as_text=True)


def test_the_request_id_sent_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "gov-system-42.abc"})
    assert response.headers["X-Request-Id"] == "gov-system-42.abc"


def test_a_request_id_is_generated_when_none_is_sent(client):
    first = client.get("/healthz").headers.get("X-Request-Id")
    second = client.get("/healthz").headers.get("X-Request-Id")
    assert first and second
    assert first != second


def test_a_request_id_comes_back_on_errors_too(client, auth):
    unauthenticated = client.post("/api/v1/orders", json=order_body(),
                                  headers={"X-Request-Id": "req-401"})
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["X-Request-Id"] == "req-401"
    invalid = client.post("/api/v1/orders", json={}, headers={**auth["agency"],
                                                             "X-Request-Id": "req-422"})
    assert invalid.status_code == 422
    assert invalid.headers["X-Request-Id"] == "req-422"


def test_a_request_id_that_could_forge_log_lines_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-Id": "x" * 500})
    assert response.headers["X-Request-Id"] != "x" * 500


def test_metrics_are_in_prometheus_text_format_with_the_request_counter(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert "postal_http_requests_total" in body
    assert 'endpoint="ops.healthz"' in body


def test_made_up_methods_share_one_metrics_series(client):
    for method in ("BREW", "FOO", "X" * 100):
        client.open("/api/v1/orders", method=method)
    body = client.get("/metrics").get_data(as_text=True)
    assert 'method="other"' in body
    assert "BREW" not in body and "FOO" not in body and "X" * 100 not in body


def test_an_unknown_path_is_404_in_the_error_shape(client):
    assert_api_error(client.get("/api/v1/nothing-here"), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [
    ("delete", "/api/v1/orders"), ("put", "/api/v1/orders"), ("delete", "/api/v1/orders/batch"),
    ("post", "/healthz")])
def test_a_wrong_method_is_405_in_the_error_shape_with_allow(client, method, path):
    response = getattr(client, method)(path)
    assert_api_error(response, 405, "method_not_allowed")
    assert response.headers.get("Allow")


def test_an_unexpected_error_is_a_generic_500_in_the_error_shape(connection, settings, auth,
                                                                 reference_data):
    from postal_svc import create_app

    def broken_resolver(_address):
        raise RuntimeError("secret internal detail")

    app = create_app({"settings": settings, "db_bind": connection,
                      "resolve_address": broken_resolver})
    response = app.test_client().post("/api/v1/orders", json=order_body(),
                                      headers=auth["agency"])
    body = assert_api_error(response, 500, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert body["errors"] == {}

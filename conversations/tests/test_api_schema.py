"""The OpenAPI schema is true: real responses of every endpoint validate against it."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from openapi_core import OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_core.validation.response.exceptions import ResponseValidationError

from conversations.models import Answer, Message, Status
from conversations.tests.artists import make_staff
from conversations.tests.test_api import client_with_token


@pytest.fixture(scope="module")
def openapi():
    # OpenAPI.from_dict checks the document itself against the OpenAPI 3 specification.
    return OpenAPI.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def api(db):
    return client_with_token(make_staff("artist", artist=True))


@pytest.fixture
def lead(make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    Answer.objects.create(lead=lead, question_key="idea", text="a rose")
    Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="in",
        external_id="wamid.schema",
        body="Hi",
        status="processed",
    )
    return lead


def assert_matches_schema(openapi, response):
    openapi.validate_response(
        DjangoOpenAPIRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
    )


def calls(lead):
    """(method, path, body, expected status) for every endpoint and its documented answers."""
    base = f"/api/leads/{lead.pk}"
    return [
        ("get", "/api/leads/", None, 200),
        ("get", "/api/leads/?status=HACKED", None, 400),
        ("get", f"{base}/", None, 200),
        ("get", f"{base}/messages/", None, 200),
        ("get", f"{base}/history/", None, 200),
        ("post", f"{base}/transitions/", {"transition": "nuke"}, 400),
        ("post", f"{base}/transitions/", {"transition": "abandon"}, 403),
        ("post", f"{base}/transitions/", {"transition": "mark_booked"}, 409),
        ("post", f"{base}/transitions/", {"transition": "approve", "reason": "yes"}, 200),
        ("post", f"{base}/reply/", {"body": ""}, 400),
        ("post", f"{base}/reply/", {"body": "See you soon"}, 201),
        ("get", "/api/metrics/funnel/", None, 200),
        ("get", "/api/metrics/funnel/?from=2026-01-01&to=2026-12-31", None, 200),
        ("get", "/api/metrics/funnel/?from=2026-12-31&to=2026-01-01", None, 400),
    ]


def test_every_endpoint_answers_as_its_schema_says(openapi, api, lead):
    for method, path, body, expected in calls(lead):
        response = getattr(api, method)(path, body, format="json")
        assert response.status_code == expected, (method, path, response.content)
        assert_matches_schema(openapi, response)


def test_a_reply_to_an_opted_out_client_answers_as_its_schema_says(openapi, api, make_lead):
    lead = make_lead(Status.OPTOUT)
    lead.client.opted_out_at = lead.created_at
    lead.client.save(update_fields=["opted_out_at"])

    response = api.post(f"/api/leads/{lead.pk}/reply/", {"body": "Hello?"}, format="json")

    assert response.status_code == 409
    assert_matches_schema(openapi, response)


def test_the_schema_covers_every_api_route(openapi):
    paths = set(SchemaGenerator().get_schema(request=None, public=True)["paths"])
    assert paths == {
        "/api/leads/",
        "/api/leads/{id}/",
        "/api/leads/{id}/history/",
        "/api/leads/{id}/messages/",
        "/api/leads/{id}/reply/",
        "/api/leads/{id}/transitions/",
        "/api/metrics/funnel/",
        "/api/schema/",
    }


def test_a_response_that_breaks_the_schema_is_caught(openapi, api, lead):
    """The check above can fail: a status outside the enum does not validate."""
    response = api.get(f"/api/leads/{lead.pk}/")
    response.content = response.content.replace(b'"PENDING_APPROVAL"', b'"HACKED"')

    with pytest.raises(ResponseValidationError):
        assert_matches_schema(openapi, response)

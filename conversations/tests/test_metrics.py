"""Funnel metrics: leads of a period, their status now and how far they got, in one query."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from conversations import metrics
from conversations.models import Status
from conversations.tests.artists import make_staff
from conversations.tests.test_api import client_with_token

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def at(*args):
    return datetime(*args, tzinfo=UTC)  # London is on UTC in winter


@pytest.fixture
def november(make_lead):
    """Six leads of November 2026, each as far as its status, and two just outside it."""
    for status in [
        Status.NEW,
        Status.QUALIFYING,
        Status.PENDING_APPROVAL,
        Status.AWAITING_DEPOSIT,
        Status.BOOKED,
        Status.REJECTED,
    ]:
        make_lead(status, created_at=at(2026, 11, 5, 12))
    make_lead(Status.BOOKED, created_at=at(2026, 10, 31, 23, 59))
    make_lead(Status.BOOKED, created_at=at(2026, 12, 1, 0, 0))


def stages(funnel):
    return [(s.name, s.reached, s.conversion, s.of_all) for s in funnel.stages]


def test_counts_the_leads_of_the_period_by_their_status_now(november):
    funnel = metrics.funnel(*NOVEMBER)

    assert funnel.leads == 6
    assert {k: v for k, v in funnel.by_status.items() if v} == {
        "NEW": 1,
        "QUALIFYING": 1,
        "PENDING_APPROVAL": 1,
        "AWAITING_DEPOSIT": 1,
        "BOOKED": 1,
        "REJECTED": 1,
    }
    assert set(funnel.by_status) == {status.value for status in Status}


def test_each_stage_counts_the_leads_that_got_at_least_that_far(november):
    assert stages(metrics.funnel(*NOVEMBER)) == [
        ("enquired", 6, 1.0, 1.0),
        ("qualifying", 4, 0.6667, 0.6667),
        ("qualified", 3, 0.75, 0.5),
        ("approved", 2, 0.6667, 0.3333),
        # The booked lead went straight to a booking link: it still got past the deposit.
        ("deposit_paid", 1, 0.5, 0.1667),
        ("booked", 1, 1.0, 0.1667),
    ]


def test_a_stage_nobody_reached_has_no_conversion_after_it(make_lead):
    make_lead(Status.NEW, created_at=at(2026, 11, 5, 12))
    assert stages(metrics.funnel(*NOVEMBER))[1:3] == [
        ("qualifying", 0, 0.0, 0.0),
        ("qualified", 0, None, 0.0),
    ]


def test_an_empty_period_has_no_shares(db):
    funnel = metrics.funnel(*NOVEMBER)
    assert funnel.leads == 0
    assert {(s.conversion, s.of_all) for s in funnel.stages} == {(None, None)}


def test_days_are_local_dates(make_lead):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST).
    make_lead(Status.QUALIFYING, created_at=at(2026, 6, 30, 23, 30))
    assert metrics.funnel(date(2026, 7, 1), date(2026, 7, 1)).leads == 1
    assert metrics.funnel(date(2026, 6, 30), date(2026, 6, 30)).leads == 0


def test_the_funnel_is_one_query_however_many_leads(november, make_lead, django_assert_num_queries):
    for _ in range(10):
        make_lead(Status.BOOKED, created_at=at(2026, 11, 20, 9))
    with django_assert_num_queries(1):
        metrics.funnel(*NOVEMBER)


def test_a_period_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError):
        metrics.funnel(date(2026, 11, 30), date(2026, 11, 1))


@pytest.fixture
def api(db):
    return client_with_token(make_staff("artist", artist=True))


def test_the_api_reports_the_funnel_for_from_and_to(api, november):
    data = api.get("/api/metrics/funnel/", {"from": "2026-11-01", "to": "2026-11-30"}).json()

    assert (data["from"], data["to"], data["leads"]) == ("2026-11-01", "2026-11-30", 6)
    assert data["by_status"]["BOOKED"] == 1
    assert data["stages"][-1] == {
        "name": "booked",
        "reached": 1,
        "conversion": 1.0,
        "of_all": 0.1667,
    }


@time_machine.travel(datetime(2026, 11, 30, 15, tzinfo=UTC), tick=False)
def test_without_dates_the_api_reports_the_last_30_days(api, november):
    data = api.get("/api/metrics/funnel/").json()
    assert (data["from"], data["to"], data["leads"]) == ("2026-11-01", "2026-11-30", 6)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-11-30", "to": "2026-11-01"},
        {"from": "yesterday"},
        {"to": "2026-13-01"},
    ],
)
def test_a_bad_date_range_is_a_400(api, params):
    response = api.get("/api/metrics/funnel/", params)
    assert response.status_code == 400
    assert set(response.json()) <= {"from", "to"}


def test_staff_outside_the_artist_group_may_not_see_the_funnel(db):
    bookkeeper = client_with_token(make_staff("bookkeeper", artist=False))
    assert bookkeeper.get("/api/metrics/funnel/").status_code == 403


def test_the_admin_page_draws_a_bar_per_stage(client, november):
    client.force_login(make_staff("artist", artist=True))

    response = client.get("/admin/funnel/", {"from": "2026-11-01", "to": "2026-11-30"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "6 leads created from" in page
    assert page.count('<td class="bar">') == len(metrics.FUNNEL)
    assert 'style="width: 16.7%"' in page  # booked: one lead of six
    assert "Awaiting Deposit" in page


def test_the_admin_page_says_why_a_range_is_refused(client, db):
    client.force_login(make_staff("artist", artist=True))
    response = client.get("/admin/funnel/", {"from": "2026-11-30", "to": "2026-11-01"})
    assert response.status_code == 200
    assert "The first day must not be after the last." in response.content.decode()
    assert '<td class="bar">' not in response.content.decode()


def test_the_admin_page_is_for_the_artist_only(client, db):
    client.force_login(make_staff("bookkeeper", artist=False))
    assert client.get("/admin/funnel/").status_code == 403


def test_the_admin_page_needs_a_sign_in(client, db):
    response = client.get("/admin/funnel/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_funnel_for_the_artist(client, db):
    client.force_login(make_staff("artist", artist=True))
    # The artist's front page is the lead list (issue 10); the app index is one click away.
    assert 'href="/admin/funnel/"' in client.get("/admin/", follow=True).content.decode()
    assert 'href="/admin/funnel/"' in client.get("/admin/?apps").content.decode()

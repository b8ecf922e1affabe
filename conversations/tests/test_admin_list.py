"""The lead list: needs-you first, groups, search, bulk actions, its query count, who sees it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations import transitions
from conversations.models import (
    Answer,
    Message,
    MessageStatus,
    Status,
    StatusChange,
)
from conversations.tests.artists import make_staff

LIST = reverse("admin:conversations_lead_changelist")


@pytest.fixture
def artist(client, db):
    client.force_login(make_staff("ink", artist=True))
    return client


def listed(artist, **query):
    return list(artist.get(LIST, query).context["cl"].result_list)


def waiting_for(lead, days):
    """The lead entered its status `days` ago."""
    StatusChange.objects.filter(lead=lead).update(created_at=timezone.now() - timedelta(days=days))


def failed_inbound(lead):
    return Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="in",
        external_id=f"wamid.failed-{lead.pk}",
        body="broken",
        status=MessageStatus.FAILED,
    )


def test_the_front_page_of_an_artist_is_the_lead_list(artist):
    assert artist.get("/admin/").url == LIST


def test_needs_you_comes_first_oldest_wait_first_then_open_then_closed(artist, make_lead):
    booked = make_lead(Status.BOOKED)
    newer_reply = make_lead(Status.NEEDS_ARTIST_REPLY)
    qualifying = make_lead(Status.QUALIFYING)
    older_approval = make_lead(Status.PENDING_APPROVAL)
    rejected = make_lead(Status.REJECTED)
    with_failure = make_lead(Status.QUALIFYING)
    failed_inbound(with_failure)
    waiting_for(older_approval, 3)
    waiting_for(newer_reply, 1)
    waiting_for(with_failure, 2)
    waiting_for(rejected, 5)

    assert [lead.pk for lead in listed(artist)] == [
        older_approval.pk,
        with_failure.pk,
        newer_reply.pk,
        qualifying.pk,
        booked.pk,
        rejected.pk,
    ]


@pytest.mark.parametrize(
    ("group", "statuses"),
    [
        ("0", {Status.PENDING_APPROVAL, Status.NEEDS_ARTIST_REPLY, Status.NEEDS_FOLLOW_UP}),
        ("1", {Status.QUALIFYING, Status.AWAITING_DEPOSIT}),
        ("2", {Status.BOOKED}),
        ("3", {Status.REJECTED}),
    ],
)
def test_the_group_filter(artist, make_lead, group, statuses):
    for status in Status.PENDING_APPROVAL, Status.NEEDS_ARTIST_REPLY, Status.NEEDS_FOLLOW_UP:
        make_lead(status)
    for status in Status.QUALIFYING, Status.AWAITING_DEPOSIT, Status.BOOKED, Status.REJECTED:
        make_lead(status)
    assert {lead.status for lead in listed(artist, group=group)} == statuses


def test_the_channel_filter(artist, make_lead, make_client):
    make_lead(Status.QUALIFYING, client=make_client(channel="sms", address="+447700900999"))
    make_lead(Status.QUALIFYING)
    assert [lead.client.channel for lead in listed(artist, channel="sms")] == ["sms"]


def test_search_finds_answer_text_names_and_numbers(artist, make_lead, make_client):
    koi = make_lead(Status.QUALIFYING, client=make_client(display_name="Sam Taylor"))
    Answer.objects.create(lead=koi, question_key="idea", text="A koi fish on my calf")
    Answer.objects.create(lead=koi, question_key="style", text="Koi again, in colour")
    make_lead(Status.QUALIFYING)
    assert listed(artist, q="koi") == [koi]
    assert listed(artist, q="Taylor") == [koi]
    assert listed(artist, q=koi.client.address[-6:]) == [koi]


def test_each_row_shows_the_last_message_and_who_wrote_it(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    Message.objects.create(
        client=lead.client,
        lead=lead,
        channel="whatsapp",
        direction="out",
        body="I'll pass this to the artist.",
        status=MessageStatus.SENT,
        payload={"actor": "bot"},
    )
    html = artist.get(LIST).content.decode()
    assert "<b>Bot:</b> I&#x27;ll pass this to the artist." in html
    assert "Pending approval" in html


def test_each_row_shows_the_estimate_with_the_deposit_in_the_studios_currency(artist, make_lead):
    make_lead(Status.PENDING_APPROVAL, size_category="M", deposit_minor=15000)
    assert "M; deposit £150" in artist.get(LIST).content.decode()


def leads_with_history(make_lead, count):
    for n in range(count):
        lead = make_lead([Status.PENDING_APPROVAL, Status.QUALIFYING, Status.BOOKED][n % 3])
        if n % 5 == 0:
            failed_inbound(lead)


# Session, user, the savepoint and SET LOCAL jit = off, the failure count, the user's and
# group's permissions, the count of the filtered leads, the page's rows with everything each
# row shows, and the savepoint's release.
LIST_QUERIES = 10


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_runs_the_same_queries_however_many_leads(
    artist, make_lead, django_assert_num_queries, count
):
    leads_with_history(make_lead, count)
    with django_assert_num_queries(LIST_QUERIES):
        assert artist.get(LIST).status_code == 200


# -- bulk actions ---------------------------------------------------------------------------


def bulk(artist, action, leads):
    return artist.post(
        LIST, {"action": action, "_selected_action": [lead.pk for lead in leads]}, follow=True
    )


def test_bulk_reject_reports_what_changed_and_what_was_skipped_and_why(artist, make_lead):
    pending, qualifying, booked = (
        make_lead(Status.PENDING_APPROVAL),
        make_lead(Status.QUALIFYING),
        make_lead(Status.BOOKED),
    )
    response = bulk(artist, "reject_selected", [pending, qualifying, booked])
    statuses = {lead.pk: lead.status for lead in (pending, qualifying, booked)}
    for lead in (pending, qualifying, booked):
        lead.refresh_from_db()
    assert [lead.status for lead in (pending, qualifying, booked)] == [
        Status.REJECTED,
        Status.REJECTED,
        Status.BOOKED,
    ]
    assert statuses[booked.pk] == Status.BOOKED
    [report] = [str(m) for m in response.context["messages"]]
    assert report == f"Rejected: 2 changed. Skipped 1: #{booked.pk} (it is booked now)."
    change = StatusChange.objects.filter(lead=pending).latest("created_at", "id")
    assert change.actor == "artist:ink"


def test_bulk_set_aside(artist, make_lead):
    waiting, qualifying = make_lead(Status.PENDING_APPROVAL), make_lead(Status.QUALIFYING)
    response = bulk(artist, "mark_stale_selected", [waiting, qualifying])
    waiting.refresh_from_db()
    assert waiting.status == Status.STALE
    [report] = [str(m) for m in response.context["messages"]]
    assert report == f"Set aside: 1 changed. Skipped 1: #{qualifying.pk} (it is qualifying now)."


def test_bulk_hand_back_reasks_each_client(artist, make_lead, seeded_script):
    taken = [make_lead(Status.NEEDS_ARTIST_REPLY) for _ in range(2)]
    bulk(artist, "hand_back_selected", taken)
    for lead in taken:
        lead.refresh_from_db()
        assert lead.status == Status.QUALIFYING
        assert Message.objects.outbound().filter(lead=lead).count() == 1


def test_a_bulk_action_on_leads_moved_meanwhile_skips_them(artist, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    transitions.transition(lead, "reject", reason="", actor="api:jo")
    response = bulk(artist, "mark_stale_selected", [lead])
    lead.refresh_from_db()
    assert lead.status == Status.REJECTED
    [report] = [str(m) for m in response.context["messages"]]
    assert report == f"Set aside: 0 changed. Skipped 1: #{lead.pk} (it is rejected now)."


# -- who sees it ----------------------------------------------------------------------------


@pytest.fixture
def staff_without_the_group(client, db):
    client.force_login(make_staff("helper", artist=False))
    return client


def test_staff_without_the_artist_group_see_nothing_of_the_leads(
    staff_without_the_group, make_lead
):
    lead = make_lead(Status.PENDING_APPROVAL)
    assert staff_without_the_group.get(LIST).status_code == 403
    page = reverse("admin:conversations_lead_change", args=[lead.pk])
    assert staff_without_the_group.get(page).status_code in (302, 403)
    index = staff_without_the_group.get("/admin/")
    assert index.status_code == 200
    assert b"Leads" not in index.content
    failures = reverse("admin:conversations_message_failures")
    assert staff_without_the_group.get(failures).status_code == 403


def test_staff_without_the_group_cannot_act(staff_without_the_group, make_lead):
    lead = make_lead(Status.PENDING_APPROVAL)
    staff_without_the_group.post(
        reverse("admin:conversations_lead_transition", args=[lead.pk, "approve"])
    )
    staff_without_the_group.post(
        reverse("admin:conversations_lead_reply", args=[lead.pk]), {"body": "hi"}
    )
    lead.refresh_from_db()
    assert lead.status == Status.PENDING_APPROVAL
    assert not Message.objects.exists()

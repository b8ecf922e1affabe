"""Latest wins: the current answer for a key is the newest by (created_at, id)."""

from datetime import timedelta

from django.utils import timezone

from conversations.models import Answer


def test_the_newest_answer_by_time_wins(make_lead):
    lead = make_lead()
    now = timezone.now()
    Answer.objects.create(lead=lead, question_key="budget", text="£800", created_at=now)
    Answer.objects.create(
        lead=lead, question_key="budget", text="£500", created_at=now - timedelta(minutes=1)
    )
    assert lead.current_answers()["budget"].text == "£800"


def test_equal_timestamps_are_broken_by_the_highest_id(make_lead):
    lead = make_lead()
    now = timezone.now()
    for text in ["£400", "£600", "£900"]:
        Answer.objects.create(lead=lead, question_key="budget", text=text, created_at=now)
    assert lead.current_answers()["budget"].text == "£900"


def test_answers_of_other_keys_and_leads_stay_separate(make_lead):
    lead, other = make_lead(), make_lead()
    Answer.objects.create(lead=lead, question_key="idea", text="a rose")
    Answer.objects.create(lead=lead, question_key="placement", text="forearm")
    Answer.objects.create(lead=other, question_key="idea", text="a wolf")
    answers = lead.current_answers()
    assert {key: answer.text for key, answer in answers.items()} == {
        "idea": "a rose",
        "placement": "forearm",
    }


def test_current_answers_is_one_query(make_lead, django_assert_num_queries):
    lead = make_lead()
    for key in ["idea", "placement", "budget", "budget"]:
        Answer.objects.create(lead=lead, question_key=key, text=key)
    with django_assert_num_queries(1):
        assert len(lead.current_answers()) == 3

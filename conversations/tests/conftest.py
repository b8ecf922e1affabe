"""Small fixtures shared by the conversation tests."""

import itertools
from collections import deque

import pytest

from conversations import lifecycle
from conversations.models import TRANSITIONS, Client, Lead, Status

_phones = itertools.count(447700900001)


def path_to(status):
    """The shortest list of transition names that takes a NEW lead to `status`."""
    queue, seen = deque([(Status.NEW, [])]), {Status.NEW}
    while queue:
        current, path = queue.popleft()
        if current == status:
            return path
        for name, (sources, target) in TRANSITIONS.items():
            targets = target if isinstance(target, tuple) else (target,)
            if current in sources and name != "resume":
                for nxt in targets:
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append((nxt, [*path, name]))
    raise AssertionError(f"{status} is unreachable from NEW")


@pytest.fixture
def make_client(db):
    def make(**fields):
        fields.setdefault("channel", "whatsapp")
        fields.setdefault("address", str(next(_phones)))
        return Client.objects.create(**fields)

    return make


@pytest.fixture
def make_lead(make_client):
    """A lead brought to `status` through real transitions (there is no other way in)."""

    def make(status=Status.NEW, client=None, **fields):
        lead = Lead.objects.create(client=client or make_client(), **fields)
        for name in path_to(status):
            lead = lifecycle.transition(lead, name, reason="fixture", actor="test")
        return lead

    return make

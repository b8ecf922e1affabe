"""The REST API: leads, their transcript and history, transitions, artist replies, metrics."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from conversations import metrics, outbox, transitions
from conversations.channels.base import normalise_address
from conversations.flows import artist, script
from conversations.flows.artist import ARTIST_TRANSITIONS
from conversations.models import (
    TRANSITIONS,
    Lead,
    Message,
    Question,
    Status,
    StatusChange,
    StudioSettings,
)


class ArtistPermissions(permissions.BasePermission):
    """Each action needs the model permissions the Artist group holds; other staff get 403."""

    REQUIRED = {
        "list": ["view_lead"],
        "retrieve": ["view_lead", "view_answer"],
        "messages": ["view_lead", "view_message"],
        "history": ["view_lead", "view_statuschange"],
        # The same permission the admin's buttons and reply box need, as in the admin.
        "transitions": ["view_lead", "change_lead"],
        "reply": ["view_lead", "change_lead", "add_message"],
        "funnel": ["view_lead", "view_statuschange"],
    }

    @classmethod
    def may(cls, user, action):
        return user.has_perms([f"conversations.{codename}" for codename in cls.REQUIRED[action]])

    def has_permission(self, request, view):
        # An action not listed (OPTIONS metadata, a new one) is refused until it is.
        return view.action in self.REQUIRED and self.may(request.user, view.action)


class LeadFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(method="filter_phone")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Lead
        fields = ["phone", "status"]

    def filter_phone(self, queryset, name, value):
        # Addresses are stored normalised, so "+44 7700 900123" finds 447700900123.
        return queryset.filter(client__address=normalise_address(value.strip()))


class LeadSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="client.address", read_only=True)
    channel = serializers.CharField(source="client.channel", read_only=True)
    current_question = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text="Transitions this user may take now (POST …/transitions/): the artist's."
    )
    bot_transitions = serializers.SerializerMethodField(
        help_text="Transitions open now that only the bot, the client or the sweeps take."
    )
    available_transitions = serializers.SerializerMethodField(
        help_text="Deprecated: `actions` and `bot_transitions` together."
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "phone",
            "channel",
            "status",
            "current_step",
            "current_question",
            "handover_reason",
            "actions",
            "bot_transitions",
            "available_transitions",
            "created_at",
            "updated_at",
        ]

    def _script(self):
        # One query per request, however many leads are serialised.
        if "script" not in self.context:
            self.context["script"] = list(Question.objects.script().values("key", "prompt"))
        return self.context["script"]

    def get_current_question(self, lead) -> dict | None:
        script = self._script()
        return script[lead.current_step] if lead.current_step < len(script) else None

    def _may_act(self):
        if "may_act" not in self.context:
            request = self.context.get("request")
            self.context["may_act"] = request is not None and ArtistPermissions.may(
                request.user, "transitions"
            )
        return self.context["may_act"]

    def get_actions(self, lead) -> list[str]:
        if not self._may_act():
            return []
        return [name for name in lead.available_transition_names() if name in ARTIST_TRANSITIONS]

    def get_bot_transitions(self, lead) -> list[str]:
        names = lead.available_transition_names()
        return [name for name in names if name not in ARTIST_TRANSITIONS]

    def get_available_transitions(self, lead) -> list[str]:
        return lead.available_transition_names()


class FactSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField(help_text="As the client's summary reads it")
    text = serializers.CharField(help_text="What the client wrote")


class LeadDetailSerializer(LeadSerializer):
    answers = serializers.SerializerMethodField()
    facts = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [
            *LeadSerializer.Meta.fields[:6],
            "answers",
            "facts",
            *LeadSerializer.Meta.fields[6:],
        ]

    def to_representation(self, lead):
        # `answers` and `facts` read the same current answers: one query for both.
        self._current = lead.current_answers()
        return super().to_representation(lead)

    def get_answers(self, lead) -> dict[str, str]:
        return {key: answer.text for key, answer in self._current.items()}

    @extend_schema_field(FactSerializer(many=True))
    def get_facts(self, lead):
        # The same rows, read the same way, as the confirmation summary and the admin's page.
        questions = list(Question.objects.script())
        facts = script.facts(lead, questions, StudioSettings.load(), self._current)
        return [vars(fact) for fact in facts]

    def get_actions(self, lead) -> list[str]:
        # One lead: what `artist.act` accepts now (a handover narrows the state machine's list).
        return artist.actions_for(lead) if self._may_act() else []


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "direction", "kind", "body", "status", "external_id", "created_at"]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusChange
        fields = ["id", "from_status", "to_status", "transition", "reason", "actor", "created_at"]


class TransitionRequestSerializer(serializers.Serializer):
    transition = serializers.ChoiceField(choices=sorted(TRANSITIONS))
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class ReplyRequestSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4096, trim_whitespace=True)


class FunnelPeriodSerializer(serializers.Serializer):
    """`?from=&to=`: local dates, both included; the last 30 days when left out."""

    def get_fields(self):
        # "from" is a Python keyword, so the fields are named here rather than as attributes.
        return {
            "from": serializers.DateField(required=False, help_text="First day (YYYY-MM-DD)"),
            "to": serializers.DateField(required=False, help_text="Last day (YYYY-MM-DD)"),
        }

    def validate(self, attrs):
        default_start, default_end = metrics.default_period()
        end = attrs.get("to", default_end)
        start = attrs.get("from", min(default_start, end))
        if start > end:
            raise serializers.ValidationError({"from": "must not be after `to`"})
        return {"from": start, "to": end}


class FunnelStageSerializer(serializers.Serializer):
    name = serializers.CharField()
    reached = serializers.IntegerField(help_text="Leads that got at least this far")
    conversion = serializers.FloatField(
        allow_null=True, help_text="Share of the previous stage; null when it had none"
    )
    of_all = serializers.FloatField(allow_null=True, help_text="Share of every lead")


class FunnelSerializer(serializers.Serializer):
    def get_fields(self):
        return {
            "from": serializers.DateField(source="start"),
            "to": serializers.DateField(source="end"),
            "leads": serializers.IntegerField(help_text="Leads created in the period"),
            "by_status": serializers.DictField(
                child=serializers.IntegerField(), help_text="Those leads by their status now"
            ),
            "stages": FunnelStageSerializer(many=True),
        }


def refusal(name, **fields):
    return inline_serializer(name, {"detail": serializers.CharField(), **fields})


NAMES = serializers.ListField(child=serializers.CharField())
VALIDATION_ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid request")


@extend_schema_view(
    list=extend_schema(responses={200: LeadSerializer(many=True), 400: VALIDATION_ERROR})
)
class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The artist's view of leads; every status change goes through `artist.act`."""

    queryset = Lead.objects.select_related("client").order_by("-created_at", "-id")
    filterset_class = LeadFilter
    permission_classes = [permissions.IsAdminUser, ArtistPermissions]

    def get_serializer_class(self):
        return LeadSerializer if self.action == "list" else LeadDetailSerializer

    def actor(self):
        return f"api:{self.request.user.get_username()}"

    @extend_schema(responses=MessageSerializer(many=True))
    @action(detail=True)
    def messages(self, request, pk=None):
        lead = self.get_object()
        page = self.paginate_queryset(lead.messages.order_by("created_at", "id"))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True)
    def history(self, request, pk=None):
        lead = self.get_object()
        page = self.paginate_queryset(lead.status_changes.order_by("created_at", "id"))
        return self.get_paginated_response(StatusChangeSerializer(page, many=True).data)

    @extend_schema(
        request=TransitionRequestSerializer,
        responses={
            200: LeadDetailSerializer,
            400: VALIDATION_ERROR,
            403: OpenApiResponse(
                refusal("BotOnlyRefusal", actions=NAMES),
                description="Not allowed, or the bot's own transition (no artist takes it)",
            ),
            409: OpenApiResponse(
                refusal("TransitionConflict", status=serializers.CharField(), allowed=NAMES),
                description="Not allowed from the lead's status now",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        lead = self.get_object()
        params = TransitionRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            lead = artist.act(
                lead,
                params.validated_data["transition"],
                reason=params.validated_data["reason"],
                actor=self.actor(),
            )
        except artist.BotOnly as exc:
            return Response(
                {"detail": str(exc), "actions": self._actions(lead)},
                status=status.HTTP_403_FORBIDDEN,
            )
        except transitions.TransitionNotAllowed as exc:
            lead.refresh_from_db()
            return Response(
                {"detail": str(exc), "status": lead.status, "allowed": self._actions(lead)},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(LeadDetailSerializer(lead, context=self.get_serializer_context()).data)

    def _actions(self, lead):
        return artist.actions_for(lead)

    @extend_schema(
        request=ReplyRequestSerializer,
        responses={
            201: MessageSerializer,
            400: VALIDATION_ERROR,
            409: OpenApiResponse(refusal("OptedOutRefusal"), description="The client opted out"),
        },
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        lead = self.get_object()
        params = ReplyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            message = artist.reply(lead, params.validated_data["body"], actor=self.actor())
        except outbox.OptedOut:
            return Response(
                {"detail": "The client opted out; nothing was sent."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MetricsViewSet(viewsets.ViewSet):
    """Aggregates for the artist (conversations/metrics.py does the counting)."""

    permission_classes = [permissions.IsAdminUser, ArtistPermissions]

    @extend_schema(
        parameters=[FunnelPeriodSerializer],
        responses={200: FunnelSerializer, 400: VALIDATION_ERROR},
    )
    @action(detail=False)
    def funnel(self, request):
        """Leads created in the period: their status now, and how many reached each stage."""
        period = FunnelPeriodSerializer(data=request.query_params)
        period.is_valid(raise_exception=True)
        result = metrics.funnel(period.validated_data["from"], period.validated_data["to"])
        return Response(FunnelSerializer(result).data)


router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("metrics", MetricsViewSet, basename="metrics")

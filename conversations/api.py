"""The REST API: leads, their transcript and history, transitions and artist replies."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from conversations import outbox, transitions
from conversations.models import TRANSITIONS, Lead, Message, Question, Status, StatusChange


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
    }

    def has_permission(self, request, view):
        # An action not listed (OPTIONS metadata, a new one) is refused until it is.
        required = self.REQUIRED.get(view.action)
        return required is not None and request.user.has_perms(
            [f"conversations.{codename}" for codename in required]
        )


class LeadFilter(django_filters.FilterSet):
    phone = django_filters.CharFilter(method="filter_phone")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Lead
        fields = ["phone", "status"]

    def filter_phone(self, queryset, name, value):
        # Clients write numbers with or without the leading plus; WhatsApp ids have none.
        digits = value.strip().lstrip("+")
        return queryset.filter(client__address__in=[digits, f"+{digits}"])


class LeadSerializer(serializers.ModelSerializer):
    phone = serializers.CharField(source="client.address", read_only=True)
    channel = serializers.CharField(source="client.channel", read_only=True)
    current_question = serializers.SerializerMethodField()
    available_transitions = serializers.SerializerMethodField()

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

    def get_available_transitions(self, lead) -> list[str]:
        return lead.available_transition_names()


class LeadDetailSerializer(LeadSerializer):
    answers = serializers.SerializerMethodField()

    class Meta(LeadSerializer.Meta):
        fields = [*LeadSerializer.Meta.fields[:6], "answers", *LeadSerializer.Meta.fields[6:]]

    def get_answers(self, lead) -> dict[str, str]:
        return {key: answer.text for key, answer in lead.current_answers().items()}


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


class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The artist's view of leads; every status change goes through `transitions.transition`."""

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

    @extend_schema(request=TransitionRequestSerializer, responses=LeadDetailSerializer)
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        lead = self.get_object()
        params = TransitionRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            lead = transitions.transition(
                lead,
                params.validated_data["transition"],
                reason=params.validated_data["reason"],
                actor=self.actor(),
            )
        except transitions.TransitionNotAllowed as exc:
            lead.refresh_from_db()
            return Response(
                {
                    "detail": str(exc),
                    "status": lead.status,
                    "allowed": lead.available_transition_names(),
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(LeadDetailSerializer(lead, context=self.get_serializer_context()).data)

    @extend_schema(request=ReplyRequestSerializer, responses=MessageSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        lead = self.get_object()
        params = ReplyRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            message = outbox.queue_artist_reply(
                lead, params.validated_data["body"], actor=self.actor()
            )
        except outbox.OptedOut:
            return Response(
                {"detail": "The client opted out; nothing was sent."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


router = DefaultRouter()
router.register("leads", LeadViewSet, basename="lead")

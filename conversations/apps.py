from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = "Conversations"

    def ready(self):
        # Registers the transition hook that re-asks the current question after any `resume`
        # (admin, API or the client's CONTINUE). Added by the consultation flow (issue 4).
        from conversations.flows import handover  # noqa: F401

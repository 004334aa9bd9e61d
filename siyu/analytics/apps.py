from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "siyu.analytics"
    label = "analytics"

    def ready(self) -> None:
        from .buyers import register_buyer_summary_handlers
        from .clv_segments import register_clv_segment_fields

        register_clv_segment_fields()
        register_buyer_summary_handlers()

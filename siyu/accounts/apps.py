from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "siyu.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        # The project's system checks (deploy settings, SMS backend) register on import.
        from siyu.core import checks  # noqa: F401

        from .sessions import on_user_logged_in, on_user_logged_out

        user_logged_in.connect(on_user_logged_in, dispatch_uid="siyu.accounts.session_register")
        user_logged_out.connect(on_user_logged_out, dispatch_uid="siyu.accounts.session_forget")

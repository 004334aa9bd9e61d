from django.test import Client


def login_client(member) -> Client:
    """A client signed in as `member`, in English so tests can read messages without compiled catalogues."""
    client = Client()
    client.force_login(member.user)
    client.cookies["django_language"] = "en"
    return client

"""The Flask app: chat API, the website page, health (and later Kakao, staff console, FAQ admin)."""

__all__ = ["app", "conversation", "rasa_client", "settings", "transcripts"]

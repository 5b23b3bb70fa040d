"""The Flask app: chat API, website widget and demo page, KakaoTalk skill endpoint, health."""

__all__ = [
    "api",
    "app",
    "conversation",
    "kakao",
    "kakao_delivery",
    "rasa_client",
    "settings",
    "skill_response",
    "transcripts",
    "web",
    "widget",
]

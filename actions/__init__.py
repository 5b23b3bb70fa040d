"""The rasa-sdk action server: thin actions that ask knowledge/ and turn answers into messages."""

__all__ = ["answer", "handoff", "render", "server", "settings"]

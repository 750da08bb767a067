"""The Telegram side: handlers, rendering, callback data, outbox sender, application."""

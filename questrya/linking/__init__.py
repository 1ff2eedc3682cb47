"""The linking slice: one player across Telegram, Discord and the console, by one-time codes."""

"""The Discord adapter (discord.py): slash commands, buttons, replies and the bot's start-up."""

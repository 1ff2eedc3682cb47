"""The notifications slice: messages pushed into chats, delivered once per event."""

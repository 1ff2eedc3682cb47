"""The groups slice: group chats, their feed, and what their members share there."""

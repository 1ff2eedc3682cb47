"""What to play next: ranking a player's own backlog (/next)."""

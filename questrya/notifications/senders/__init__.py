"""One sender per chat platform, all behind the `Sender` interface."""

"""Shared building blocks: typed errors, value objects, clock and text helpers."""

"""The releases slice: telling players when a game on their wishlist comes out."""

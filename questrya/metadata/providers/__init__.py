"""Games databases behind one interface: the bundled catalog, RAWG and IGDB."""

"""Browser tests of the /ui pages."""

"""Small web pages for people at the chair and in the office: static files that call the JSON API."""

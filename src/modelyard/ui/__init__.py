"""The web application, built from `ui/` into `static/` here and served at `/`."""

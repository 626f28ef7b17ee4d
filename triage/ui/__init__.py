"""The Textual console: app, screens, widgets. The only package that imports textual."""

"""Routers, one module per feature. `app.main` includes every module here that defines `router`.

A module that serves a page also defines `PAGE = {"path", "title", "blurb", "order"}`; the navigation bar
and the home page list those pages.
"""

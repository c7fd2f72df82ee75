"""The `handover` command: share files from a terminal through the site's documented HTTP API.

It is a client like any other: it imports nothing of the app (chalicelib/) and never
reaches the Lambda package, which carries only app.py, chalicelib/ and templates/.
"""

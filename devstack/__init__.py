"""Dev-only code: the embedded local AWS (`make dev`, tests) and the hosted-login stand-in.

Never part of the Lambda package: `chalice package` ships only app.py, chalicelib/ and vendor/.
"""

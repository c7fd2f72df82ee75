"""`make deploy` and `make destroy`: dev tooling that never ships in the Lambda package."""
